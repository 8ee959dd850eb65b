"""Which task queues a target needs, and whether any worker polls them.

A run whose queue nobody polls does not fail: Temporal keeps its tasks until a worker
comes, so a missing worker looks like a hang. `warn_unpolled` says so when a run starts;
`annotate_waiting` writes into a run's progress which step waits for a worker, on which
queue, for how long. Both read the server's view (`DescribeTaskQueue` pollers, the run's
pending activities) and never fail the call they serve: a server that cannot answer
(permissions, the time-skipping test server) just gets no diagnosis.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import temporalio.client
from temporalio.api.enums.v1 import PendingActivityState, TaskQueueKind, TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflow.v1 import PendingActivityInfo
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest

from beluga_temporal.engine import RunProgress

logger = logging.getLogger("beluga_temporal.client")

QueueKind = Literal["workflow", "activity"]
DESCRIBE_TIMEOUT = timedelta(seconds=5)
POLLED_CACHE_SECONDS = 60.0
"""A queue seen polled is not asked about again for this long (one RPC per start is
enough of a cost on a busy cluster)."""
RECHECK_AFTER = 0.5
"""Seconds before an unpolled queue is asked about again (a new worker's first poll)."""
WAIT_SHOWN_AFTER = 2.0
"""Seconds a step may wait for a busy (but polled) queue before progress mentions it."""

_polled: dict[tuple[int, str, str, QueueKind], float] = {}
_checks: set[asyncio.Task[list[str]]] = set()


@dataclasses.dataclass(frozen=True)
class QueueNeed:
    """A task queue a run needs polled, and for what."""

    queue: str
    kind: QueueKind
    steps: tuple[str, ...] = ()
    """For activity queues: the steps that run there."""


def step_queue(activity: Callable[..., Any]) -> str | None:
    """The task queue a step names; `None` for its workflow's queue or a local step."""
    options = getattr(activity, "options", None)
    if getattr(options, "local", False):
        return None  # local activities run inside the workflow's worker
    queue = getattr(options, "task_queue", None)
    return queue if isinstance(queue, str) else None


def needed_queues(target: Any, task_queue: str) -> list[QueueNeed]:
    """The queues a run of `target` started on `task_queue` needs polled.

    Chains and graphs (anything with `activities`) need activity workers for their
    steps too; for hand-written workflows and type names only the workflow queue is
    known.
    """
    steps: dict[str, list[str]] = {}
    for activity in getattr(target, "activities", None) or ():
        options = getattr(activity, "options", None)
        if getattr(options, "local", False):
            continue
        name = getattr(activity, "name", None) or getattr(activity, "__name__", "?")
        steps.setdefault(step_queue(activity) or task_queue, []).append(str(name))
    needs = [QueueNeed(task_queue, "workflow")]
    needs += [QueueNeed(q, "activity", tuple(sorted(s))) for q, s in sorted(steps.items())]
    return needs


async def pollers(client: temporalio.client.Client, queue: str, kind: QueueKind) -> int:
    """How many workers the server saw polling `queue` for `kind` tasks lately.

    Raises:
        temporalio.service.RPCError: The server cannot say.
    """
    request = DescribeTaskQueueRequest(
        namespace=client.namespace,
        task_queue=TaskQueue(name=queue, kind=TaskQueueKind.TASK_QUEUE_KIND_NORMAL),
        task_queue_type=(
            TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW
            if kind == "workflow"
            else TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY
        ),
    )
    response = await client.workflow_service.describe_task_queue(request, timeout=DESCRIBE_TIMEOUT)
    return len(response.pollers)


async def _unpolled(client: temporalio.client.Client, need: QueueNeed) -> bool:
    key = (id(client.service_client), client.namespace, need.queue, need.kind)
    if time.monotonic() - _polled.get(key, float("-inf")) < POLLED_CACHE_SECONDS:
        return False
    if await pollers(client, need.queue, need.kind):
        _polled[key] = time.monotonic()
        return False
    return True


async def _unpolled_of(client: temporalio.client.Client, needs: list[QueueNeed]) -> list[QueueNeed]:
    gaps = await asyncio.gather(*(_unpolled(client, need) for need in needs))
    return [need for need, gap in zip(needs, gaps, strict=True) if gap]


def _warning(need: QueueNeed, what: str) -> str:
    if need.kind == "workflow":
        subject = f"the workflow of {what} waits"
    else:
        names = ", ".join(need.steps)
        subject = (
            f"steps {names} of {what} wait"
            if len(need.steps) > 1
            else (f"step {names} of {what} waits")
        )
    return (
        f"no worker polls task queue '{need.queue}' for {need.kind} tasks: {subject} "
        f"until one does (start one, e.g. `beluga worker MODULE --task-queue {need.queue}`)"
    )


async def warn_unpolled(
    client: temporalio.client.Client, target: Any, task_queue: str, workflow_id: str
) -> list[str]:
    """Log a warning for each queue of `target`'s run that no worker polls.

    Returns:
        The warnings (empty when every queue is polled or the server cannot say).
    """
    try:
        missing = await _unpolled_of(client, needed_queues(target, task_queue))
        if missing:  # a worker started just now may not have polled yet: ask once more
            await asyncio.sleep(RECHECK_AFTER)
            missing = await _unpolled_of(client, missing)
    except Exception as error:
        logger.debug("cannot check the pollers of %s: %s", workflow_id, error)
        return []
    warnings = [_warning(need, f"run '{workflow_id}'") for need in missing]
    for warning in warnings:
        logger.warning(warning)
    return warnings


def check_pollers_soon(
    client: temporalio.client.Client, target: Any, task_queue: str, workflow_id: str
) -> asyncio.Task[list[str]]:
    """Run `warn_unpolled` in the background, so that starting a run never waits for it.

    `poller_checks_done()` waits for the checks of the current event loop (a command
    that exits right after starting a run calls it, so its warnings are not lost).
    """
    task = asyncio.ensure_future(warn_unpolled(client, target, task_queue, workflow_id))
    _checks.add(task)
    task.add_done_callback(_checks.discard)
    return task


async def poller_checks_done(timeout: float = 5.0) -> None:
    """Wait (at most `timeout` seconds) for this event loop's pending poller checks."""
    loop = asyncio.get_running_loop()
    pending = [task for task in _checks if task.get_loop() is loop]
    if pending:
        await asyncio.wait(pending, timeout=timeout)


async def annotate_waiting(
    client: temporalio.client.Client, workflow_id: str, run_id: str | None, progress: RunProgress
) -> RunProgress:
    """Fill `NodeProgress.waiting` for running nodes whose step waits for a worker."""
    if progress.done or not progress.running:
        return progress
    try:
        waits = await _waits(client, workflow_id, run_id)
    except Exception as error:
        logger.debug("cannot tell what %s waits for: %s", workflow_id, error)
        return progress
    for node in progress.nodes.values():
        if node.status == "running" and node.step in waits:
            node.waiting = waits[node.step]
    return progress


async def _waits(
    client: temporalio.client.Client, workflow_id: str, run_id: str | None
) -> dict[str, str]:
    handle = client.get_workflow_handle(workflow_id, run_id=run_id)
    raw = (await handle.describe()).raw_description
    now = datetime.now(UTC)
    waiting = [(p, _waited(p, now)) for p in raw.pending_activities if _unstarted(p, now)]
    if not waiting:
        return {}
    default_queue = raw.execution_config.task_queue.name
    queues = await _queues(handle, [p for p, _ in waiting], default_queue)
    counts = await _poller_counts(client, set(queues.values()))
    waits: dict[str, tuple[float, str]] = {}
    for pending, waited in sorted(waiting, key=lambda pw: pw[1]):
        queue = queues[pending.activity_id]
        if counts.get(queue) == 0 or waited >= WAIT_SHOWN_AFTER:
            waits[pending.activity_type.name] = (waited, _waiting_text(queue, waited, counts))
    return {step: text for step, (_, text) in waits.items()}


def _unstarted(pending: PendingActivityInfo, now: datetime) -> bool:
    if pending.state != PendingActivityState.PENDING_ACTIVITY_STATE_SCHEDULED:
        return False
    # Between attempts a step waits for its retry backoff, not for a worker.
    return not (
        pending.HasField("next_attempt_schedule_time")
        and pending.next_attempt_schedule_time.ToDatetime(UTC) > now
    )


def _waited(pending: PendingActivityInfo, now: datetime) -> float:
    due = pending.scheduled_time.ToDatetime(UTC)
    if pending.HasField("next_attempt_schedule_time"):
        due = max(due, pending.next_attempt_schedule_time.ToDatetime(UTC))
    return max(0.0, (now - due).total_seconds())


def _waiting_text(queue: str, waited: float, counts: dict[str, int]) -> str:
    why = "no worker polls it" if counts.get(queue) == 0 else "its workers are busy"
    return f"waiting {waited:.0f}s for a worker on task queue '{queue}' ({why})"


async def _queues(
    handle: temporalio.client.WorkflowHandle[Any, Any],
    waiting: list[PendingActivityInfo],
    default: str,
) -> dict[str, str]:
    queues = {p.activity_id: p.activity_options.task_queue.name for p in waiting}
    if all(queues.values()):
        return queues
    # Servers that leave `activity_options` empty (the test server): ask the history.
    scheduled = await _scheduled_queues(handle)
    return {a: q or scheduled.get(a) or default for a, q in queues.items()}


async def _scheduled_queues(handle: temporalio.client.WorkflowHandle[Any, Any]) -> dict[str, str]:
    found: dict[str, str] = {}
    async for event in handle.fetch_history_events():
        if event.HasField("activity_task_scheduled_event_attributes"):
            attributes = event.activity_task_scheduled_event_attributes
            found[attributes.activity_id] = attributes.task_queue.name
    return found


async def _poller_counts(client: temporalio.client.Client, queues: Iterable[str]) -> dict[str, int]:
    ordered = sorted(queues)
    counts = await asyncio.gather(*(pollers(client, q, "activity") for q in ordered))
    return dict(zip(ordered, counts, strict=True))
