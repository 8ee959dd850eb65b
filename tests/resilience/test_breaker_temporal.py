"""A breaker-guarded step on a real server: Temporal waits for the half-open, no hammering."""

from __future__ import annotations

import time
import uuid

import temporalio.activity
from temporalio.api.enums.v1 import EventType

from beluga_temporal import Chain, LocalRuntime, Orchestrator, RetryPolicy, create_worker, step
from beluga_temporal.resilience import CircuitBreaker, CircuitState

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
    async with create_worker(dev_runtime.client, task_queue, targets=[chain]):
        result = await Orchestrator(dev_runtime.client, task_queue).execute(
            chain, {"n": 1}, workflow_id=workflow_id
        )

    # attempts 1-2 fail and open the breaker; 3 fails fast; 4 is the probe and closes it
    assert result == {"attempt": 4}
    assert CALLS == [1, 2, 4]
    assert [state for state, _ in CHANGES] == ["open", "half_open", "closed"]
    assert breaker.state is CircuitState.CLOSED
    opened, probed = CHANGES[0][1], CHANGES[1][1]
    assert probed - opened >= RESET * 0.9  # Temporal waited for the half-open

    history = await dev_runtime.client.get_workflow_handle(workflow_id).fetch_history()
    started = [
        e.activity_task_started_event_attributes
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED
    ]
    failure = started[-1].last_failure  # what attempt 3 told Temporal
    assert started[-1].attempt == 4
    assert failure.application_failure_info.type == "CircuitOpenError"
    assert not failure.application_failure_info.non_retryable
    delay = failure.application_failure_info.next_retry_delay.ToTimedelta().total_seconds()
    assert RESET / 2 < delay <= RESET
    assert "circuit breaker 'test-breaker-on-temporal' is open" in failure.message
