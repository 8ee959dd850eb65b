"""Workflow side: spans for runs and nodes, through Temporal's tracing interceptor.

Spans are emitted only when the worker has `TracingInterceptor` and never during replay
(the interceptor's `completed_span` skips replays), so a worker restart does not
duplicate them. Without tracing configured these calls do nothing.
"""

from __future__ import annotations

from temporalio.contrib.opentelemetry import TracingWorkflowInboundInterceptor, workflow

from beluga_temporal.runtime._progress import NodeProgress

TERMINAL = ("succeeded", "failed", "skipped", "cancelled")


def _tracing_on() -> bool:
    # `completed_span` would fall back to a non-replay-safe global tracer otherwise.
    return TracingWorkflowInboundInterceptor._from_context() is not None


def node_span(
    kind: str, run: str, node: str, progress: NodeProgress, status: str, error: str | None
) -> None:
    """Record a finished chain step or graph node."""
    if status not in TERMINAL or not _tracing_on():
        return
    attributes = {
        "workflow.type": kind,
        "workflow.name": run,
        "beluga.node": node,
        "beluga.step": progress.step,
        "beluga.status": status,
    }
    if error:
        attributes["error.type"] = error.split(":", 1)[0]
    workflow.completed_span(f"beluga.node {node}", attributes=attributes)


def run_span(
    kind: str, run: str, steps: int, status: str, failure: tuple[str, str, str] | None = None
) -> None:
    """Record a finished chain or graph run (the seed's `workflow.execute` span)."""
    if not _tracing_on():
        return
    workflow.completed_span(
        f"beluga.{kind} {run}",
        attributes={
            "workflow.type": kind,
            "workflow.name": run,
            "workflow.steps": steps,
            "workflow.status": status,
        },
    )
