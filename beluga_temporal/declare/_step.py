"""`@step`: plain functions that run as retried Temporal activities."""

from __future__ import annotations

import abc
import inspect
import typing
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Generic, TypeVar, overload

import pydantic
import temporalio.activity

from beluga_temporal.engine import call_step
from beluga_temporal.errors import DefinitionError
from beluga_temporal.plan import (
    Duration,
    RetryPolicy,
    StepDefinition,
    StepOptions,
    error_type_name,
    positive,
    to_timedelta,
)
from beluga_temporal.resilience import CircuitBreaker, breaker_name

InputT = TypeVar("InputT")
OutputT = TypeVar("OutputT")


class Step(StepDefinition, Generic[InputT, OutputT], abc.ABC):
    """A function declared with `@step`.

    Call it directly (`await validate_order(order)`) to run the plain function, e.g. in
    unit tests; inside a workflow, `await validate_order.execute(order)` runs it as a
    Temporal activity with its declared options. Workers (`create_worker`) register it
    as an activity whose body validates the input against the input type, classifies
    errors and checks the result against the return type.
    """

    def __init__(self, fn: Callable[..., Any], options: StepOptions) -> None:
        super().__init__(fn, options)
        self.__name__ = fn.__name__
        self.__qualname__ = fn.__qualname__
        self.__doc__ = fn.__doc__
        self.__module__ = fn.__module__
        self._input_adapter = _adapter(self.input_type)
        # A valid temporalio activity definition (a plain call of the function);
        # `create_worker` registers the full step body instead.
        temporalio.activity.defn(name=self.name)(self)

    @abc.abstractmethod
    def __call__(self, arg: InputT) -> Any:
        """Run the step's function directly (see `AsyncStep` and `SyncStep`)."""

    def with_options(self, **overrides: Any) -> Step[InputT, OutputT]:
        """Return a copy of this step with some options replaced (same activity name)."""
        cls = type(self)
        return cls(self.fn, self.options.replace(**overrides))

    async def execute(self, arg: InputT, **overrides: Any) -> OutputT:
        """Run this step as an activity from inside a workflow.

        Args:
            arg: The step's input.
            **overrides: Step options to override for this call (`timeout`,
                `retry`, `task_queue`, `local`, ...).

        Returns:
            The step's result, decoded as its declared return type.
        """
        options = self.options.replace(**overrides) if overrides else self.options
        result_type = None if self.output_type is Any else self.output_type
        return typing.cast(OutputT, await call_step(options, arg, result_type=result_type))

    def __repr__(self) -> str:
        return f"<step {self.name!r}>"

    def _plain_call(self, arg: Any) -> Any:
        if not self.takes_input:
            return self.fn()
        return self.fn(self._coerced(arg))

    def _coerced(self, arg: Any) -> Any:
        # A dict or JSON value where a model is declared (a unit test, or a plain
        # temporalio worker handing over the decoded payload) becomes the model.
        if self._input_adapter is None:
            return arg
        model = self.input_type if isinstance(self.input_type, type) else None
        if model is not None and isinstance(arg, model):
            return arg
        return self._input_adapter.validate_python(arg)


class AsyncStep(Step[InputT, OutputT]):
    """A step declared on an `async def` function."""

    async def __call__(self, arg: InputT = None) -> OutputT:  # type: ignore[assignment]
        """Run the plain function (a dict becomes the declared input model)."""
        return typing.cast(OutputT, await self._plain_call(arg))


class SyncStep(Step[InputT, OutputT]):
    """A step declared on a plain `def` function; it runs in the worker's thread pool."""

    def __call__(self, arg: InputT = None) -> OutputT:  # type: ignore[assignment]
        """Run the plain function (a dict becomes the declared input model)."""
        return typing.cast(OutputT, self._plain_call(arg))


@overload
def step(  # type: ignore[overload-overlap]  # async functions match the sync form too
    fn: Callable[[InputT], Awaitable[OutputT]], /
) -> AsyncStep[InputT, OutputT]: ...
@overload
def step(fn: Callable[[InputT], OutputT], /) -> SyncStep[InputT, OutputT]: ...
@overload
def step(
    *,
    name: str | None = None,
    timeout: Duration | None = ...,
    schedule_to_close: Duration | None = None,
    heartbeat_timeout: Duration | None = None,
    retry: RetryPolicy | None = None,
    non_retryable: Sequence[type[BaseException] | str] = (),
    task_queue: str | None = None,
    local: bool | None = None,
    circuit_breaker: CircuitBreaker | str | None = None,
) -> _StepDecorator: ...


def step(fn: Callable[..., Any] | None = None, /, **options: Any) -> Any:
    """Declare a function as a step: a retried Temporal activity.

    Usable bare (`@step`) or with options (`@step(name="check-credit", timeout=30)`).

    Args:
        fn: The function (bare form). It takes one input and returns one result; sync
            functions run in the worker's thread pool.
        **options: `name` (activity type name, default the function name), `timeout`
            (start-to-close per attempt, default 60 s), `schedule_to_close`,
            `heartbeat_timeout`, `retry` (`RetryPolicy`; default: the chain/graph
            default, else 3 attempts), `non_retryable` (exception classes or names that
            fail at once), `task_queue`, `local` (run as a local activity; default:
            the chain's or graph's `local`),
            `circuit_breaker` (a `CircuitBreaker` or the name of one the worker process
            declares, shared per worker process: while it is open the step fails fast
            and Temporal retries it when the breaker half-opens).

    Returns:
        A `Step` (bare form) or a decorator producing one.
    """
    decorator = _StepDecorator(**options)
    return decorator if fn is None else decorator(fn)


class _StepDecorator:
    def __init__(
        self,
        *,
        name: str | None = None,
        timeout: Duration | None = 60.0,
        schedule_to_close: Duration | None = None,
        heartbeat_timeout: Duration | None = None,
        retry: RetryPolicy | None = None,
        non_retryable: Sequence[type[BaseException] | str] = (),
        task_queue: str | None = None,
        local: bool | None = None,
        circuit_breaker: CircuitBreaker | str | None = None,
    ) -> None:
        self._name = name
        self._options = dict(
            start_to_close=positive(to_timedelta(timeout, "timeout"), "timeout"),
            schedule_to_close=positive(
                to_timedelta(schedule_to_close, "schedule_to_close"), "schedule_to_close"
            ),
            heartbeat=positive(
                to_timedelta(heartbeat_timeout, "heartbeat_timeout"), "heartbeat_timeout"
            ),
            retry=retry,
            non_retryable=tuple(map(error_type_name, non_retryable)),
            task_queue=task_queue,
            local=local,
            circuit_breaker=breaker_name(circuit_breaker),
        )

    @overload
    def __call__(  # type: ignore[overload-overlap]  # async functions match the sync form too
        self, fn: Callable[[InputT], Awaitable[OutputT]], /
    ) -> AsyncStep[InputT, OutputT]: ...
    @overload
    def __call__(self, fn: Callable[[InputT], OutputT], /) -> SyncStep[InputT, OutputT]: ...
    def __call__(self, fn: Callable[..., Any], /) -> Step[Any, Any]:
        if isinstance(fn, Step):
            raise DefinitionError(f"{fn!r} is already a step")
        if not callable(fn):
            raise DefinitionError(f"@step needs a function, got {fn!r}")
        name = self._name or fn.__name__
        if not name or "<lambda>" in name:
            raise DefinitionError("a step needs a name: pass @step(name=...) for lambdas")
        options = StepOptions(name=name, **self._options)  # type: ignore[arg-type]
        if inspect.iscoroutinefunction(fn):
            return AsyncStep(fn, options)
        return SyncStep(fn, options)


def _adapter(annotation: Any) -> pydantic.TypeAdapter[Any] | None:
    if annotation is Any:
        return None
    try:
        return pydantic.TypeAdapter(annotation)
    except pydantic.PydanticSchemaGenerationError:
        return None
