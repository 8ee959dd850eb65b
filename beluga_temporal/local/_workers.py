"""The in-process workers of a `LocalRuntime`: every queue a target uses, no task stealing.

A target's workflow runs on a private queue (`beluga-local-<hex>`) and each task queue
its steps name (`@step(task_queue="llm")`) gets one worker in this process. One worker
per queue, never two: two workers with different registrations on one queue would take
each other's tasks and fail those they do not host (temporalio also refuses a second
worker for a queue on one client). When another target needs more on a queue already
served, the old worker is shut down and one hosting the union takes its place; tasks
scheduled meanwhile wait in the queue, and steps it was running are cancelled and
retried by their retry policy. That happens only the first time a target is served.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import temporalio.client
import temporalio.worker

from beluga_temporal import _sdk
from beluga_temporal.client import step_queue
from beluga_temporal.engine import WorkflowTarget
from beluga_temporal.errors import ConfigurationError, DefinitionError
from beluga_temporal.plan import StepDefinition
from beluga_temporal.worker import Overrides, WorkerTarget, create_worker

logger = logging.getLogger(__name__)

WORKER_STOP_TIMEOUT = 10.0
"""Seconds a worker gets to stop (a sync step cannot be interrupted; it is not awaited)."""


def activity_name(activity: Callable[..., Any]) -> str:
    """The activity type name of a `@step` or temporalio activity."""
    if isinstance(activity, StepDefinition):
        return activity.name
    name = _sdk.activity_name(activity)
    if name is None:
        raise DefinitionError(f"{activity!r} is neither a @step nor a temporalio activity")
    return name


def workflow_class(target: WorkerTarget) -> type:
    """The `@workflow.defn` class of a chain, graph or workflow class."""
    if isinstance(target, WorkflowTarget):
        return target.workflow
    if _sdk.is_workflow_class(target):
        assert isinstance(target, type)
        return target
    raise ConfigurationError(
        f"the local runtime needs the Chain, Graph or workflow class, not {target!r}"
    )


def target_activities(target: WorkerTarget, extra: Sequence[Callable[..., Any]]) -> list[Any]:
    """The target's own steps (nested targets' included) plus `extra`."""
    own = target.activities if isinstance(target, WorkflowTarget) else []
    return [*own, *extra]


@dataclasses.dataclass
class _Hosted:
    targets: dict[type, WorkerTarget]
    activities: dict[str, Callable[..., Any]]
    worker: temporalio.worker.Worker
    task: asyncio.Task[None]

    def covers(self, targets: dict[type, WorkerTarget], activities: dict[str, Any]) -> bool:
        return targets.keys() <= self.targets.keys() and all(
            _fn(self.activities.get(name)) is _fn(fn) for name, fn in activities.items()
        )


def _fn(activity: Any) -> Any:
    return getattr(activity, "fn", activity)


def _by_name(activities: Iterable[Callable[..., Any]]) -> dict[str, Callable[..., Any]]:
    found: dict[str, Callable[..., Any]] = {}
    for activity in activities:
        name = activity_name(activity)
        known = found.setdefault(name, activity)
        if _fn(known) is not _fn(activity):
            raise DefinitionError(
                f"two different functions are registered as activity '{name}' on one "
                "task queue; give one of the steps another name"
            )
    return found


class Workers:
    """One worker per task queue, each hosting everything asked of that queue so far."""

    def __init__(self, client: temporalio.client.Client) -> None:
        self.client = client
        self._queues: dict[type, str] = {}  # workflow class -> its private queue
        self._overridden: dict[tuple[Any, ...], str] = {}  # (class, overrides) -> queue
        self._hosted: dict[str, _Hosted] = {}
        self._lock = asyncio.Lock()

    def queues(self) -> list[str]:
        """Every task queue served, sorted."""
        return sorted(self._hosted)

    async def serve(
        self,
        target: WorkerTarget,
        activities: Sequence[Callable[..., Any]] = (),
        overrides: Overrides | None = None,
    ) -> str:
        """Make sure `target` and its steps are served; return its workflow's queue.

        With `overrides`, the target runs on a queue of its own whose worker registers
        each replacement under the overridden step's name (other runs are unaffected).
        """
        cls = workflow_class(target)
        steps = target_activities(target, activities)
        async with self._lock:  # one change at a time: no two workers per queue
            if overrides:
                return await self._serve_overridden(target, cls, activities, steps, overrides)
            queue = self._queues.setdefault(cls, f"beluga-local-{uuid.uuid4().hex[:8]}")
            # The workflow's worker also hosts its local steps and steps without a queue.
            await self._ensure(queue, {cls: target}, _by_name(activities))
            for name, group in _group_by_queue(steps).items():
                await self._ensure(name, {}, _by_name(group))
            return queue

    async def _serve_overridden(
        self,
        target: WorkerTarget,
        cls: type,
        activities: Sequence[Callable[..., Any]],
        steps: list[Any],
        overrides: Overrides,
    ) -> str:
        names = {key if isinstance(key, str) else key.name for key in overrides}
        elsewhere = sorted(
            f"'{activity_name(s)}' (task queue '{step_queue(s)}')"
            for s in steps
            if activity_name(s) in names and step_queue(s) is not None
        )
        if elsewhere:
            raise ConfigurationError(
                f"cannot override {', '.join(elsewhere)}: overrides replace steps that run "
                "on the run's own queue, and this one runs on a queue other runs share"
            )
        key = (cls, *sorted((name, id(fn)) for name, fn in _named(overrides).items()))
        queue = self._overridden.get(key)
        if queue is None:
            queue = f"beluga-local-{uuid.uuid4().hex[:8]}"
            worker = create_worker(
                self.client, queue, targets=[target], activities=activities, overrides=overrides
            )
            task = asyncio.create_task(worker.run())
            self._hosted[queue] = _Hosted({cls: target}, _by_name(activities), worker, task)
            self._overridden[key] = queue
        for name, group in _group_by_queue(steps).items():
            if not names.intersection(map(activity_name, group)):
                await self._ensure(name, {}, _by_name(group))
        return queue

    async def _ensure(
        self, queue: str, targets: dict[type, WorkerTarget], activities: dict[str, Any]
    ) -> None:
        old = self._hosted.get(queue)
        if old is not None and old.covers(targets, activities):
            return
        if old is not None:
            targets = {**old.targets, **targets}
            activities = _by_name([*old.activities.values(), *activities.values()])
            del self._hosted[queue]
            await _stop(old)
        worker = create_worker(
            self.client, queue, targets=list(targets.values()), activities=list(activities.values())
        )
        task = asyncio.create_task(worker.run())
        self._hosted[queue] = _Hosted(targets, activities, worker, task)

    async def shutdown(self) -> None:
        """Stop every worker (bounded by `WORKER_STOP_TIMEOUT` each)."""
        hosted, self._hosted = list(self._hosted.values()), {}
        self._queues.clear()
        self._overridden.clear()
        await asyncio.gather(*(_stop(h) for h in hosted))


def _named(overrides: Overrides) -> dict[str, Callable[..., Any]]:
    return {key if isinstance(key, str) else key.name: fn for key, fn in overrides.items()}


def _group_by_queue(activities: Iterable[Callable[..., Any]]) -> dict[str, list[Any]]:
    groups: dict[str, list[Any]] = {}
    for activity in activities:
        queue = step_queue(activity)
        if queue is not None:
            groups.setdefault(queue, []).append(activity)
    return groups


async def _stop(hosted: _Hosted) -> None:
    try:
        await asyncio.wait_for(hosted.worker.shutdown(), WORKER_STOP_TIMEOUT)
    except TimeoutError:
        logger.warning(
            "a worker of task queue '%s' did not stop in %.0fs (a step still running?)",
            hosted.worker.task_queue,
            WORKER_STOP_TIMEOUT,
        )
        hosted.task.cancel()
    # `wait` does not raise the task's own outcome; a worker that failed (its server
    # gone) has nothing left to report at shutdown.
    await asyncio.wait({hosted.task}, timeout=1.0)
    if hosted.task.done() and not hosted.task.cancelled():
        hosted.task.exception()
