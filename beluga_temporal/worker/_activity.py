"""The activity side of a step: validate the input, call the function, check the result.

This is the one place where a step's exceptions become Temporal `ApplicationError`s,
and where its result is checked against its declared return type, so that a wrong
result fails the step that produced it (naming the step and the fields) instead of
failing the workflow that reads it.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pydantic
import temporalio.activity
import temporalio.common
from temporalio.exceptions import ApplicationError

from beluga_temporal.engine import STEP_METADATA
from beluga_temporal.observability import current_observability, record_attempt
from beluga_temporal.plan import StepDefinition
from beluga_temporal.resilience import check_encoded
from beluga_temporal.worker._errors import (
    INPUT_VALIDATION_ERROR,
    RESULT_TYPE_ERROR,
    classify,
    guarded,
    validation_message,
)

_usage: contextvars.ContextVar[dict[str, int] | None] = contextvars.ContextVar(
    "beluga_step_usage", default=None
)


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


@contextlib.contextmanager
def _attempt(name: str, non_retryable: tuple[str, ...]) -> Iterator[None]:
    started = time.perf_counter()
    error: BaseException | None = None
    try:
        yield
    except BaseException as raised:
        error = raised
        converted = classify(raised, non_retryable)
        if converted is raised:
            raise
        raise converted from raised
    finally:
        observability = current_observability()
        if observability is not None and observability.records_steps:
            record_attempt(name, error, time.perf_counter() - started)


@dataclasses.dataclass(frozen=True)
class StepBody:
    """What a step does as the body of its activity, around the user's function."""

    step: StepDefinition
    input_adapter: pydantic.TypeAdapter[Any] | None
    output_adapter: pydantic.TypeAdapter[Any] | None

    @classmethod
    def of(cls, step: StepDefinition) -> StepBody:
        """Build the body of `step` (type adapters built once, per worker)."""
        return cls(
            step=step,
            input_adapter=_adapter(step.input_type),
            output_adapter=_adapter(step.output_type),
        )

    @property
    def name(self) -> str:
        """The activity name."""
        return self.step.name

    def activity(self) -> Callable[..., Any]:
        """The temporalio activity callable registered for the step."""
        if self.step.is_async:

            async def run_async(arg: Any = None) -> Any:
                with self._one_attempt(arg) as call:
                    call.output = await self._call(call.arg)
                return call.result

            fn: Callable[..., Any] = run_async
        else:

            def run_sync(arg: Any = None) -> Any:
                with self._one_attempt(arg) as call:
                    call.output = self._call(call.arg)
                return call.result

            fn = run_sync
        fn.__name__ = fn.__qualname__ = self.step.fn.__name__
        fn.__doc__ = self.step.fn.__doc__
        return temporalio.activity.defn(name=self.name)(fn)

    def _call(self, arg: Any) -> Any:
        return self.step.fn(arg) if self.step.takes_input else self.step.fn()

    @contextlib.contextmanager
    def _one_attempt(self, arg: Any) -> Iterator[_Call]:
        # One attempt: validate the input, guard the call with the breaker, classify
        # errors, then check, encode and size-check the result.
        totals = {"input_tokens": 0, "output_tokens": 0, "total_tokens": 0}
        token = _usage.set(totals)
        call = _Call()
        try:
            with _attempt(self.name, self.step.options.non_retryable):
                call.arg = self._validated_input(arg)
                with guarded(self.step.options.circuit_breaker, _business_errors(self.step)):
                    yield call
                call.result = self._encoded(call.output, totals)
        finally:
            _usage.reset(token)

    def _validated_input(self, arg: Any) -> Any:
        if self.input_adapter is None:
            return arg
        try:
            return self.input_adapter.validate_python(arg)
        except pydantic.ValidationError as error:
            raise ApplicationError(
                validation_message(f"invalid input for step '{self.name}'", error),
                type=INPUT_VALIDATION_ERROR,
                non_retryable=True,
            ) from None

    def _encoded(self, output: Any, totals: dict[str, int]) -> temporalio.common.RawValue:
        value = self._checked_output(output)
        converter = temporalio.activity.payload_converter()
        try:
            payload = converter.to_payload(value)
        except Exception as error:
            raise ApplicationError(
                f"result of step '{self.name}' cannot be serialised: a "
                f"{type(output).__name__} ({type(error).__name__}: {error}); return a "
                "pydantic model, a dataclass or JSON-able values",
                type=RESULT_TYPE_ERROR,
                non_retryable=True,
            ) from None
        meta = _metadata(totals)
        if meta:
            payload.metadata[STEP_METADATA] = json.dumps(meta).encode()
        # Measured here, not left to the SDK, whose error names neither step nor size.
        check_encoded(f"result of step '{self.name}'", [payload])
        return temporalio.common.RawValue(payload)

    def _checked_output(self, output: Any) -> Any:
        if self.output_adapter is None:
            return output
        try:
            return self.output_adapter.validate_python(output)
        except pydantic.ValidationError as error:
            if isinstance(output, pydantic.BaseModel):  # a model where a dict is declared
                with contextlib.suppress(pydantic.ValidationError):
                    return self.output_adapter.validate_python(output.model_dump(mode="json"))
            raise ApplicationError(
                validation_message(
                    f"result of step '{self.name}' does not match its return type "
                    f"{_type_name(self.step.output_type)}",
                    error,
                ),
                type=RESULT_TYPE_ERROR,
                non_retryable=True,
            ) from None


@dataclasses.dataclass
class _Call:
    arg: Any = None
    output: Any = None
    result: Any = None


def _business_errors(step: StepDefinition) -> tuple[str, ...]:
    # Errors declared non-retryable (on the step or its retry policy) are the step's
    # business outcomes, not outages of the dependency a breaker guards.
    retry = step.options.retry
    declared = tuple(map(str, retry.non_retryable)) if retry is not None else ()
    return (*step.options.non_retryable, *declared)


def _metadata(totals: dict[str, int]) -> dict[str, Any]:
    attempt = temporalio.activity.info().attempt
    meta: dict[str, Any] = {}
    if attempt > 1:
        meta["attempt"] = attempt
    if totals["total_tokens"]:
        meta["usage"] = totals
    return meta


def _adapter(annotation: Any) -> pydantic.TypeAdapter[Any] | None:
    if annotation is Any or annotation is None or annotation is type(None):
        return None
    try:
        return pydantic.TypeAdapter(annotation)
    except pydantic.PydanticSchemaGenerationError:
        return None  # a type pydantic cannot check: the converter decides


def _type_name(annotation: Any) -> str:
    return getattr(annotation, "__name__", None) or repr(annotation)
