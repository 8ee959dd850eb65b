"""The errors the resilience layer raises (defined with the others in `errors`)."""

from __future__ import annotations

from beluga_temporal.errors import (
    CircuitBreakerNotDeclaredError,
    CircuitOpenError,
    PayloadTooLargeError,
)

CIRCUIT_OPEN = "CircuitOpenError"
PAYLOAD_TOO_LARGE = "PayloadTooLargeError"

__all__ = [
    "CIRCUIT_OPEN",
    "PAYLOAD_TOO_LARGE",
    "CircuitBreakerNotDeclaredError",
    "CircuitOpenError",
    "PayloadTooLargeError",
]
