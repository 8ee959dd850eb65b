"""Runs that cannot make progress because their workflow task keeps failing.

A workflow task that fails (a local-activity step the worker does not register, a
workflow type the worker does not host, a plan the worker does not know, a bug in
workflow code) is retried by Temporal until a worker that can run it appears. That is
the right thing on a cluster, where a deployment fixes it; but from the caller's side
the run just hangs. These helpers find the failure message so callers can name it.
"""

from __future__ import annotations

import logging
from typing import Any

import temporalio.client
from temporalio.api.enums.v1 import WorkflowExecutionStatus

from beluga_temporal.client._errors import translate
from beluga_temporal.errors import BelugaError, ExecutionError

logger = logging.getLogger("beluga_temporal.client")


async def failing_workflow_task(
    client: temporalio.client.Client,
    workflow_id: str,
    run_id: str | None = None,
    *,
    min_attempt: int = 2,
) -> str | None:
    """Why the run's workflow task keeps failing, if it has failed `min_attempt - 1` times.

    Reads the run's description (the pending workflow task's attempt) and, only when it
    fails, its history. Servers that do not report pending workflow tasks (the
    time-skipping test server) get `None`. Never raises.
    """
    handle = client.get_workflow_handle(workflow_id, run_id=run_id)
    try:
        raw = (await handle.describe()).raw_description
        status = raw.workflow_execution_info.status
        running = status == WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING
        attempt = raw.pending_workflow_task.attempt if raw.HasField("pending_workflow_task") else 0
        if not running or attempt < min_attempt:
            return None
        message = await last_workflow_task_failure(handle)
    except Exception as error:
        logger.debug("cannot inspect the workflow task of %s: %s", workflow_id, error)
        return None
    return f"{message} (workflow task attempt {attempt})" if message else None


async def last_workflow_task_failure(
    handle: temporalio.client.WorkflowHandle[Any, Any],
) -> str | None:
    """The failure message of the run's last workflow task, if that task failed."""
    message: str | None = None
    async for event in handle.fetch_history_events():
        if event.HasField("workflow_task_failed_event_attributes"):
            message = event.workflow_task_failed_event_attributes.failure.message or "failed"
        elif event.HasField("workflow_task_completed_event_attributes"):
            message = None
    return message


def stalled_message(workflow_id: str, failure: str) -> str:
    """The error text for a run whose workflow task keeps failing."""
    return (
        f"run '{workflow_id}' makes no progress: its workflow task keeps failing: {failure}. "
        "The worker polling its task queue cannot run it (a local step or workflow it "
        "does not register?)"
    )


async def explain_stall(
    client: temporalio.client.Client,
    error: BaseException,
    workflow_id: str,
    run_id: str | None = None,
) -> BelugaError:
    """`translate(error)`, or a clearer error when the run's workflow task keeps failing.

    A query to such a run cannot be answered; the failure says why.
    """
    failure = await failing_workflow_task(client, workflow_id, run_id)
    if failure is None:
        return translate(error, workflow_id, run_id)
    message = stalled_message(workflow_id, failure)
    return ExecutionError(message, workflow_id=workflow_id, run_id=run_id)
