"""`create_worker`: a temporalio `Worker` hosting chains, graphs, workflows and steps."""

from __future__ import annotations

import concurrent.futures
import inspect
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import temporalio.client
import temporalio.worker

from beluga_temporal import _sdk
from beluga_temporal.engine import (
    MAP_BATCH_WORKFLOW,
    MapBatch,
    WorkflowTarget,
    unique_steps,
    uses_batches,
    versions_of,
    workflow_classes,
)
from beluga_temporal.errors import DefinitionError
from beluga_temporal.plan import RetryPolicy, StepDefinition, set_default_retry
from beluga_temporal.plugin import with_beluga_plugin
from beluga_temporal.worker._activity import StepBody
from beluga_temporal.worker._start import start_activity

WorkerTarget = WorkflowTarget | type
"""A `Chain`, a `Graph` or a hand-written `@workflow.defn` class."""


def workflows_of(targets: Iterable[WorkerTarget]) -> list[type]:
    """Return the workflow classes to register for `targets` (nested targets included)."""
    classes: dict[str, type] = {}
    generated: list[WorkflowTarget] = []
    for target in targets:
        if isinstance(target, WorkflowTarget):
            generated.append(target)
        elif _sdk.is_workflow_class(target):
            classes.setdefault(_workflow_name(target), target)
        else:
            raise DefinitionError(
                f"cannot host {target!r}: a worker target is a Chain, a Graph or a "
                "@workflow.defn class"
            )
    # one class per workflow type: of two versions of a chain or graph, the newer
    for cls in workflow_classes(generated):
        classes.setdefault(_workflow_name(cls), cls)
        versions = versions_of(cls)
        if versions is not None and any(map(uses_batches, versions.by_fingerprint.values())):
            classes.setdefault(MAP_BATCH_WORKFLOW, MapBatch)  # batches of map nodes
    return list(classes.values())


def _workflow_name(cls: type) -> str:
    return _sdk.workflow_name(cls) or cls.__name__


Overrides = Mapping[StepDefinition | str, Callable[..., Any]]
"""Steps (or activity names) to run with another function: `{charge: fake_charge}`."""


def overridden(steps: Iterable[StepDefinition], overrides: Overrides) -> list[StepDefinition]:
    """`steps` with the overridden ones replaced, under the same name and options.

    Raises:
        DefinitionError: An override names no step of `steps`.
    """
    by_name = {key if isinstance(key, str) else key.name: fn for key, fn in overrides.items()}
    steps = list(steps)
    unknown = sorted(set(by_name) - {step.name for step in steps})
    if unknown:
        raise DefinitionError(
            f"overrides name no step of the target: {', '.join(unknown)} "
            f"(its steps: {', '.join(sorted(step.name for step in steps))})"
        )
    return [
        StepDefinition(getattr(by_name[s.name], "fn", by_name[s.name]), s.options)
        if s.name in by_name
        else s
        for s in steps
    ]


def step_activities(
    targets: Iterable[WorkerTarget],
    activities: Iterable[Callable[..., Any]] = (),
    overrides: Overrides | None = None,
) -> list[Callable[..., Any]]:
    """Return the activity callables to register for `targets` and extra `activities`.

    Steps (from targets or listed) become their activity bodies: input validated
    against the input type, errors classified, results checked against the return type.
    Other callables must be temporalio activities and are registered as they are
    (temporalio rejects two activities with one name).
    Register these on a plain temporalio `Worker` to host beluga targets without
    `create_worker`.
    """
    steps: list[StepDefinition] = []
    others: list[Callable[..., Any]] = []
    for target in targets:
        if isinstance(target, WorkflowTarget):
            steps.extend(target.activities)
    for activity in activities:
        if isinstance(activity, StepDefinition):
            steps.append(activity)
        else:
            others.append(activity)
    if overrides:
        steps = overridden(unique_steps(steps), overrides)
    bodies = [StepBody.of(step).activity() for step in unique_steps(steps)]
    return [*bodies, *others]


def _needs_thread_pool(targets: Iterable[WorkerTarget], activities: Sequence[Any]) -> bool:
    steps = [s for t in targets if isinstance(t, WorkflowTarget) for s in t.activities]
    steps += [a for a in activities if isinstance(a, StepDefinition)]
    return any(not step.is_async for step in steps) or any(
        not isinstance(a, StepDefinition) and not inspect.iscoroutinefunction(a) for a in activities
    )


def create_worker(
    client: temporalio.client.Client,
    task_queue: str,
    *,
    targets: Sequence[WorkerTarget] = (),
    activities: Sequence[Callable[..., Any]] = (),
    max_concurrent_activities: int | None = None,
    max_task_queue_activities_per_second: float | None = None,
    default_retry: RetryPolicy | None = None,
    overrides: Overrides | None = None,
    **worker_options: Any,
) -> temporalio.worker.Worker:
    """Create a temporalio `Worker` hosting `targets` and their steps.

    Args:
        client: A connected client (ideally from `Orchestrator` or with `BelugaPlugin`).
        task_queue: The task queue to poll.
        targets: Chains, graphs and hand-written workflow classes. Their previous
            versions and the chains and graphs they nest are hosted too.
        activities: Extra steps or temporalio activities (e.g. those hand-written
            workflows call). Each activity name is registered once.
        max_concurrent_activities: Most activities this worker runs at once.
        max_task_queue_activities_per_second: Rate limit shared by all workers of the
            task queue (e.g. a budget for an LLM queue).
        default_retry: Retry policy for steps without one that hand-written workflows
            call (process-wide; e.g. from `orchestration.workflow.max_retries`).
        overrides: Steps to run with another function, under the step's own name and
            options (tests: `{charge: fake_charge}`).
        **worker_options: Passed to `temporalio.worker.Worker` (e.g. `deployment_config`
            for Worker Deployment versioning).

    Returns:
        The worker; run it with `async with worker:` or `await worker.run()`.
    """
    workflows = workflows_of(targets)
    all_activities = step_activities(targets, activities, overrides)
    if workflows:
        all_activities.append(start_activity(workflows))
    if default_retry is not None:
        set_default_retry(default_retry)
    options: dict[str, Any] = dict(worker_options)
    if max_concurrent_activities is not None:
        options["max_concurrent_activities"] = max_concurrent_activities
    if max_task_queue_activities_per_second is not None:
        options["max_task_queue_activities_per_second"] = max_task_queue_activities_per_second
    if _needs_thread_pool(targets, activities) and "activity_executor" not in options:
        options["activity_executor"] = concurrent.futures.ThreadPoolExecutor(
            max_workers=max_concurrent_activities or 100, thread_name_prefix="beluga-step"
        )
    # the data converter and its payload codec are the client's: a plain client gets a
    # sibling with the plugin (same connection) rather than a worker-only plugin
    client = with_beluga_plugin(client)
    return temporalio.worker.Worker(
        client,
        task_queue=task_queue,
        workflows=workflows,
        activities=all_activities,
        **options,
    )
