"""The activity side of a step: validate the input, call the function, classify errors.

This is the one place where a step's exceptions become Temporal `ApplicationError`s.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import dataclasses
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import timedelta
from typing import Any

import pydantic
import temporalio.activity
import temporalio.workflow
from temporalio.exceptions import ApplicationError

from beluga_temporal.resilience import CircuitBreakerNotDeclaredError, guard_step
from beluga_temporal.resilience._errors import (
    CIRCUIT_OPEN,
    PAYLOAD_TOO_LARGE,
    CircuitOpenError,
    PayloadTooLargeError,
)
from beluga_temporal.resilience._payload import check_payload

INPUT_VALIDATION_ERROR = "InputValidationError"
ENVELOPE_KEY = "__beluga_step__"
"""Key of the envelope an activity result travels in when it carries metadata (token
usage, or an attempt number above 1); plain results travel as they are."""

_usage: contextvars.ContextVar[dict[str, int] | None] = contextvars.ContextVar(
    "beluga_step_usage", default=None
)
_envelope_allowed: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "beluga_envelope_allowed", default=False
)


@contextlib.contextmanager
def envelope_allowed(allowed: bool) -> Iterator[None]:
    """Let the activity running in this context send its metadata envelope."""
    token = _envelope_allowed.set(allowed)
    try:
        yield
    finally:
        _envelope_allowed.reset(token)


def report_usage(input_tokens: int, output_tokens: int) -> None:
    """Add token usage to the running step; the workflow sums it per run.

    Outside a step activity this does nothing.
    """
    totals = _usage.get()
    if totals is None:
        return
    totals["input_tokens"] += input_tokens
    totals["output_tokens"] += output_tokens
    totals["total_tokens"] += input_tokens + output_tokens


def _wrap(result: Any, totals: dict[str, int]) -> Any:
    attempt = temporalio.activity.info().attempt
    if not _envelope_allowed.get() or (not totals["total_tokens"] and attempt == 1):
        return result  # plain callers (no header) always get the bare result
    meta: dict[str, Any] = {"output": result, "attempt": attempt}
    if totals["total_tokens"]:
        meta["usage"] = totals
    return {ENVELOPE_KEY: meta}


def _fresh_usage() -> dict[str, int]:
    totals = {"input_tokens": 0, "output_tokens": 0, "total_tokens": 0}
    _usage.set(totals)
    return totals


StepHook = Callable[[str, BaseException | None, float], None]
"""Called after every step attempt with (step name, error or None, seconds taken)."""

_hooks: list[StepHook] = []


def add_step_hook(hook: StepHook) -> None:
    """Register a callback run after every step attempt (metrics, logging)."""
    if hook not in _hooks:
        _hooks.append(hook)


def _notify(step: str, error: BaseException | None, started: float) -> None:
    elapsed = time.perf_counter() - started
    for hook in _hooks:
        hook(step, error, elapsed)


def validation_message(step: str, error: pydantic.ValidationError) -> str:
    """Describe a pydantic validation error with the path of each failing field."""
    problems = []
    for item in error.errors():
        location = ".".join(str(part) for part in item["loc"]) or "<input>"
        problems.append(f"{location}: {item['msg']}")
    return f"invalid input for step '{step}': " + "; ".join(problems)


def validate_input(step: str, adapter: pydantic.TypeAdapter[Any] | None, arg: Any) -> Any:
    """Validate `arg` against the step's input type; bad input is never retried."""
    if adapter is None:
        return arg
    try:
        return adapter.validate_python(arg)
    except pydantic.ValidationError as error:
        raise ApplicationError(
            validation_message(step, error), type=INPUT_VALIDATION_ERROR, non_retryable=True
        ) from None


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
        return ApplicationError(
            str(error),
            {"size": error.size, "limit": error.limit},
            type=PAYLOAD_TOO_LARGE,
            non_retryable=True,
        )
    names = {cls.__name__ for cls in type(error).__mro__}
    if names.intersection(non_retryable):
        return ApplicationError(str(error), type=type(error).__name__, non_retryable=True)
    return error


def in_step_activity(name: str) -> bool:
    """Tell whether the current context is the activity execution of step `name`."""
    return temporalio.activity.in_activity() and temporalio.activity.info().activity_type == name


@contextlib.contextmanager
def _attempt(name: str, non_retryable: Sequence[str]) -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    except BaseException as error:
        _notify(name, error, started)
        converted = classify(error, non_retryable)
        if converted is error:
            raise
        raise converted from error
    _notify(name, None, started)


def _checked(name: str, result: Any) -> Any:
    # Measured here, not left to the SDK, whose error names neither step nor size and
    # is retried until the attempts run out.
    check_payload(f"result of step '{name}'", [result], temporalio.activity.payload_converter())
    return result


def check_step_input(name: str, arg: Any) -> None:
    """Workflow side: fail the run, naming the step, if its input is over the limit."""
    check_workflow_payload(f"input of step '{name}'", arg)


def check_workflow_payload(what: str, value: Any) -> None:
    """Workflow side: fail the run at once if `value` is over the payload limit.

    Left to Temporal, an oversized step input or run result fails the workflow task
    over and over until the run times out.
    """
    try:
        check_payload(what, [value], temporalio.workflow.payload_converter())
    except PayloadTooLargeError as error:
        raise classify(error, ()) from None


@dataclasses.dataclass(frozen=True)
class StepBody:
    """What a step does as the body of its activity, around the user's function."""

    name: str
    fn: Callable[..., Any]
    adapter: pydantic.TypeAdapter[Any] | None
    non_retryable: Sequence[str]
    circuit_breaker: str | None = None
    takes_input: bool = True

    def call(self, arg: Any) -> Any:
        """Call the function itself (no validation): a plain call of the step."""
        return self.fn(arg) if self.takes_input else self.fn()

    @contextlib.contextmanager
    def _one_attempt(self, arg: Any) -> Iterator[_Call]:
        # One attempt: validate the input, guard the call with the breaker, classify
        # errors, then wrap and size-check the result.
        call = _Call(totals=_fresh_usage())
        with _attempt(self.name, self.non_retryable):
            call.arg = validate_input(self.name, self.adapter, arg)
            with guard_step(self.circuit_breaker, self.non_retryable):
                yield call
            call.result = _checked(self.name, _wrap(call.output, call.totals))

    async def run_async(self, arg: Any) -> Any:
        """Run an async step function as the body of its activity."""
        with self._one_attempt(arg) as call:
            call.output = await self.call(call.arg)
        return call.result

    def run_sync(self, arg: Any) -> Any:
        """Run a sync step function (in the worker's thread pool) as its activity body."""
        with self._one_attempt(arg) as call:
            call.output = self.call(call.arg)
        return call.result


@dataclasses.dataclass
class _Call:
    totals: dict[str, int]
    arg: Any = None
    output: Any = None
    result: Any = None
