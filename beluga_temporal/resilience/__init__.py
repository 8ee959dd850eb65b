"""Resilience: circuit breakers, retries outside Temporal, heartbeats, idempotency.

```python
payments = CircuitBreaker("payments", max_failures=5, reset_timeout=60)

@step(circuit_breaker=payments, heartbeat_timeout=10)
async def charge(order: Order) -> Receipt:
    ctx = step_context()                      # idempotency key, attempt, workflow id
    done = last_heartbeat_details()           # resume after a crashed attempt
    ...
    heartbeat(progress)                       # liveness + cancellation delivery
```

Temporal retries steps and bounds them with timeouts; these helpers add what it cannot
know: when a dependency is down (breaker), how far a step got (heartbeat details), and
how to make a retried side effect happen once (idempotency keys).
"""

from beluga_temporal.resilience._breaker import (
    CircuitBreaker,
    breaker_name,
    get_circuit_breaker,
    guard_step,
)
from beluga_temporal.resilience._breaker_state import (
    CircuitState,
    StateListener,
    add_breaker_listener,
    remove_breaker_listener,
)
from beluga_temporal.resilience._context import (
    StepContext,
    heartbeat,
    last_heartbeat_details,
    step_context,
)
from beluga_temporal.resilience._errors import (
    CIRCUIT_OPEN,
    PAYLOAD_TOO_LARGE,
    CircuitBreakerNotDeclaredError,
    CircuitOpenError,
    PayloadTooLargeError,
)
from beluga_temporal.resilience._payload import (
    DEFAULT_PAYLOAD_SIZE_LIMIT,
    check_encoded,
    check_payload,
    check_start_input,
    check_step_input,
    check_workflow_payload,
    payload_size_limit,
    set_payload_size_limit,
    too_large,
)
from beluga_temporal.resilience._retry import RetryListener, backoff, retry

__all__ = [
    "CIRCUIT_OPEN",
    "DEFAULT_PAYLOAD_SIZE_LIMIT",
    "PAYLOAD_TOO_LARGE",
    "CircuitBreaker",
    "CircuitBreakerNotDeclaredError",
    "CircuitOpenError",
    "CircuitState",
    "PayloadTooLargeError",
    "RetryListener",
    "StateListener",
    "StepContext",
    "add_breaker_listener",
    "backoff",
    "breaker_name",
    "check_encoded",
    "check_payload",
    "check_start_input",
    "check_step_input",
    "check_workflow_payload",
    "get_circuit_breaker",
    "guard_step",
    "heartbeat",
    "last_heartbeat_details",
    "payload_size_limit",
    "remove_breaker_listener",
    "retry",
    "set_payload_size_limit",
    "step_context",
    "too_large",
]
