"""`create_worker`: a temporalio `Worker` hosting chains, graphs, workflows and steps."""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import temporalio.activity
import temporalio.client
import temporalio.worker

from beluga_temporal.declare import Step, Target
from beluga_temporal.errors import DefinitionError
from beluga_temporal.plan._options import RetryPolicy, set_default_retry
from beluga_temporal.worker._plugin import with_beluga_plugin

WorkerTarget = Target | type
"""A `Chain`, a `Graph` or a hand-written `@workflow.defn` class."""


def workflows_of(targets: Iterable[WorkerTarget]) -> list[type]:
    """Return the workflow classes to register for `targets`."""
    classes: list[type] = []
    for target in targets:
        if isinstance(target, Target):
            classes.append(target.workflow)
        elif isinstance(target, type) and hasattr(target, "__temporal_workflow_definition"):
            classes.append(target)
        else:
            raise DefinitionError(
                f"cannot host {target!r}: a worker target is a Chain, a Graph or a "
                "@workflow.defn class"
            )
    return classes


def activities_of(
    targets: Iterable[WorkerTarget], activities: Iterable[Callable[..., Any]]
) -> list[Callable[..., Any]]:
    """Return every activity to register, each activity name once."""
    found: dict[str, Callable[..., Any]] = {}
    candidates: list[Callable[..., Any]] = []
    for target in targets:
        if isinstance(target, Target):
            candidates.extend(target.activities)
    candidates.extend(activities)
    for activity in candidates:
        name = _activity_name(activity)
        known = found.get(name)
        if known is not None and _fn(known) is not _fn(activity):
            raise DefinitionError(f"two different activities are registered as '{name}'")
        found.setdefault(name, activity)
    return list(found.values())


def _activity_name(activity: Callable[..., Any]) -> str:
    definition = temporalio.activity._Definition.from_callable(activity)
    if definition is None or definition.name is None:
        raise DefinitionError(f"{activity!r} is neither a @step nor a temporalio activity")
    return definition.name


def _fn(activity: Callable[..., Any]) -> Any:
    return activity.fn if isinstance(activity, Step) else activity


def _needs_thread_pool(activities: Sequence[Callable[..., Any]]) -> bool:
    return any(
        not temporalio.activity._Definition.must_from_callable(a).is_async for a in activities
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
    **worker_options: Any,
) -> temporalio.worker.Worker:
    """Create a temporalio `Worker` hosting `targets` and their steps.

    Args:
        client: A connected client (ideally from `Orchestrator` or with `BelugaPlugin`).
        task_queue: The task queue to poll.
        targets: Chains, graphs and hand-written workflow classes.
        activities: Extra steps or temporalio activities (e.g. those hand-written
            workflows call). Each activity name is registered once.
        max_concurrent_activities: Most activities this worker runs at once.
        max_task_queue_activities_per_second: Rate limit shared by all workers of the
            task queue (e.g. a budget for an LLM queue).
        default_retry: Retry policy for steps without one that hand-written workflows
            call (process-wide; e.g. from `orchestration.workflow.max_retries`).
        **worker_options: Passed to `temporalio.worker.Worker`.

    Returns:
        The worker; run it with `async with worker:` or `await worker.run()`.
    """
    all_activities = activities_of(targets, activities)
    if default_retry is not None:
        set_default_retry(default_retry)
    options: dict[str, Any] = dict(worker_options)
    if max_concurrent_activities is not None:
        options["max_concurrent_activities"] = max_concurrent_activities
    if max_task_queue_activities_per_second is not None:
        options["max_task_queue_activities_per_second"] = max_task_queue_activities_per_second
    if _needs_thread_pool(all_activities) and "activity_executor" not in options:
        options["activity_executor"] = concurrent.futures.ThreadPoolExecutor(
            max_workers=max_concurrent_activities or 100, thread_name_prefix="beluga-step"
        )
    # the data converter and its payload codec are the client's: a plain client gets a
    # sibling with the plugin (same connection) rather than a worker-only plugin
    client = with_beluga_plugin(client)
    return temporalio.worker.Worker(
        client,
        task_queue=task_queue,
        workflows=workflows_of(targets),
        activities=all_activities,
        **options,
    )
