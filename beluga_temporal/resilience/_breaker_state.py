"""What every handle of one circuit breaker shares: settings, state, and who listens.

Breakers are registered by name, once per worker process. Listeners added with
`add_breaker_listener` hear the transitions of every breaker: that is how metrics
(`beluga_temporal.observability`) follow breakers without resilience depending on them.
"""

from __future__ import annotations

import dataclasses
import enum
import logging
import threading
import time
from collections.abc import Callable

from beluga_temporal.errors import DefinitionError

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


@dataclasses.dataclass(frozen=True)
class BreakerSettings:
    """A breaker's settings; two declarations of one name must agree on them."""

    max_failures: int
    reset_timeout: float
    jitter: float
    failure_types: tuple[type[BaseException], ...]
    count_non_retryable: bool

    def comparable(self) -> object:
        """The settings with exception classes by name, for comparing declarations."""
        # By name, not identity: the workflow sandbox re-imports user modules, so the
        # same exception class exists there as another object.
        names = tuple(f"{t.__module__}.{t.__qualname__}" for t in self.failure_types)
        return dataclasses.replace(self, failure_types=()), names


@dataclasses.dataclass
class BreakerCore:
    """The shared, lock-protected state behind every handle of one breaker name."""

    settings: BreakerSettings
    clock: Callable[[], float] = time.monotonic
    lock: threading.Lock = dataclasses.field(default_factory=threading.Lock)
    state: CircuitState = CircuitState.CLOSED
    failures: int = 0
    opened_at: float = 0.0
    probing: bool = False
    listeners: list[StateListener] = dataclasses.field(default_factory=list)


_registry: dict[str, BreakerCore] = {}
_registry_lock = threading.Lock()
_global_listeners: list[StateListener] = []


def join(name: str, settings: BreakerSettings, clock: Callable[[], float]) -> BreakerCore:
    """Register the breaker `name`, or return the registered one if its settings agree.

    Raises:
        DefinitionError: A breaker with this name exists with other settings.
    """
    with _registry_lock:
        core = _registry.get(name)
        if core is None:
            core = _registry[name] = BreakerCore(settings=settings, clock=clock)
        elif core.settings.comparable() != settings.comparable():
            raise DefinitionError(
                f"a circuit breaker named '{name}' already exists with other settings "
                f"({core.settings})"
            )
    return core


def lookup(name: str) -> BreakerCore | None:
    """Return the breaker registered under `name` in this process, if any."""
    with _registry_lock:
        return _registry.get(name)


def add_breaker_listener(listener: StateListener) -> None:
    """Call `listener(name, previous, new)` after every transition of every breaker.

    Adding the same listener twice has no effect. Listeners run in the thread of the call
    that caused the transition, outside the breaker's lock; an exception they raise is
    logged and never fails that call.
    """
    with _registry_lock:
        if listener not in _global_listeners:
            _global_listeners.append(listener)


def remove_breaker_listener(listener: StateListener) -> None:
    """Stop calling a listener added with `add_breaker_listener` (absent: no effect)."""
    with _registry_lock:
        if listener in _global_listeners:
            _global_listeners.remove(listener)


def notify(core: BreakerCore, name: str, previous: CircuitState, state: CircuitState) -> None:
    """Log one transition and tell the breaker's and the global listeners."""
    _log_transition(name, previous, state, core.settings.reset_timeout)
    with _registry_lock:
        listeners = [*core.listeners, *_global_listeners]
    for listener in listeners:
        try:
            listener(name, previous, state)
        except Exception:
            logger.exception("circuit breaker listener %r failed", listener)


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
