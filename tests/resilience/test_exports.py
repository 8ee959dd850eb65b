"""Pin the public names of `beluga_temporal.resilience`."""

from __future__ import annotations

import beluga_temporal.resilience as resilience


def test_public_names() -> None:
    assert set(resilience.__all__) == {
        "CIRCUIT_OPEN",
        "DEFAULT_PAYLOAD_SIZE_LIMIT",
        "PAYLOAD_TOO_LARGE",
        "breaker_name",
        "check_encoded",
        "check_payload",
        "check_start_input",
        "check_step_input",
        "check_workflow_payload",
        "too_large",
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
        "get_circuit_breaker",
        "guard_step",
        "heartbeat",
        "last_heartbeat_details",
        "payload_size_limit",
        "remove_breaker_listener",
        "retry",
        "set_payload_size_limit",
        "step_context",
    }
    assert all(hasattr(resilience, name) for name in resilience.__all__)
