"""`resilience.retry`: the same RetryPolicy for plain async code outside Temporal."""

from __future__ import annotations

import pytest

from beluga_temporal import RetryPolicy
from beluga_temporal.resilience import CircuitOpenError, backoff, retry


class Flaky:
    def __init__(self, failures: int, error: type[Exception] = ConnectionError) -> None:
        self.failures, self.error, self.calls = failures, error, 0

    async def __call__(self, value: int) -> int:
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error(f"failure {self.calls}")
        return value * 2


FAST = RetryPolicy(max_attempts=4, initial_backoff=0.01, backoff_factor=2.0, max_backoff=0.03)


async def test_retries_until_success_with_jittered_backoff() -> None:
    waits: list[tuple[int, float]] = []
    fn = Flaky(failures=3)
    result = await retry(FAST, fn, 21, jitter=0.5, on_retry=lambda n, _, d: waits.append((n, d)))
    assert result == 42
    assert fn.calls == 4
    assert [n for n, _ in waits] == [1, 2, 3]
    for (_, delay), ceiling in zip(waits, [0.01, 0.02, 0.03], strict=True):
        assert ceiling * 0.5 <= delay <= ceiling  # jitter only shortens, max_backoff caps


async def test_gives_up_after_max_attempts_with_the_last_error() -> None:
    fn = Flaky(failures=10)
    with pytest.raises(ConnectionError, match="failure 4"):
        await retry(FAST, fn, 1)
    assert fn.calls == 4


@pytest.mark.parametrize("listed", [ValueError, "ValueError", Exception])
async def test_non_retryable_errors_fail_at_once(listed: type[Exception] | str) -> None:
    policy = RetryPolicy(max_attempts=5, initial_backoff=0.01, non_retryable=[listed])
    fn = Flaky(failures=10, error=ValueError)
    with pytest.raises(ValueError, match="failure 1"):
        await retry(policy, fn, 1)
    assert fn.calls == 1


async def test_open_circuit_waits_until_half_open() -> None:
    calls = 0

    async def guarded() -> str:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise CircuitOpenError("svc", retry_after=0.05)
        return "ok"

    waits: list[float] = []
    assert await retry(FAST, guarded, on_retry=lambda _, __, d: waits.append(d)) == "ok"
    assert waits[0] >= 0.05


def test_backoff_grows_and_is_capped() -> None:
    policy = RetryPolicy(initial_backoff=0.1, backoff_factor=3.0, max_backoff=0.5)
    assert [round(backoff(policy, n), 6) for n in (1, 2, 3, 4)] == [0.1, 0.3, 0.5, 0.5]


async def test_rejects_bad_jitter() -> None:
    with pytest.raises(ValueError, match="jitter"):
        await retry(FAST, Flaky(0), 1, jitter=2)


def test_backoff_never_overflows_with_unlimited_attempts() -> None:
    from beluga_temporal import RetryPolicy
    from beluga_temporal.resilience import backoff

    policy = RetryPolicy(max_attempts=0, initial_backoff=1, backoff_factor=2, max_backoff=30)
    assert backoff(policy, 5000) == 30
