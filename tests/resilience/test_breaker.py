"""Circuit breaker transitions, with a fake clock: no sleeps, no server."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import TypedDict, Unpack

import pytest

from beluga_temporal import step
from beluga_temporal.errors import DefinitionError
from beluga_temporal.resilience import (
    CircuitBreaker,
    CircuitOpenError,
    CircuitState,
    get_circuit_breaker,
)


class BreakerOptions(TypedDict, total=False):
    """The keyword options of `CircuitBreaker` that tests vary."""

    jitter: float | timedelta | None
    failure_types: Sequence[type[BaseException]]
    count_non_retryable: bool


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make(
    max_failures: int = 2, reset: float = 10.0, **kw: Unpack[BreakerOptions]
) -> tuple[CircuitBreaker, FakeClock, list[tuple[str, str]]]:
    clock = FakeClock()
    breaker = CircuitBreaker(f"b-{uuid.uuid4().hex[:8]}", max_failures, reset, clock=clock, **kw)
    changes: list[tuple[str, str]] = []
    breaker.add_listener(lambda _, old, new: changes.append((old.value, new.value)))
    return breaker, clock, changes


def fail(breaker: CircuitBreaker, error: BaseException | None = None) -> None:
    error = error or ConnectionError("down")
    with pytest.raises(type(error)), breaker.guard():
        raise error


def state_of(breaker: CircuitBreaker) -> CircuitState:
    # A call, not `breaker.state`: mypy would keep the attribute narrowed to the state
    # asserted last, across the calls that change it.
    return breaker.state


def succeed(breaker: CircuitBreaker) -> None:
    with breaker.guard():
        pass


def test_opens_after_max_consecutive_failures() -> None:
    breaker, _, changes = make(max_failures=3)
    fail(breaker)
    fail(breaker)
    succeed(breaker)  # a success resets the count: failures must be consecutive
    fail(breaker)
    fail(breaker)
    assert state_of(breaker) is CircuitState.CLOSED
    fail(breaker)
    assert state_of(breaker) is CircuitState.OPEN
    assert changes == [("closed", "open")]


def test_open_breaker_fails_fast_with_time_until_half_open() -> None:
    breaker, clock, _ = make(reset=10.0, jitter=0)
    fail(breaker)
    fail(breaker)
    clock.now += 4.0
    calls = []
    with pytest.raises(CircuitOpenError) as caught, breaker.guard():
        calls.append(1)
    assert calls == []  # the guarded code never ran
    assert caught.value.retry_after == pytest.approx(6.0)
    assert caught.value.breaker == breaker.name


def test_half_open_after_reset_timeout_then_success_closes() -> None:
    breaker, clock, changes = make(reset=10.0)
    fail(breaker)
    fail(breaker)
    clock.now += 10.0
    assert state_of(breaker) is CircuitState.HALF_OPEN
    succeed(breaker)
    assert state_of(breaker) is CircuitState.CLOSED
    assert changes == [("closed", "open"), ("open", "half_open"), ("half_open", "closed")]


def test_failed_probe_reopens_for_a_full_period() -> None:
    breaker, clock, changes = make(reset=10.0, jitter=0)
    fail(breaker)
    fail(breaker)
    clock.now += 10.0
    fail(breaker)
    assert state_of(breaker) is CircuitState.OPEN
    with pytest.raises(CircuitOpenError) as caught, breaker.guard():
        pass
    assert caught.value.retry_after == pytest.approx(10.0)
    assert changes[-2:] == [("open", "half_open"), ("half_open", "open")]


def test_half_open_admits_exactly_one_probe() -> None:
    breaker, clock, _ = make(reset=10.0)
    fail(breaker)
    fail(breaker)
    clock.now += 10.0
    with breaker.guard(), pytest.raises(CircuitOpenError), breaker.guard():
        pass  # the outer block is the probe in flight; the inner call is refused
    assert state_of(breaker) is CircuitState.CLOSED
    succeed(breaker)  # closed again: everyone goes through


def test_single_probe_under_thread_contention() -> None:
    breaker, clock, _ = make(reset=1.0)
    fail(breaker)
    fail(breaker)
    clock.now += 1.0
    barrier, release = threading.Barrier(16), threading.Event()
    admitted: list[int] = []
    rejected: list[int] = []

    def call(i: int) -> None:
        barrier.wait()
        try:
            with breaker.guard():
                admitted.append(i)
                release.wait(timeout=10)
        except CircuitOpenError:
            rejected.append(i)

    threads = [threading.Thread(target=call, args=(i,)) for i in range(16)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 10
    while len(admitted) + len(rejected) < 16 and time.monotonic() < deadline:
        time.sleep(0.01)  # polling until every thread has been admitted or rejected
    release.set()
    for thread in threads:
        thread.join(timeout=10)
    assert len(admitted) == 1
    assert len(rejected) == 15
    assert state_of(breaker) is CircuitState.CLOSED


async def test_single_probe_among_concurrent_async_calls() -> None:
    breaker, clock, _ = make(reset=1.0)
    fail(breaker)
    fail(breaker)
    clock.now += 1.0
    probe_running = asyncio.Event()
    finish_probe = asyncio.Event()
    ran: list[str] = []

    async def slow_probe() -> str:
        ran.append("probe")
        probe_running.set()
        await finish_probe.wait()
        return "ok"

    async def other() -> str:
        ran.append("other")
        return "ok"

    probe = asyncio.create_task(breaker.call(slow_probe))
    await asyncio.wait_for(probe_running.wait(), 5)
    results = await asyncio.gather(*(breaker.call(other) for _ in range(5)), return_exceptions=True)
    finish_probe.set()
    assert await probe == "ok"
    assert all(isinstance(r, CircuitOpenError) for r in results)
    assert ran == ["probe"]
    assert state_of(breaker) is CircuitState.CLOSED


def test_cancelled_probe_frees_the_slot_without_changing_state() -> None:
    breaker, clock, _ = make(reset=1.0)
    fail(breaker)
    fail(breaker)
    clock.now += 1.0
    fail(breaker, KeyboardInterrupt())  # not an Exception: says nothing about the service
    assert state_of(breaker) is CircuitState.HALF_OPEN
    succeed(breaker)  # a new probe is admitted
    assert state_of(breaker) is CircuitState.CLOSED


def test_only_failure_types_count() -> None:
    breaker, _, _ = make(max_failures=1, failure_types=(ConnectionError,))
    fail(breaker, ValueError("bad order"))  # the service answered: not its failure
    assert state_of(breaker) is CircuitState.CLOSED
    fail(breaker, ConnectionError("refused"))
    assert state_of(breaker) is CircuitState.OPEN


def test_breakers_are_shared_by_name() -> None:
    name = f"shared-{uuid.uuid4().hex[:8]}"
    first = CircuitBreaker(name, max_failures=1)
    second = CircuitBreaker(name, max_failures=1)
    fail(first)
    assert state_of(second) is CircuitState.OPEN
    assert get_circuit_breaker(name).state is CircuitState.OPEN
    with pytest.raises(DefinitionError, match="already exists with other settings"):
        CircuitBreaker(name, max_failures=2)
    first.reset()
    assert state_of(second) is CircuitState.CLOSED


@pytest.mark.parametrize(
    ("make_breaker", "message"),
    [
        (lambda: CircuitBreaker("", 1), "non-empty name"),
        (lambda: CircuitBreaker("x-bad-max", 0), "max_failures"),
        (lambda: CircuitBreaker("x-bad-reset", 1, 0), "reset_timeout"),
    ],
)
def test_invalid_settings_are_definition_errors(
    make_breaker: Callable[[], object], message: str
) -> None:
    with pytest.raises(DefinitionError, match=message):
        make_breaker()


def test_step_option_takes_a_breaker_or_its_name() -> None:
    breaker = CircuitBreaker(f"opt-{uuid.uuid4().hex[:8]}")

    @step(circuit_breaker=breaker)
    async def guarded(value: int) -> int:
        return value

    assert guarded.options.circuit_breaker == breaker.name
    assert guarded.with_options(circuit_breaker="other").options.circuit_breaker == "other"
    with pytest.raises(DefinitionError, match="circuit_breaker"):
        # Not a breaker or a name: mypy rejects it too; the run-time error is tested.
        step(circuit_breaker=42)  # type: ignore[call-overload]


def test_temporal_cancellation_of_a_sync_step_is_not_a_failure() -> None:
    import temporalio.exceptions

    breaker, _, _ = make(max_failures=1)
    fail(breaker, temporalio.exceptions.CancelledError("step cancelled"))
    assert state_of(breaker) is CircuitState.CLOSED


def test_same_breaker_declared_again_with_a_reimported_exception_class() -> None:
    # The workflow sandbox re-imports user modules: same class, new object.
    def dep_down() -> type[Exception]:
        return type(
            "DepDown", (Exception,), {"__module__": "app.errors", "__qualname__": "DepDown"}
        )

    name = f"reimported-{uuid.uuid4().hex[:8]}"
    first = CircuitBreaker(name, max_failures=3, failure_types=(dep_down(),))
    second = CircuitBreaker(name, max_failures=3, failure_types=(dep_down(),))
    assert second.state is first.state
