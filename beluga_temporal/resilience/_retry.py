"""`retry`: a `RetryPolicy` for plain async code outside Temporal.

Inside workflows, Temporal retries steps itself; this is for clients, scripts and
start-up code that call flaky services directly (the seed's `resilience.Retry`).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from beluga_temporal.resilience._errors import CircuitOpenError

if TYPE_CHECKING:  # declare imports resilience (for breaker names): no import cycle
    from beluga_temporal.plan import Duration, RetryPolicy

T = TypeVar("T")
RetryListener = Callable[[int, BaseException, float], None]
"""Called with (failed attempt number, its error, seconds until the next attempt)."""


async def retry(
    policy: RetryPolicy,
    fn: Callable[..., Awaitable[T]],
    *args: Any,
    jitter: float = 0.2,
    on_retry: RetryListener | None = None,
) -> T:
    """Await `fn(*args)`, retrying failures as `policy` says.

    Delays grow from `initial_backoff` by `backoff_factor` up to `max_backoff`; each is
    shortened by a random fraction up to `jitter` so that many callers failing together
    do not retry in lockstep. Exceptions whose type (or a base type) is listed in
    `policy.non_retryable` are raised at once. A `CircuitOpenError` is retried no sooner
    than its breaker half-opens.

    Args:
        policy: Attempts and backoff; `max_attempts=0` retries without limit.
        fn: The async callable.
        *args: Positional arguments for `fn`.
        jitter: Largest fraction (0 to 1) taken off each delay at random.
        on_retry: Called before each wait, e.g. to log the failure.

    Returns:
        What `fn` returned on the first successful attempt.

    Raises:
        Exception: The last error, once attempts run out or it is non-retryable.
    """
    if not 0 <= jitter <= 1:
        raise ValueError(f"jitter must be between 0 and 1, got {jitter}")
    attempt = 1
    while True:
        try:
            return await fn(*args)
        except Exception as error:
            if _is_final(policy, attempt, error):
                raise
            delay = max(backoff(policy, attempt, jitter), _retry_after(error))
            if on_retry is not None:
                on_retry(attempt, error, delay)
            await asyncio.sleep(delay)
        attempt += 1


def backoff(policy: RetryPolicy, attempt: int, jitter: float = 0.0) -> float:
    """Return the seconds to wait after failed attempt number `attempt` (1-based)."""
    # Exponent capped: unlimited attempts must not overflow a float after ~1,000 tries.
    growth = policy.backoff_factor ** min(attempt - 1, 64)
    delay = _seconds(policy.initial_backoff) * growth
    if policy.max_backoff is not None:
        delay = min(delay, _seconds(policy.max_backoff))
    # Jitter only shortens the delay, so `max_backoff` stays a true upper bound.
    return delay * (1 - jitter * random.random())


def _is_final(policy: RetryPolicy, attempt: int, error: BaseException) -> bool:
    if policy.max_attempts and attempt >= policy.max_attempts:
        return True
    names = {cls.__name__ for cls in type(error).__mro__}
    listed = {item if isinstance(item, str) else item.__name__ for item in policy.non_retryable}
    return bool(names & listed)


def _retry_after(error: BaseException) -> float:
    return error.retry_after if isinstance(error, CircuitOpenError) else 0.0


def _seconds(value: Duration) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
