"""Describe activity failures and turn run failures into `ApplicationError`s.

Workflow side: pure functions over exception objects.
"""

from __future__ import annotations

from typing import Any

import pydantic
from temporalio.exceptions import (
    ActivityError,
    ApplicationError,
    CancelledError,
    TimeoutError,
)

STEP_FAILED = "StepFailedError"
GRAPH_FAILED = "GraphExecutionError"
STATE_CONFLICT = "StateConflictError"
ROUTING_ERROR = "RoutingError"
INVALID_RUN_INPUT = "InvalidRunInput"


class ErrorInfo(pydantic.BaseModel):
    """What an `on_error` handler receives about the failure it handles."""

    step: str
    """The step that failed."""
    error_type: str
    """The type name of its last error (`"TimeoutError"` for timeouts)."""
    message: str
    """Its last error message."""
    input: Any = None
    """The input the step failed on."""


def describe(error: BaseException) -> tuple[str, str]:
    """Return (error type, message) for an activity failure, naming fired timeouts."""
    cause: BaseException = error
    if isinstance(error, ActivityError) and error.cause is not None:
        cause = error.cause
    if isinstance(cause, ApplicationError):
        return cause.type or "ApplicationError", cause.message
    if isinstance(cause, TimeoutError):
        kind = cause.type.name.lower() if cause.type is not None else "unknown"
        return "TimeoutError", f"{kind} timeout fired"
    if isinstance(cause, CancelledError):
        return "CancelledError", "cancelled"
    return type(cause).__name__, str(cause)


def step_failed(run: str, step: str, error: BaseException) -> ApplicationError:
    """The error a chain fails with when a step exhausted its retries."""
    error_type, message = describe(error)
    return ApplicationError(
        f"step '{step}' of '{run}' failed: {error_type}: {message}",
        {"step": step, "error_type": error_type, "message": message},
        type=STEP_FAILED,
        non_retryable=True,
    )


def graph_failed(
    graph: str,
    node: str,
    error_type: str,
    message: str,
    completed: list[str],
    skipped: list[str],
    cancelled: list[str],
) -> ApplicationError:
    """The error a graph fails with: the failed, completed, skipped and cancelled nodes."""
    return ApplicationError(
        f"graph '{graph}' failed at node '{node}': {error_type}: {message}",
        {
            "node": node,
            "error_type": error_type,
            "error": message,
            "completed": completed,
            "skipped": skipped,
            "cancelled": cancelled,
        },
        type=GRAPH_FAILED,
        non_retryable=True,
    )


def invalid_input(run: str, problem: str) -> ApplicationError:
    """The error a run fails with when its input does not fit the declared state."""
    return ApplicationError(
        f"invalid input for '{run}': {problem}", type=INVALID_RUN_INPUT, non_retryable=True
    )


def details_of(error: ApplicationError) -> dict[str, Any]:
    """Return the structured details the framework attached to a failure, if any."""
    details = error.details
    first = details[0] if details else None
    return first if isinstance(first, dict) else {}
