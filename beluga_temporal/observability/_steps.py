"""Activity side: record every step attempt as metrics and span attributes."""

from __future__ import annotations

import opentelemetry.trace
import temporalio.activity

from beluga_temporal.observability._metrics import record_step


def record_attempt(step: str, error: BaseException | None, elapsed: float) -> None:
    """Record one finished step attempt (a hook of the activity wrapper)."""
    info = temporalio.activity.info()
    record_step(
        step,
        duration_ms=elapsed * 1000,
        succeeded=error is None,
        attempt=info.attempt,
        workflow_type=info.workflow_type,
        error_type=None if error is None else type(error).__name__,
    )
    span = opentelemetry.trace.get_current_span()
    if span.is_recording():
        span.set_attribute("beluga.step", step)
        span.set_attribute("beluga.attempt", info.attempt)
        span.set_attribute("beluga.status", "succeeded" if error is None else "failed")
