"""Structured logs, OpenTelemetry traces and metrics, and Temporal SDK telemetry.

Call `setup_observability(settings)` once at process start (workers, CLI, tests):

```python
obs = setup_observability(BelugaSettings.load())
client = await Client.connect(
    **settings.temporal_connect_kwargs(),
    interceptors=[obs.tracing_interceptor()],
    runtime=obs.runtime,
)
log = get_logger(__name__)
log.info("order accepted", order_id="o-1")   # + trace_id, span_id, workflow_id, step…
```

Secrets (API keys, authorization headers, passwords) never reach spans or logs; prompt
and completion text only when `observability.capture_prompts` is on.
"""

from beluga_temporal.observability._logging import (
    Redactor,
    add_temporal_context,
    add_trace_context,
    get_logger,
)
from beluga_temporal.observability._metrics import (
    CIRCUIT_BREAKER_STATE_CHANGES,
    LLM_TOKENS,
    STEP_DURATION,
    STEP_EXECUTIONS,
    STEP_FAILURES,
    STEP_RETRIES,
    record_circuit_breaker_change,
    record_llm_tokens,
    record_step,
)
from beluga_temporal.observability._redact import (
    REDACTED,
    add_secret_values,
    is_prompt_key,
    is_secret_key,
)
from beluga_temporal.observability._setup import (
    Observability,
    current_observability,
    setup_observability,
    shutdown_observability,
)
from beluga_temporal.observability._steps import record_attempt
from beluga_temporal.observability._temporal import tracing_interceptor

__all__ = [
    "CIRCUIT_BREAKER_STATE_CHANGES",
    "LLM_TOKENS",
    "REDACTED",
    "STEP_DURATION",
    "STEP_EXECUTIONS",
    "STEP_FAILURES",
    "STEP_RETRIES",
    "Observability",
    "Redactor",
    "add_secret_values",
    "add_temporal_context",
    "add_trace_context",
    "current_observability",
    "get_logger",
    "is_prompt_key",
    "is_secret_key",
    "record_attempt",
    "record_circuit_breaker_change",
    "record_llm_tokens",
    "record_step",
    "setup_observability",
    "shutdown_observability",
    "tracing_interceptor",
]
