"""Runs that cannot make progress because their workflow task keeps failing.

A workflow task that fails (a local-activity step the worker does not register, a
workflow type the worker does not host, a plan the worker does not know, a bug in
workflow code) is retried by Temporal until a worker that can run it appears. That is
right on a cluster, where a deployment fixes it, but from the caller's side the run
just hangs, and a progress query to it is never answered. These helpers find the
failure so callers can name it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Awaitable
from typing import Any, TypeVar

import temporalio.client
from temporalio.api.enums.v1 import WorkflowExecutionStatus

from beluga_temporal.errors import ExecutionError

logger = logging.getLogger("beluga_temporal.client")

T = TypeVar("T")

CHECK_AFTER = 2.0
"""Seconds a call to a run may wait before `unless_stalled` looks at its workflow task."""
_PERMANENT = ("is not registered on this worker",)
"""Failures no retry by the same worker can fix."""


@dataclasses.dataclass(frozen=True)
class WorkflowTaskFailure:
    """Why a run's workflow task keeps failing."""

    message: str
    attempt: int
    """The attempt the server is on (2 after one failure)."""

    def __str__(self) -> str:
        return f"{self.message} (workflow task attempt {self.attempt})"

    @property
    def permanent(self) -> bool:
        """Whether the same worker can never run it (something is not registered)."""
        return any(marker in self.message for marker in _PERMANENT)

    def describe(self, workflow_id: str) -> str:
        """The error text for the run."""
        return (
            f"run '{workflow_id}' makes no progress: its workflow task keeps failing: "
            f"{self}. The workers polling its task queue cannot run it: it waits for one "
            "that registers what the message names"
        )


async def failing_workflow_task(
    client: temporalio.client.Client,
    workflow_id: str,
    run_id: str | None = None,
    *,
    from_history: bool = False,
) -> WorkflowTaskFailure | None:
    """Why the run's workflow task keeps failing, if it has failed at least once.

    Reads the run's description (the pending workflow task's attempt) and, only when
    that task is a retry, its history. The time-skipping test server does not report
    pending workflow tasks: `from_history=True` reads the history every time instead.
    Never raises.
    """
    handle = client.get_workflow_handle(workflow_id, run_id=run_id)
    try:
        raw = (await handle.describe()).raw_description
        status = raw.workflow_execution_info.status
        if status != WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING:
            return None
        pending = raw.pending_workflow_task if raw.HasField("pending_workflow_task") else None
        if pending is None and not from_history:
            return None
        if pending is not None and pending.attempt < 2:
            return None
        message, failures = await _last_failures(handle)
    except Exception as error:
        logger.debug("cannot inspect the workflow task of %s: %s", workflow_id, error)
        return None
    if message is None:
        return None
    return WorkflowTaskFailure(message, pending.attempt if pending is not None else failures + 1)


async def last_workflow_task_failure(
    handle: temporalio.client.WorkflowHandle[Any, Any],
) -> str | None:
    """The failure message of the run's last workflow task, if that task failed."""
    message, _ = await _last_failures(handle)
    return message


async def _last_failures(
    handle: temporalio.client.WorkflowHandle[Any, Any],
) -> tuple[str | None, int]:
    """The last workflow task failure's message and how many failed in a row."""
    message: str | None = None
    failures = 0
    async for event in handle.fetch_history_events():
        if event.HasField("workflow_task_failed_event_attributes"):
            message = event.workflow_task_failed_event_attributes.failure.message or "failed"
            failures += 1
        elif event.HasField("workflow_task_completed_event_attributes"):
            message, failures = None, 0
    return message, failures


async def unless_stalled(
    client: temporalio.client.Client,
    call: Awaitable[T],
    workflow_id: str,
    run_id: str | None = None,
    *,
    check_after: float = CHECK_AFTER,
) -> T:
    """Await `call` to a run; fail fast, naming why, if the run's workflow task fails.

    Raises:
        ExecutionError: The run's workflow task keeps failing (then `call` is cancelled).
    """
    task = asyncio.ensure_future(call)
    try:
        while True:
            await asyncio.wait({task}, timeout=check_after)
            if task.done():
                return task.result()
            failure = await failing_workflow_task(client, workflow_id, run_id)
            if failure is not None:
                raise ExecutionError(
                    failure.describe(workflow_id), workflow_id=workflow_id, run_id=run_id
                )
    finally:
        task.cancel()
