"""`CircuitBreaker`: stop calling a failing dependency, probe it, resume when it answers.

Breakers are shared by name within a worker process: every step that names the same
breaker sees the same state. State lives in memory, so each worker process trips on its
own; this is a local protection against hammering a dependency, not a cluster-wide lock.
Thread-safe: sync steps run in a thread pool, async steps on the event loop.
"""

from __future__ import annotations

import contextlib
import random
import time
from collections.abc import Awaitable, Callable, Collection, Iterator, Sequence
from datetime import timedelta
from typing import Any, TypeVar

import pydantic
import temporalio.exceptions

from beluga_temporal.errors import DefinitionError
from beluga_temporal.resilience._breaker_state import (
    BreakerCore,
    BreakerSettings,
    CircuitState,
    StateListener,
    join,
    lookup,
    notify,
)
from beluga_temporal.resilience._errors import CircuitBreakerNotDeclaredError, CircuitOpenError

T = TypeVar("T")


class CircuitBreaker:
    """A circuit breaker shared, by name, by every step of a worker process.

    Closed, it lets calls through and counts consecutive failures; after `max_failures`
    it opens and calls fail fast with a retryable `CircuitOpenError` until
    `reset_timeout` has passed; then it half-opens and admits exactly one probe call,
    whose success closes it and whose failure re-opens it. A rejected call is told to
    come back when the breaker half-opens (after a full `reset_timeout` while a probe is
    in flight), plus a random share of `jitter`, so rejected callers do not return all
    at once. Business errors (a non-retryable `ApplicationError`, a pydantic
    `ValidationError`, a type in the step's `non_retryable`) are answers of a working
    dependency, not outages: they count like a success unless `count_non_retryable`.

    Example:
        ```python
        payments = CircuitBreaker("payments", max_failures=5, reset_timeout=60)

        @step(circuit_breaker=payments, retry=RetryPolicy(max_attempts=0))
        async def charge(order: Order) -> Receipt: ...
        ```
    """

    def __init__(
        self,
        name: str,
        max_failures: int = 5,
        reset_timeout: float | timedelta = 60.0,
        *,
        jitter: float | timedelta | None = None,
        failure_types: Sequence[type[BaseException]] = (Exception,),
        count_non_retryable: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Create (or join, by name) a breaker.

        Args:
            name: Shared key: steps naming the same breaker share its state.
            max_failures: Consecutive failures that open the breaker (>= 1).
            reset_timeout: Seconds (or a `timedelta`) the breaker stays open before
                admitting a probe.
            jitter: Upper bound of the random delay added to a rejected call's
                `retry_after` (seconds or `timedelta`, >= 0); default a fifth of
                `reset_timeout`. `0` sends every rejected caller back at the same time.
            failure_types: Exceptions that count as failures of the dependency (default:
                any `Exception`); other exceptions count as answers, like a success.
            count_non_retryable: Count business errors (non-retryable `ApplicationError`,
                pydantic `ValidationError`, types in the step's `non_retryable`) as
                failures too. Default `False`: the dependency answered.
            clock: Monotonic clock in seconds (tests pass a fake one).

        Raises:
            DefinitionError: Invalid settings, or a breaker with this name already
                exists with different settings.
        """
        seconds = _seconds(reset_timeout)
        spread = seconds / 5 if jitter is None else _seconds(jitter)
        if not name:
            raise DefinitionError("a circuit breaker needs a non-empty name")
        if max_failures < 1:
            raise DefinitionError(f"circuit breaker '{name}': max_failures must be >= 1")
        if seconds <= 0:
            raise DefinitionError(f"circuit breaker '{name}': reset_timeout must be > 0")
        if spread < 0:
            raise DefinitionError(f"circuit breaker '{name}': jitter must be >= 0")
        settings = BreakerSettings(
            max_failures, seconds, spread, tuple(failure_types), count_non_retryable
        )
        self.name = name
        self._core = join(name, settings, clock)

    @property
    def max_failures(self) -> int:
        """Consecutive failures that open the breaker."""
        return self._core.settings.max_failures

    @property
    def reset_timeout(self) -> float:
        """Seconds the breaker stays open before admitting a probe."""
        return self._core.settings.reset_timeout

    @property
    def jitter(self) -> float:
        """Upper bound, in seconds, of the random delay added to a rejection."""
        return self._core.settings.jitter

    @property
    def failure_types(self) -> tuple[type[BaseException], ...]:
        """Exceptions that count as failures."""
        return self._core.settings.failure_types

    @property
    def count_non_retryable(self) -> bool:
        """Whether business (non-retryable) errors count as failures."""
        return self._core.settings.count_non_retryable

    @property
    def state(self) -> CircuitState:
        """The current state (an open breaker past `reset_timeout` reads half-open)."""
        with self._core.lock:
            events = self._expire()
        self._emit(events)
        return self._core.state

    @property
    def failures(self) -> int:
        """Consecutive failures counted while closed."""
        return self._core.failures

    def add_listener(self, listener: StateListener) -> None:
        """Call `listener(name, previous, new)` after every transition of this breaker."""
        self._core.listeners.append(listener)

    def reset(self) -> None:
        """Close the breaker and forget counted failures."""
        with self._core.lock:
            events = self._move(CircuitState.CLOSED)
            self._core.probing = False
        self._emit(events)

    @contextlib.contextmanager
    def guard(self, non_retryable: Collection[str] = ()) -> Iterator[None]:
        """Run the block through the breaker (for sync and async code alike).

        Args:
            non_retryable: Exception type names that are business errors here (a step's
                `non_retryable`); they count as answers unless `count_non_retryable`.

        Raises:
            CircuitOpenError: The breaker is open, or half-open with its probe in flight.
        """
        probe = self._admit()
        try:
            yield
        except BaseException as error:
            self._record(probe, error, non_retryable)
            raise
        self._record(probe, None, non_retryable)

    async def call(self, fn: Callable[..., Awaitable[T]], *args: Any) -> T:
        """Await `fn(*args)` through the breaker (plain async code outside steps).

        Raises:
            CircuitOpenError: The breaker is open, or half-open with its probe in flight.
        """
        with self.guard():
            return await fn(*args)

    def __repr__(self) -> str:
        return f"<CircuitBreaker {self.name!r} {self._core.state.value}>"

    @classmethod
    def _of(cls, name: str, core: BreakerCore) -> CircuitBreaker:
        breaker = cls.__new__(cls)
        breaker.name, breaker._core = name, core
        return breaker

    def _admit(self) -> bool:
        """Let a call through, returning whether it is the half-open probe."""
        core = self._core
        with core.lock:
            events = self._expire()
            rejection = self._rejection()
            probe = rejection is None and core.state is CircuitState.HALF_OPEN
            core.probing = core.probing or probe
        self._emit(events)
        if rejection is not None:
            # Spread: callers rejected together must not all come back at one instant.
            raise CircuitOpenError(self.name, rejection + random.uniform(0, self.jitter))
        return probe

    def _rejection(self) -> float | None:
        """Seconds to wait when the call must fail fast, else `None` (lock held)."""
        core = self._core
        if core.state is CircuitState.OPEN:
            return max(core.opened_at + self.reset_timeout - core.clock(), 0.0)
        if core.state is CircuitState.HALF_OPEN and core.probing:
            # The probe's outcome is unknown: waiting a full period is what a failed probe
            # would impose anyway, and it keeps rejected callers from spinning.
            return self.reset_timeout
        return None

    def _record(self, probe: bool, error: BaseException | None, business: Collection[str]) -> None:
        core = self._core
        with core.lock:
            if probe:
                core.probing = False
            events = self._outcome(probe, error, business)
        self._emit(events)

    def _outcome(
        self, probe: bool, error: BaseException | None, business: Collection[str]
    ) -> list[CircuitState]:
        """Apply one call's outcome (lock held); calls that began before a trip are moot."""
        core = self._core
        if error is not None and (
            not isinstance(error, Exception)
            or isinstance(error, temporalio.exceptions.CancelledError)
        ):
            # Cancelled (workflow cancel, fail-fast, shutdown; sync steps see Temporal's
            # CancelledError) or interrupted: says nothing about the dependency.
            return []
        failed = error is not None and isinstance(error, self.failure_types)
        if failed and not self.count_non_retryable and is_business_error(error, business):
            failed = False  # the dependency answered ("card declined"): not an outage
        if probe:
            return self._move(CircuitState.OPEN if failed else CircuitState.CLOSED)
        if core.state is not CircuitState.CLOSED:
            return []
        core.failures = core.failures + 1 if failed else 0
        if core.failures >= self.max_failures:
            return self._move(CircuitState.OPEN)
        return []

    def _expire(self) -> list[CircuitState]:
        """Half-open an open breaker whose reset timeout has passed (lock held)."""
        core = self._core
        if core.state is CircuitState.OPEN and core.clock() >= core.opened_at + self.reset_timeout:
            return self._move(CircuitState.HALF_OPEN)
        return []

    def _move(self, state: CircuitState) -> list[CircuitState]:
        """Enter `state` (lock held); return [previous, new] when it changed."""
        core = self._core
        previous = core.state
        core.failures = 0
        if state is CircuitState.OPEN:
            core.opened_at = core.clock()
        core.state = state
        return [] if previous is state else [previous, state]

    def _emit(self, events: list[CircuitState]) -> None:
        # Outside the lock: listeners and exporters must not stall other callers.
        if events:
            notify(self._core, self.name, events[0], events[1])


def is_business_error(error: BaseException | None, non_retryable: Collection[str] = ()) -> bool:
    """Tell whether `error` is a business answer rather than an outage.

    Business errors: a non-retryable `ApplicationError` (or one whose type is listed), a
    pydantic `ValidationError`, and exceptions whose type or a base type is named in
    `non_retryable`.
    """
    if isinstance(error, temporalio.exceptions.ApplicationError):
        return error.non_retryable or error.type in non_retryable
    if isinstance(error, pydantic.ValidationError):
        return True
    return error is not None and any(cls.__name__ in non_retryable for cls in type(error).__mro__)


def get_circuit_breaker(name: str) -> CircuitBreaker:
    """Return the breaker this process declared under `name`.

    Steps that name a breaker (`@step(circuit_breaker="payments")`) use this at run time.

    Raises:
        CircuitBreakerNotDeclaredError: No `CircuitBreaker(name, ...)` was created in
            this process (a `ConfigurationError`).
    """
    core = lookup(name)
    if core is None:
        raise CircuitBreakerNotDeclaredError(name)
    return CircuitBreaker._of(name, core)


def guard_step(
    breaker: str | None, non_retryable: Collection[str]
) -> contextlib.AbstractContextManager[None]:
    """Guard one attempt of a step with its breaker (none: a no-op).

    Args:
        breaker: The step's `circuit_breaker` name, or `None`.
        non_retryable: The step's non-retryable error type names (business errors).

    Raises:
        CircuitBreakerNotDeclaredError: The breaker is not declared in this process.
    """
    if breaker is None:
        return contextlib.nullcontext()
    return get_circuit_breaker(breaker).guard(non_retryable)


def breaker_name(value: CircuitBreaker | str | None) -> str | None:
    """Normalise a step's `circuit_breaker` option to the breaker's name."""
    if value is None or isinstance(value, str):
        return value or None
    if isinstance(value, CircuitBreaker):
        return value.name
    raise DefinitionError(f"circuit_breaker must be a CircuitBreaker or a name, got {value!r}")


def _seconds(value: float | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
