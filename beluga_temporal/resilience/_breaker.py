"""`CircuitBreaker`: stop calling a failing dependency, probe it, resume when it answers.

Breakers are shared by name within a worker process: every step that names the same
breaker sees the same state. State lives in memory, so each worker process trips on its
own; this is a local protection against hammering a dependency, not a cluster-wide lock.
Thread-safe: sync steps run in a thread pool, async steps on the event loop.
"""

from __future__ import annotations

import contextlib
import dataclasses
import enum
import logging
import threading
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from datetime import timedelta
from typing import Any, TypeVar

import temporalio.exceptions

from beluga_temporal.errors import DefinitionError
from beluga_temporal.resilience._errors import CircuitOpenError

T = TypeVar("T")
logger = logging.getLogger("beluga_temporal.resilience")


class CircuitState(enum.StrEnum):
    """Where a circuit breaker stands."""

    CLOSED = "closed"
    """Calls go through; consecutive failures are counted."""
    OPEN = "open"
    """Calls fail fast with `CircuitOpenError` until `reset_timeout` has passed."""
    HALF_OPEN = "half_open"
    """One probe call goes through; its outcome closes or re-opens the breaker."""


StateListener = Callable[[str, CircuitState, CircuitState], None]
"""Called with (breaker name, previous state, new state) after each transition."""


@dataclasses.dataclass
class _Core:
    """The shared, lock-protected state behind every handle of one breaker name."""

    settings: tuple[int, float, tuple[type[BaseException], ...]]
    clock: Callable[[], float]
    lock: threading.Lock = dataclasses.field(default_factory=threading.Lock)
    state: CircuitState = CircuitState.CLOSED
    failures: int = 0
    opened_at: float = 0.0
    probing: bool = False
    listeners: list[StateListener] = dataclasses.field(default_factory=list)


_registry: dict[str, _Core] = {}
_registry_lock = threading.Lock()


class CircuitBreaker:
    """A circuit breaker shared, by name, by every step of a worker process.

    Closed, it lets calls through and counts consecutive failures; after `max_failures`
    it opens and calls fail fast with a retryable `CircuitOpenError` until
    `reset_timeout` has passed; then it half-opens and admits exactly one probe call,
    whose success closes it and whose failure re-opens it.

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
        failure_types: Sequence[type[BaseException]] = (Exception,),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Create (or join, by name) a breaker.

        Args:
            name: Shared key: steps naming the same breaker share its state.
            max_failures: Consecutive failures that open the breaker (>= 1).
            reset_timeout: Seconds (or a `timedelta`) the breaker stays open before
                admitting a probe.
            failure_types: Exceptions that count as failures of the dependency (default:
                any `Exception`); other exceptions count as answers, like a success.
            clock: Monotonic clock in seconds (tests pass a fake one).

        Raises:
            DefinitionError: Invalid settings, or a breaker with this name already
                exists with different settings.
        """
        seconds = _seconds(reset_timeout)
        if not name:
            raise DefinitionError("a circuit breaker needs a non-empty name")
        if max_failures < 1:
            raise DefinitionError(f"circuit breaker '{name}': max_failures must be >= 1")
        if seconds <= 0:
            raise DefinitionError(f"circuit breaker '{name}': reset_timeout must be > 0")
        self.name = name
        self._core = _join(name, (max_failures, seconds, tuple(failure_types)), clock)

    @property
    def max_failures(self) -> int:
        """Consecutive failures that open the breaker."""
        return self._core.settings[0]

    @property
    def reset_timeout(self) -> float:
        """Seconds the breaker stays open before admitting a probe."""
        return self._core.settings[1]

    @property
    def failure_types(self) -> tuple[type[BaseException], ...]:
        """Exceptions that count as failures."""
        return self._core.settings[2]

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
        """Call `listener(name, previous, new)` after every state transition."""
        self._core.listeners.append(listener)

    def reset(self) -> None:
        """Close the breaker and forget counted failures."""
        with self._core.lock:
            events = self._move(CircuitState.CLOSED)
            self._core.probing = False
        self._emit(events)

    @contextlib.contextmanager
    def guard(self) -> Iterator[None]:
        """Run the block through the breaker (for sync and async code alike).

        Raises:
            CircuitOpenError: The breaker is open, or half-open with its probe in flight.
        """
        probe = self._admit()
        try:
            yield
        except BaseException as error:
            self._record(probe, error)
            raise
        self._record(probe, None)

    async def call(self, fn: Callable[..., Awaitable[T]], *args: Any) -> T:
        """Await `fn(*args)` through the breaker (plain async code outside steps).

        Raises:
            CircuitOpenError: The breaker is open, or half-open with its probe in flight.
        """
        with self.guard():
            return await fn(*args)

    def __repr__(self) -> str:
        return f"<CircuitBreaker {self.name!r} {self._core.state.value}>"

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
            raise CircuitOpenError(self.name, rejection)
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

    def _record(self, probe: bool, error: BaseException | None) -> None:
        core = self._core
        with core.lock:
            if probe:
                core.probing = False
            events = self._outcome(probe, error)
        self._emit(events)

    def _outcome(self, probe: bool, error: BaseException | None) -> list[CircuitState]:
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
        if not events:
            return
        previous, state = events
        _log_transition(self.name, previous, state, self.reset_timeout)
        _count_transition(self.name, previous, state)
        for listener in list(self._core.listeners):
            listener(self.name, previous, state)


def get_circuit_breaker(name: str) -> CircuitBreaker:
    """Return the breaker registered under `name`, creating one with defaults if none is.

    Steps that name a breaker (`@step(circuit_breaker="payments")`) use this at run time.
    """
    with _registry_lock:
        core = _registry.get(name)
    if core is None:
        return CircuitBreaker(name)
    breaker = CircuitBreaker.__new__(CircuitBreaker)
    breaker.name, breaker._core = name, core
    return breaker


def breaker_name(value: CircuitBreaker | str | None) -> str | None:
    """Normalise a step's `circuit_breaker` option to the breaker's name."""
    if value is None or isinstance(value, str):
        return value or None
    if isinstance(value, CircuitBreaker):
        return value.name
    raise DefinitionError(f"circuit_breaker must be a CircuitBreaker or a name, got {value!r}")


def _join(
    name: str,
    settings: tuple[int, float, tuple[type[BaseException], ...]],
    clock: Callable[[], float],
) -> _Core:
    with _registry_lock:
        core = _registry.get(name)
        if core is None:
            core = _registry[name] = _Core(settings=settings, clock=clock)
        elif _comparable(core.settings) != _comparable(settings):
            raise DefinitionError(
                f"a circuit breaker named '{name}' already exists with other settings "
                f"(max_failures, reset_timeout, failure_types = {core.settings})"
            )
    return core


def _comparable(settings: tuple[int, float, tuple[type[BaseException], ...]]) -> object:
    # By name, not identity: the workflow sandbox re-imports user modules, so the same
    # exception class exists there as another object.
    max_failures, reset, types = settings
    return max_failures, reset, tuple(f"{t.__module__}.{t.__qualname__}" for t in types)


def _seconds(value: float | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def _log_transition(name: str, previous: CircuitState, state: CircuitState, reset: float) -> None:
    if state is CircuitState.OPEN:
        logger.warning(
            "circuit breaker %s opened (was %s); calls fail fast for %.3gs",
            name,
            previous.value,
            reset,
        )
    else:
        logger.info("circuit breaker %s %s (was %s)", name, state.value, previous.value)


def _count_transition(name: str, previous: CircuitState, state: CircuitState) -> None:
    # Imported here: OpenTelemetry is a worker-side concern, not needed to declare steps.
    from beluga_temporal.observability import record_circuit_breaker_change

    record_circuit_breaker_change(name, previous_state=previous.value, state=state.value)
