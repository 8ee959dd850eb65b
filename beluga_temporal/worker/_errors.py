"""Activity side: how a step's exceptions become Temporal `ApplicationError`s."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from datetime import timedelta

import pydantic
from temporalio.exceptions import ApplicationError

from beluga_temporal.resilience import (
    CIRCUIT_OPEN,
    CircuitBreakerNotDeclaredError,
    CircuitOpenError,
    PayloadTooLargeError,
    guard_step,
    too_large,
)

INPUT_VALIDATION_ERROR = "InputValidationError"
"""Error type (wire format) of a step input that does not fit the step's input type."""
RESULT_TYPE_ERROR = "StepResultError"
"""Error type (wire format) of a result that does not fit the declared return type."""


def validation_message(what: str, error: pydantic.ValidationError) -> str:
    """Describe a pydantic validation error with the path of each failing field."""
    problems = []
    for item in error.errors():
        location = ".".join(str(part) for part in item["loc"]) or "<value>"
        problems.append(f"{location}: {item['msg']}")
    return f"{what}: " + "; ".join(problems)


def classify(error: BaseException, non_retryable: Sequence[str]) -> BaseException:
    """Mark errors whose type (or a base type) is declared non-retryable.

    An open circuit breaker's error stays retryable, with the next attempt scheduled for
    when the breaker half-opens; an oversized payload never succeeds on retry.
    """
    if isinstance(error, ApplicationError | asyncio.CancelledError):
        return error
    if isinstance(error, CircuitBreakerNotDeclaredError):
        # The worker's configuration does not change between attempts.
        return ApplicationError(str(error), type=type(error).__name__, non_retryable=True)
    if isinstance(error, CircuitOpenError):
        return ApplicationError(
            str(error),
            {"breaker": error.breaker, "retry_after": error.retry_after},
            type=CIRCUIT_OPEN,
            next_retry_delay=timedelta(seconds=error.retry_after),
        )
    if isinstance(error, PayloadTooLargeError):
        return too_large(error)
    names = {cls.__name__ for cls in type(error).__mro__}
    if names.intersection(non_retryable):
        return ApplicationError(str(error), type=type(error).__name__, non_retryable=True)
    return error


def guarded(
    breaker: str | None, non_retryable: Sequence[str]
) -> contextlib.AbstractContextManager[None]:
    """The circuit breaker guard of a step (none when it declares no breaker)."""
    return guard_step(breaker, non_retryable)
