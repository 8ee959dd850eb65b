"""Breaker-guarded steps on a real server.

Temporal waits for the half-open (no hammering); rejected callers come back spread out;
business errors are not outages; a breaker the worker never declared is a clear error.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import pydantic
import pytest
import temporalio.activity
import temporalio.client
from temporalio.api.enums.v1 import EventType
from temporalio.exceptions import ApplicationError

from beluga_temporal import (
    Chain,
    LocalRuntime,
    Orchestrator,
    RetryPolicy,
    StepFailedError,
    create_worker,
    step,
)
from beluga_temporal.resilience import CircuitBreaker, CircuitState
from beluga_temporal.testing import run_with_worker
from tests.resilience.test_breaker import FakeClock


def started_events(history: temporalio.client.WorkflowHistory) -> list[Any]:
    """The activity-started events, each carrying its attempt and the previous failure."""
    return [
        e.activity_task_started_event_attributes
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED
    ]


# Longer than the ~1 s the dev server takes to retry even with a 50 ms backoff.
RESET = 3.0
breaker = CircuitBreaker("test-breaker-on-temporal", max_failures=2, reset_timeout=RESET)
CALLS: list[int] = []  # attempts that reached the function (not stopped by the breaker)
CHANGES: list[tuple[str, float]] = []
breaker.add_listener(lambda _, old, new: CHANGES.append((new.value, time.monotonic())))


# Without the breaker's delay, attempt 4 would follow attempt 3 after ~1 s.
@step(
    circuit_breaker=breaker,
    retry=RetryPolicy(max_attempts=10, initial_backoff=0.05, max_backoff=0.05),
)
async def call_payments(value: dict[str, int]) -> dict[str, int]:
    CALLS.append(temporalio.activity.info().attempt)
    if len(CALLS) <= 2:
        raise ConnectionError("payments service unreachable")
    return {"attempt": temporalio.activity.info().attempt}


async def test_open_breaker_schedules_the_retry_at_half_open(
    dev_runtime: LocalRuntime, task_queue: str
) -> None:
    chain = Chain("breaker-chain", steps=[call_payments])
    workflow_id = f"breaker-{uuid.uuid4()}"
    result = await run_with_worker(
        dev_runtime.client, task_queue, chain, {"n": 1}, workflow_id=workflow_id
    )

    # attempts 1-2 fail and open the breaker; 3 fails fast; 4 is the probe and closes it
    assert result == {"attempt": 4}
    assert CALLS == [1, 2, 4]
    assert [state for state, _ in CHANGES] == ["open", "half_open", "closed"]
    assert breaker.state is CircuitState.CLOSED
    opened, probed = CHANGES[0][1], CHANGES[1][1]
    assert probed - opened >= RESET * 0.9  # Temporal waited for the half-open

    history = await dev_runtime.client.get_workflow_handle(workflow_id).fetch_history()
    started = started_events(history)
    failure = started[-1].last_failure  # what attempt 3 told Temporal
    assert started[-1].attempt == 4
    assert failure.application_failure_info.type == "CircuitOpenError"
    assert not failure.application_failure_info.non_retryable
    delay = failure.application_failure_info.next_retry_delay.ToTimedelta().total_seconds()
    assert RESET / 2 < delay <= RESET * 1.2  # the default jitter is a fifth of the reset
    assert "circuit breaker 'test-breaker-on-temporal' is open" in failure.message


# -- rejected callers come back spread out ---------------------------------------------

SPREAD_RESET = 1.0
spread_clock = FakeClock()  # moved by hand to half-open the breaker; Temporal's timers are real
spread = CircuitBreaker(
    "test-breaker-spread", max_failures=1, reset_timeout=SPREAD_RESET, clock=spread_clock
)
PROBE_STARTED = asyncio.Event()
PROBE_RELEASE = asyncio.Event()


@step(circuit_breaker=spread, retry=RetryPolicy(max_attempts=5, initial_backoff=0.05))
async def call_inventory(value: dict[str, bool]) -> dict[str, int]:
    if value["probe"]:
        PROBE_STARTED.set()
        await PROBE_RELEASE.wait()
    return {"attempt": temporalio.activity.info().attempt}


async def rejected_once(handle: temporalio.client.WorkflowHandle[Any, Any]) -> bool:
    pending = (await handle.describe()).raw_description.pending_activities
    return bool(pending) and "is open" in pending[0].last_failure.message


async def test_callers_rejected_while_half_open_come_back_spread_out(
    dev_runtime: LocalRuntime, task_queue: str
) -> None:
    chain = Chain("breaker-spread-chain", steps=[call_inventory])
    orch = Orchestrator(dev_runtime.client, task_queue)
    with pytest.raises(ConnectionError), spread.guard():
        raise ConnectionError("inventory service down")  # opens the breaker
    spread_clock.now += SPREAD_RESET  # half-open: the next call is the probe
    async with create_worker(dev_runtime.client, task_queue, targets=[chain]):
        probe = await orch.start(chain, {"probe": True})
        await asyncio.wait_for(PROBE_STARTED.wait(), 10)
        runs = [await orch.start(chain, {"probe": False}) for _ in range(5)]
        handles = [dev_runtime.client.get_workflow_handle(r.workflow_id) for r in runs]
        deadline = time.monotonic() + 10
        while not all([await rejected_once(h) for h in handles]):
            assert time.monotonic() < deadline, "the calls were not rejected by the breaker"
            await asyncio.sleep(0.05)  # polling the server for the rejections
        PROBE_RELEASE.set()  # the probe succeeds and closes the breaker
        assert await orch.result(probe.workflow_id) == {"attempt": 1}
        results = [await orch.result(r.workflow_id) for r in runs]

    assert results == [{"attempt": 2}] * 5
    delays = []
    for handle in handles:
        [started] = started_events(await handle.fetch_history())
        info = started.last_failure.application_failure_info
        assert info.type == "CircuitOpenError"
        delays.append(info.next_retry_delay.ToTimedelta().total_seconds())
    # each comes back after a full reset, plus its own share of the default jitter
    assert all(SPREAD_RESET <= d <= SPREAD_RESET * 1.2 for d in delays), delays
    assert len(set(delays)) == 5, delays  # not all at the same instant


# -- business errors are answers, not outages -------------------------------------------

business = CircuitBreaker("test-breaker-business", max_failures=1, reset_timeout=60)
REACHED: list[str] = []


class CardDeclined(Exception):
    """The payment service answered: no."""


class Amount(pydantic.BaseModel):
    cents: int


@step(circuit_breaker=business, non_retryable=[CardDeclined], retry=RetryPolicy(max_attempts=1))
async def charge_card(value: dict[str, str]) -> dict[str, str]:
    kind = value["kind"]
    REACHED.append(kind)
    if kind == "declined":
        raise CardDeclined("insufficient funds")
    if kind == "blocked":
        raise ApplicationError("card blocked", type="CardBlocked", non_retryable=True)
    if kind == "garbled":
        Amount.model_validate({"cents": "lots"})  # an answer the step cannot use
    return {"charged": kind}


async def test_business_errors_do_not_open_the_breaker(
    time_skipping_runtime: LocalRuntime, task_queue: str
) -> None:
    chain = Chain("breaker-business-chain", steps=[charge_card])
    orch = Orchestrator(time_skipping_runtime.client, task_queue)
    failures = {}
    async with create_worker(time_skipping_runtime.client, task_queue, targets=[chain]):
        for kind in ["declined", "blocked", "garbled"]:
            with pytest.raises(StepFailedError) as caught:
                await orch.execute(chain, {"kind": kind})
            failures[kind] = caught.value.error_type
            assert business.state is CircuitState.CLOSED, kind
        assert await orch.execute(chain, {"kind": "ok"}) == {"charged": "ok"}
    assert failures == {
        "declined": "CardDeclined",
        "blocked": "CardBlocked",
        "garbled": "ValidationError",
    }
    assert REACHED == ["declined", "blocked", "garbled", "ok"]  # nobody was turned away


# -- a breaker the worker never declared ------------------------------------------------

UNDECLARED_CALLS: list[int] = []


@step(
    circuit_breaker="test-breaker-never-declared",
    retry=RetryPolicy(max_attempts=5, initial_backoff=0.05),
)
async def call_undeclared(value: dict[str, int]) -> dict[str, int]:
    UNDECLARED_CALLS.append(1)
    return value


async def test_a_breaker_the_worker_never_declared_fails_the_step_clearly(
    time_skipping_runtime: LocalRuntime, task_queue: str
) -> None:
    chain = Chain("breaker-undeclared-chain", steps=[call_undeclared])
    workflow_id = f"undeclared-{uuid.uuid4()}"
    with pytest.raises(StepFailedError) as caught:
        await run_with_worker(
            time_skipping_runtime.client, task_queue, chain, {"n": 1}, workflow_id=workflow_id
        )
    assert caught.value.step == "call_undeclared"
    assert caught.value.error_type == "CircuitBreakerNotDeclaredError"
    assert "circuit breaker 'test-breaker-never-declared' is not declared" in str(caught.value)
    assert "CircuitBreaker('test-breaker-never-declared'" in str(caught.value)
    assert UNDECLARED_CALLS == []  # the step's side effect never ran unguarded
    history = await time_skipping_runtime.client.get_workflow_handle(workflow_id).fetch_history()
    assert [e.attempt for e in started_events(history)] == [1]  # not retried: config errors stay
