"""The metrics the framework records, and one small helper per event.

Call these from activities, workers and clients — not from workflow code, where a
replay would record the same event again.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import opentelemetry.metrics
from opentelemetry.util.types import Attributes

from beluga_temporal.observability._tracing import INSTRUMENTATION_NAME
from beluga_temporal.resilience import CircuitState, add_breaker_listener

STEP_EXECUTIONS = "beluga.step.executions"
STEP_FAILURES = "beluga.step.failures"
STEP_RETRIES = "beluga.step.retries"
STEP_DURATION = "beluga.step.duration"
CIRCUIT_BREAKER_STATE_CHANGES = "beluga.circuit_breaker.state_changes"
LLM_TOKENS = "beluga.llm.tokens"


@dataclass(frozen=True)
class _Instruments:
    executions: opentelemetry.metrics.Counter
    failures: opentelemetry.metrics.Counter
    retries: opentelemetry.metrics.Counter
    duration: opentelemetry.metrics.Histogram
    breaker_changes: opentelemetry.metrics.Counter
    llm_tokens: opentelemetry.metrics.Counter


@functools.cache
def _instruments() -> _Instruments:
    # created on first use, not at import: importing must have no side effects; the API's
    # proxy meter forwards to the provider setup_observability installs, even if later
    meter = opentelemetry.metrics.get_meter(INSTRUMENTATION_NAME)
    return _Instruments(
        executions=meter.create_counter(
            STEP_EXECUTIONS, unit="{execution}", description="Step attempts that finished"
        ),
        failures=meter.create_counter(
            STEP_FAILURES, unit="{execution}", description="Step attempts that raised"
        ),
        retries=meter.create_counter(
            STEP_RETRIES, unit="{execution}", description="Step attempts after the first"
        ),
        duration=meter.create_histogram(
            STEP_DURATION, unit="ms", description="Duration of one step attempt"
        ),
        breaker_changes=meter.create_counter(
            CIRCUIT_BREAKER_STATE_CHANGES,
            unit="{change}",
            description="Circuit breaker state transitions",
        ),
        llm_tokens=meter.create_counter(
            LLM_TOKENS, unit="{token}", description="Tokens used by LLM steps"
        ),
    )


def record_step(
    step: str,
    *,
    duration_ms: float,
    succeeded: bool,
    attempt: int = 1,
    workflow_type: str | None = None,
    error_type: str | None = None,
) -> None:
    """Record one finished step attempt.

    Counts an execution, its duration, a failure when it did not succeed and a retry
    when `attempt` > 1.

    Args:
        step: The step (activity) name.
        duration_ms: How long the attempt ran, in milliseconds.
        succeeded: Whether it returned normally.
        attempt: Temporal's attempt number, starting at 1.
        workflow_type: The workflow type that scheduled it, when known.
        error_type: The exception type name of a failed attempt.
    """
    instruments = _instruments()
    attributes: dict[str, str] = {"beluga.step": step}
    if workflow_type:
        attributes["beluga.workflow.type"] = workflow_type
    outcome = {**attributes, "beluga.status": "succeeded" if succeeded else "failed"}
    instruments.executions.add(1, outcome)
    instruments.duration.record(duration_ms, outcome)
    if attempt > 1:
        instruments.retries.add(1, attributes)
    if not succeeded:
        instruments.failures.add(1, {**attributes, "error.type": error_type or "unknown"})


def record_circuit_breaker_change(name: str, *, previous_state: str, state: str) -> None:
    """Record a circuit breaker moving between `closed`, `open` and `half_open`.

    Args:
        name: The breaker's name.
        previous_state: The state it left.
        state: The state it entered.
    """
    attributes: Attributes = {
        "beluga.circuit_breaker.name": name,
        "beluga.circuit_breaker.previous_state": previous_state,
        "beluga.circuit_breaker.state": state,
    }
    _instruments().breaker_changes.add(1, attributes)


def _on_breaker_transition(name: str, previous: CircuitState, state: CircuitState) -> None:
    record_circuit_breaker_change(name, previous_state=previous.value, state=state.value)


def subscribe_to_breakers() -> None:
    """Count every circuit breaker transition from now on (adding twice: no effect).

    Resilience knows nothing of metrics: it tells its listeners, and this is one.
    """
    add_breaker_listener(_on_breaker_transition)


def record_llm_tokens(
    *, provider: str, model: str, input_tokens: int | None, output_tokens: int | None
) -> None:
    """Record the token usage of one LLM call (GenAI semantic-convention attributes).

    Args:
        provider: The provider name, e.g. `openai` (`gen_ai.provider.name`).
        model: The requested model (`gen_ai.request.model`).
        input_tokens: Prompt tokens, when the provider reported them.
        output_tokens: Completion tokens, when the provider reported them.
    """
    counter = _instruments().llm_tokens
    for token_type, count in (("input", input_tokens), ("output", output_tokens)):
        if count:
            counter.add(
                count,
                {
                    "gen_ai.provider.name": provider,
                    "gen_ai.request.model": model,
                    "gen_ai.token.type": token_type,
                },
            )
