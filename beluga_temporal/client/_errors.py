"""Turn temporalio client exceptions into beluga's error types (the one place)."""

from __future__ import annotations

from typing import Any

import temporalio.client
import temporalio.exceptions
import temporalio.service
from temporalio.exceptions import ActivityError, ApplicationError

from beluga_temporal.engine import GRAPH_FAILED, STEP_FAILED, describe, details_of
from beluga_temporal.errors import (
    BelugaError,
    ConfigurationError,
    ExecutionError,
    GraphExecutionError,
    RunCancelledError,
    RunTimeoutError,
    StepFailedError,
    WorkflowAlreadyStartedError,
)


def translate(
    error: BaseException, workflow_id: str | None, run_id: str | None = None
) -> BelugaError:
    """Return the beluga error a caller should see for a temporalio exception."""
    ids: dict[str, Any] = {"workflow_id": workflow_id, "run_id": run_id}
    if isinstance(error, BelugaError):
        return error
    if isinstance(error, temporalio.exceptions.WorkflowAlreadyStartedError):
        return WorkflowAlreadyStartedError(
            f"a run with workflow id '{workflow_id}' is already running", **ids
        )
    if isinstance(error, temporalio.client.WorkflowFailureError):
        return _from_failure(error.cause, ids)
    if isinstance(error, temporalio.client.WorkflowUpdateFailedError):
        return _from_failure(error.cause, ids)  # a session turn or an update that failed
    if isinstance(error, temporalio.client.WorkflowQueryFailedError):
        return ExecutionError(f"query on run '{workflow_id}' failed: {error.message}", **ids)
    if isinstance(error, temporalio.client.WorkflowQueryRejectedError):
        status = error.status.name if error.status is not None else "closed"
        return ExecutionError(f"run '{workflow_id}' rejected the query (it is {status})", **ids)
    if isinstance(error, temporalio.service.RPCError):
        return _from_rpc(error, ids)
    return ExecutionError(f"{type(error).__name__}: {error}", **ids)


def _from_rpc(error: temporalio.service.RPCError, ids: dict[str, Any]) -> BelugaError:
    status = temporalio.service.RPCStatusCode
    if error.status == status.NOT_FOUND:
        if "namespace" in error.message.lower():
            return ConfigurationError(f"Temporal namespace not found: {error.message}")
        if "already completed" in error.message:
            # Signal, update and terminate of a closed run: the run exists.
            return ExecutionError(
                f"run '{ids['workflow_id']}' has already closed ({error.message})", **ids
            )
        return ExecutionError(f"no workflow run '{ids['workflow_id']}': {error.message}", **ids)
    if error.status == status.DEADLINE_EXCEEDED:
        return ExecutionError(
            f"no answer for run '{ids['workflow_id']}' in time ({error.message}); "
            "is a worker polling its task queue?",
            **ids,
        )
    if error.status in (status.UNAVAILABLE, status.UNAUTHENTICATED, status.PERMISSION_DENIED):
        return ConfigurationError(f"Temporal server call failed ({error.status.name}): {error}")
    return ExecutionError(f"Temporal server call failed ({error.status.name}): {error}", **ids)


def _from_failure(cause: BaseException | None, ids: dict[str, Any]) -> BelugaError:
    if isinstance(cause, temporalio.exceptions.TimeoutError):
        return RunTimeoutError(
            f"run '{ids['workflow_id']}' timed out (execution timeout fired)",
            timeout_kind="execution",
            **ids,
        )
    if isinstance(cause, temporalio.exceptions.CancelledError):
        return RunCancelledError(f"run '{ids['workflow_id']}' was cancelled", **ids)
    if isinstance(cause, temporalio.exceptions.TerminatedError):
        return ExecutionError(f"run '{ids['workflow_id']}' was terminated", **ids)
    if isinstance(cause, ActivityError):
        return _from_activity(cause, ids)
    if isinstance(cause, ApplicationError):
        return _from_application(cause, ids)
    return ExecutionError(f"run '{ids['workflow_id']}' failed: {cause}", **ids)


def _from_activity(cause: ActivityError, ids: dict[str, Any]) -> BelugaError:
    # Hand-written workflows let activity errors propagate as they are.
    error_type, message = describe(cause)
    return StepFailedError(
        f"step '{cause.activity_type}' failed: {error_type}: {message}",
        step=cause.activity_type,
        error_type=error_type,
        cause_message=message,
        **ids,
    )


def _from_application(cause: ApplicationError, ids: dict[str, Any]) -> BelugaError:
    details = details_of(cause)
    if cause.type == STEP_FAILED and details:
        return StepFailedError(
            cause.message,
            step=details["step"],
            error_type=details["error_type"],
            cause_message=details["message"],
            **ids,
        )
    if cause.type == GRAPH_FAILED and details:
        return GraphExecutionError(
            cause.message,
            node=details["node"],
            error_type=details["error_type"],
            error=details["error"],
            completed=list(details["completed"]),
            skipped=list(details["skipped"]),
            cancelled=list(details.get("cancelled", [])),
            unfinished=list(details.get("unfinished", [])),
            **ids,
        )
    label = f"{cause.type}: " if cause.type else ""
    return ExecutionError(f"{label}{cause.message}", **ids)
