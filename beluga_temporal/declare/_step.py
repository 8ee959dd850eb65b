"""`@step`: plain functions that run as retried Temporal activities."""

from __future__ import annotations

import inspect
import typing
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Generic, TypeVar, overload

import pydantic
import temporalio.activity
import temporalio.workflow

from beluga_temporal.errors import DefinitionError
from beluga_temporal.plan._options import (
    Duration,
    RetryPolicy,
    StepOptions,
    error_type_name,
    positive,
    to_timedelta,
)
from beluga_temporal.resilience._breaker import CircuitBreaker, breaker_name
from beluga_temporal.runtime import _activity

InputT = TypeVar("InputT")
OutputT = TypeVar("OutputT")


class Step(Generic[InputT, OutputT]):
    """A function declared with `@step`.

    Call it directly (`await validate_order(order)`) to run the plain function, e.g. in
    unit tests; inside a workflow, `await validate_order.execute(order)` runs it as a
    Temporal activity with its declared options. The object is itself a temporalio
    activity definition, so it can be registered on any `temporalio.worker.Worker`.
    """

    def __init__(self, fn: Callable[..., Any], options: StepOptions) -> None:
        self.fn = fn
        self.options = options
        self.input_type, self.output_type = _signature_types(fn, options.name)
        self.is_async = inspect.iscoroutinefunction(fn)
        self._body = _activity.StepBody(
            name=options.name,
            fn=fn,
            adapter=None if self.input_type is Any else pydantic.TypeAdapter(self.input_type),
            non_retryable=options.non_retryable,
            circuit_breaker=options.circuit_breaker,
            takes_input=_takes_input(fn),
        )
        self.__name__ = fn.__name__
        self.__qualname__ = fn.__qualname__
        self.__doc__ = fn.__doc__
        self.__module__ = fn.__module__
        _make_activity_definition(self)

    def __call__(self, arg: InputT) -> Any:
        """Run the step's function directly (see `AsyncStep` and `SyncStep`)."""
        raise NotImplementedError

    @property
    def name(self) -> str:
        """The activity type name (wire format: renaming it breaks runs in flight)."""
        return self.options.name

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
        from beluga_temporal.runtime._calls import call_step

        options = self.options.replace(**overrides) if overrides else self.options
        result_type = None if self.output_type is Any else self.output_type
        return typing.cast(OutputT, await call_step(options, arg, result_type=result_type))

    def __repr__(self) -> str:
        return f"<step {self.name!r}>"


class AsyncStep(Step[InputT, OutputT]):
    """A step declared on an `async def` function."""

    async def __call__(self, arg: InputT = None) -> OutputT:  # type: ignore[assignment]
        """Run the plain function (or, inside its own activity, the activity body)."""
        if _activity.in_step_activity(self.name):
            return typing.cast(OutputT, await self._body.run_async(arg))
        return typing.cast(OutputT, await self._body.call(arg))


class SyncStep(Step[InputT, OutputT]):
    """A step declared on a plain `def` function; it runs in the worker's thread pool."""

    def __call__(self, arg: InputT = None) -> OutputT:  # type: ignore[assignment]
        """Run the plain function (or, inside its own activity, the activity body)."""
        if _activity.in_step_activity(self.name):
            return typing.cast(OutputT, self._body.run_sync(arg))
        return typing.cast(OutputT, self._body.call(arg))


def _takes_input(fn: Callable[..., Any]) -> bool:
    return any(
        p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.VAR_POSITIONAL)
        for p in inspect.signature(fn).parameters.values()
    )


def _signature_types(fn: Callable[..., Any], name: str) -> tuple[Any, Any]:
    try:
        hints = typing.get_type_hints(fn)
    except Exception as error:  # unresolved forward references in user code
        raise DefinitionError(f"step '{name}': cannot resolve type hints: {error}") from error
    params = [
        p
        for p in inspect.signature(fn).parameters.values()
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty
    ]
    if len(params) > 1:
        raise DefinitionError(
            f"step '{name}' takes {len(params)} arguments; a step takes one input "
            "(use a pydantic model or a dict to pass several values)"
        )
    input_type = hints.get(params[0].name, Any) if params else Any
    return input_type, hints.get("return", Any)


def _make_activity_definition(step: Step[Any, Any]) -> None:
    # The worker calls the Step object itself; `__call__` routes to the activity body.
    temporalio.activity.defn(name=step.name)(step)


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
    local: bool = False,
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
            fail at once), `task_queue`, `local` (run as a local activity),
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
        local: bool = False,
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


def is_in_workflow() -> bool:
    """Tell whether the caller runs inside a Temporal workflow."""
    return temporalio.workflow.in_workflow()
