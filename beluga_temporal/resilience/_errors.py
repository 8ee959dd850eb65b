"""The errors the resilience layer raises inside steps and clients."""

from __future__ import annotations

from beluga_temporal.errors import BelugaError

CIRCUIT_OPEN = "CircuitOpenError"
PAYLOAD_TOO_LARGE = "PayloadTooLargeError"


class CircuitOpenError(BelugaError):
    """A circuit breaker refused a call because its dependency is failing.

    Retryable: inside a step it becomes an `ApplicationError` whose `next_retry_delay`
    is `retry_after`, so Temporal schedules the next attempt when the breaker half-opens.

    Attributes:
        breaker: The breaker's name.
        retry_after: Seconds until the breaker admits a probe call.
    """

    def __init__(self, breaker: str, retry_after: float) -> None:
        super().__init__(f"circuit breaker '{breaker}' is open; next attempt in {retry_after:.2f}s")
        self.breaker = breaker
        self.retry_after = retry_after


class PayloadTooLargeError(BelugaError):
    """A step input or result, or a run input, is over Temporal's payload size limit.

    Never retried: the same value would be rejected again. Store large data elsewhere
    (a blob store, a database) and pass a reference.

    Attributes:
        what: What was too large, e.g. `"result of step 'render'"`.
        size: Its encoded size in bytes.
        limit: The limit in bytes.
    """

    def __init__(self, what: str, size: int, limit: int) -> None:
        super().__init__(
            f"{what} is {_mib(size)} ({size} bytes), over the payload limit of "
            f"{_mib(limit)} ({limit} bytes); store large data elsewhere and pass a reference"
        )
        self.what = what
        self.size = size
        self.limit = limit


def _mib(size: int) -> str:
    return f"{size / (1024 * 1024):.2f} MiB"
