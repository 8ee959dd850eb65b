import uuid

import pytest

from beluga_temporal.observability import (
    CIRCUIT_BREAKER_STATE_CHANGES,
    LLM_TOKENS,
    STEP_DURATION,
    STEP_EXECUTIONS,
    STEP_FAILURES,
    STEP_RETRIES,
    Observability,
    record_circuit_breaker_change,
    record_llm_tokens,
    record_step,
)
from beluga_temporal.resilience import CircuitBreaker
from beluga_temporal.testing import MetricPoint, OTLPReceiver


def unique(name: str) -> str:
    # metrics are cumulative for the whole module: a unique name isolates this test's points
    return f"{name}-{uuid.uuid4().hex[:8]}"


def points_of(receiver: OTLPReceiver, metric: str, **attributes: object) -> list[MetricPoint]:
    return [
        p
        for p in receiver.latest_metric_points(metric)
        if all(p.attributes.get(k) == v for k, v in attributes.items())
    ]


def test_step_metrics_are_exported(observability: Observability, receiver: OTLPReceiver) -> None:
    step = unique("check_credit")
    record_step(step, duration_ms=40.0, succeeded=False, attempt=1, error_type="TimeoutError")
    record_step(step, duration_ms=20.0, succeeded=True, attempt=2, workflow_type="order-graph")
    assert observability.force_flush()

    receiver.wait_for_metric_points(
        STEP_EXECUTIONS, lambda ps: any(p.attributes.get("beluga.step") == step for p in ps)
    )
    executions = points_of(receiver, STEP_EXECUTIONS, **{"beluga.step": step})
    assert sorted((p.attributes["beluga.status"], p.value) for p in executions) == [
        ("failed", 1),
        ("succeeded", 1),
    ]
    (failure,) = points_of(receiver, STEP_FAILURES, **{"beluga.step": step})
    assert (failure.value, failure.attributes["error.type"]) == (1, "TimeoutError")
    (retry,) = points_of(receiver, STEP_RETRIES, **{"beluga.step": step})
    assert retry.value == 1  # only the second attempt is a retry
    durations = points_of(receiver, STEP_DURATION, **{"beluga.step": step})
    assert sorted((p.count, p.value) for p in durations) == [(1, 20.0), (1, 40.0)]


def test_llm_token_and_breaker_metrics_are_exported(
    observability: Observability, receiver: OTLPReceiver
) -> None:
    model, breaker = unique("gpt-test"), unique("payments")
    record_llm_tokens(provider="openai", model=model, input_tokens=120, output_tokens=30)
    record_llm_tokens(provider="openai", model=model, input_tokens=5, output_tokens=None)
    record_circuit_breaker_change(breaker, previous_state="closed", state="open")
    observability.force_flush()

    receiver.wait_for_metric_points(
        LLM_TOKENS, lambda ps: any(p.attributes.get("gen_ai.request.model") == model for p in ps)
    )
    tokens = {
        p.attributes["gen_ai.token.type"]: p.value
        for p in points_of(receiver, LLM_TOKENS, **{"gen_ai.request.model": model})
    }
    assert tokens == {"input": 125, "output": 30}
    (change,) = points_of(
        receiver, CIRCUIT_BREAKER_STATE_CHANGES, **{"beluga.circuit_breaker.name": breaker}
    )
    assert change.attributes["beluga.circuit_breaker.state"] == "open"
    assert change.value == 1


def test_breaker_transitions_are_counted_once_observability_is_set_up(
    observability: Observability, receiver: OTLPReceiver
) -> None:
    # resilience does not import observability: setup_observability subscribes to breakers
    name = unique("inventory")
    breaker = CircuitBreaker(name, max_failures=1, reset_timeout=60)
    with pytest.raises(ConnectionError), breaker.guard():
        raise ConnectionError("inventory service down")
    breaker.reset()
    observability.force_flush()

    receiver.wait_for_metric_points(
        CIRCUIT_BREAKER_STATE_CHANGES,
        lambda ps: any(p.attributes.get("beluga.circuit_breaker.name") == name for p in ps),
    )
    changes = points_of(
        receiver, CIRCUIT_BREAKER_STATE_CHANGES, **{"beluga.circuit_breaker.name": name}
    )
    assert sorted(
        (
            p.attributes["beluga.circuit_breaker.previous_state"],
            p.attributes["beluga.circuit_breaker.state"],
            p.value,
        )
        for p in changes
    ) == [("closed", "open", 1), ("open", "closed", 1)]
