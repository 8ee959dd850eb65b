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
    ChildWorkflowError,
    TimeoutError,
)

STEP_FAILED = "StepFailedError"
GRAPH_FAILED = "GraphExecutionError"
STATE_CONFLICT = "StateConflictError"
ROUTING_ERROR = "RoutingError"
INVALID_RUN_INPUT = "InvalidRunInput"
MAP_INPUT_ERROR = "MapInputError"
MAP_ITEM_FAILED = "MapItemFailed"
STATE_TOO_LARGE = "StateTooLargeError"


class NodeFailure(Exception):
    """A node failed for a reason the workflow itself found (not an activity error).

    Attributes:
        error_type: The type name reported for the failure.
    """

    def __init__(self, message: str, error_type: str) -> None:
        super().__init__(message)
        self.error_type = error_type


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
    while isinstance(cause, ActivityError | ChildWorkflowError) and cause.cause is not None:
        cause = cause.cause
    if isinstance(cause, NodeFailure):
        return cause.error_type, str(cause)
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
    return step_failed_error(run, step, error_type, message)


def step_failed_error(run: str, step: str, error_type: str, message: str) -> ApplicationError:
    """The error a chain fails with, from a described failure."""
    return ApplicationError(
        f"step '{step}' of '{run}' failed: {error_type}: {message}",
        {"step": step, "error_type": error_type, "message": message},
        type=STEP_FAILED,
        non_retryable=True,
    )


def is_cancellation(error: BaseException) -> bool:
    """Whether an activity or child failure means it was cancelled, not that it failed."""
    return isinstance(error, ActivityError | ChildWorkflowError) and isinstance(
        error.cause, CancelledError
    )


def graph_failed(
    graph: str,
    node: str,
    error_type: str,
    message: str,
    completed: list[str],
    skipped: list[str],
    cancelled: list[str],
    unfinished: list[str] | None = None,
) -> ApplicationError:
    """The error a graph fails with: the failed, completed, skipped and cancelled nodes.

    `unfinished` names finish points that did not succeed (`on_error="continue"`).
    """
    reason = f"failed at node '{node}': {error_type}: {message}"
    if unfinished:
        reason = f"finish point(s) {', '.join(unfinished)} did not succeed; {reason}"
    return ApplicationError(
        f"graph '{graph}' {reason}",
        {
            "node": node,
            "error_type": error_type,
            "error": message,
            "completed": completed,
            "skipped": skipped,
            "cancelled": cancelled,
            "unfinished": unfinished or [],
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
