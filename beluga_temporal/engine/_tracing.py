"""Workflow side: a span for each run and each node, with real durations.

Spans come from the replay-safe tracer provider (`temporalio.contrib.opentelemetry.
create_tracer_provider`, installed by `setup_observability`): span ids are drawn from
the workflow's deterministic random, start and end times are workflow times, and a
span is exported when it ends outside replay. So a span is emitted exactly once — by
the worker that ends it live — however many times its history is replayed, and a span
that a worker restart interrupted is ended (and emitted) by the worker that resumes it.

The run span starts at the workflow's start time and ends when the run ends; a node
span runs from the node's `started_at` to its `finished_at`, and the node's activities
(or child workflow) are its children. Each Temporal run (execution) of a continued run
has its own run span, ended with status `continued`. Without a replay-safe provider, or
in a workflow that nobody traces (no tracing interceptor on the worker), nothing is
recorded.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import Token
from datetime import UTC, datetime, timedelta

import opentelemetry.context
import opentelemetry.trace
import temporalio.workflow
from opentelemetry.context import Context
from opentelemetry.trace import Span, Status, StatusCode, Tracer
from opentelemetry.util.types import AttributeValue
from temporalio.contrib.opentelemetry import ReplaySafeTracerProvider
from temporalio.exceptions import ApplicationError

from beluga_temporal.engine._progress import NodeProgress

INSTRUMENTATION_NAME = "beluga_temporal"


def workflow_tracer() -> Tracer | None:
    """The replay-safe tracer for this workflow, or `None` when it is not traced."""
    provider = opentelemetry.trace.get_tracer_provider()
    if not isinstance(provider, ReplaySafeTracerProvider):
        return None  # a plain provider would emit again on every replay
    if not opentelemetry.trace.get_current_span().get_span_context().is_valid:
        return None  # no trace to join: the worker has no tracing interceptor
    return provider.get_tracer(INSTRUMENTATION_NAME)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _ns(moment: datetime) -> int:
    # Exact (no float): a span's times equal the progress's `started_at`/`finished_at`.
    return (moment - _EPOCH) // timedelta(microseconds=1) * 1_000


@contextlib.contextmanager
def _attached(context: Context) -> Iterator[None]:
    token: Token[Context] = opentelemetry.context.attach(context)
    try:
        yield
    finally:
        # An evicted workflow's blocks may finish in another contextvars context, where
        # the token is not valid; there is nothing to detach there.
        with contextlib.suppress(ValueError):
            token.var.reset(token)


class RunTrace:
    """The spans of one run: the run span and one span per node."""

    def __init__(self, kind: str, name: str, steps: int, *, since: datetime | None) -> None:
        """Start the run span (when the workflow is traced).

        Args:
            kind: `chain` or `graph`.
            name: The chain's or graph's name.
            steps: How many nodes the plan has.
            since: When the run started; default the workflow's start time.
        """
        self._tracer = workflow_tracer()
        self._nodes: dict[str, Span] = {}
        info = temporalio.workflow.info()
        self._common: dict[str, AttributeValue] = {
            "workflow.type": kind,
            "workflow.name": name,
            "temporalWorkflowID": info.workflow_id,
            "temporalRunID": info.run_id,
        }
        self._run: Span | None = None
        if self._tracer is not None:
            self._run = self._tracer.start_span(
                f"beluga.{kind} {name}",
                attributes={**self._common, "workflow.steps": steps},
                start_time=_ns(since or info.workflow_start_time),
            )

    @contextlib.contextmanager
    def active(self) -> Iterator[None]:
        """Make the run span current: what the block schedules becomes its child."""
        if self._run is None:
            yield
            return
        with _attached(opentelemetry.trace.set_span_in_context(self._run)):
            yield

    @contextlib.contextmanager
    def node_active(self, name: str) -> Iterator[None]:
        """Make a running node's span current (for its activities or child workflow)."""
        span = self._nodes.get(name)
        if span is None:
            yield
            return
        with _attached(opentelemetry.trace.set_span_in_context(span)):
            yield

    def node_started(self, name: str, progress: NodeProgress) -> None:
        """Open the span of a node that starts running."""
        if self._tracer is None or self._run is None or name in self._nodes:
            return
        self._nodes[name] = self._tracer.start_span(
            f"beluga.node {name}",
            context=opentelemetry.trace.set_span_in_context(self._run),
            attributes={**self._common, "beluga.node": name, "beluga.step": progress.step},
            start_time=_ns(progress.started_at or temporalio.workflow.now()),
        )

    def node_finished(self, name: str, progress: NodeProgress, error: str | None) -> None:
        """End a node's span with its final status (a skipped node gets an instant span)."""
        if self._tracer is None or self._run is None:
            return
        ended = progress.finished_at or temporalio.workflow.now()
        span = self._nodes.pop(name, None)
        if span is None:  # skipped, or cancelled before it ever started
            span = self._tracer.start_span(
                f"beluga.node {name}",
                context=opentelemetry.trace.set_span_in_context(self._run),
                attributes={**self._common, "beluga.node": name, "beluga.step": progress.step},
                start_time=_ns(ended),
            )
        span.set_attribute("beluga.status", progress.status)
        span.set_attribute("beluga.attempts", progress.attempts)
        if progress.status == "failed" and error:
            error_type, _, message = error.partition(": ")
            _mark_error(span, error_type, message, ended)
        span.end(end_time=_ns(ended))

    def end(self, status: str, error: BaseException | None) -> None:
        """End the run span: `status` is the run's; a failure makes it an ERROR span."""
        if self._run is None:
            return
        now = temporalio.workflow.now()
        self._run.set_attribute("workflow.status", status)
        if isinstance(error, ApplicationError):
            _mark_error(self._run, error.type or "ApplicationError", error.message, now)
        elif error is not None:
            _mark_error(self._run, type(error).__name__, str(error), now)
        self._run.end(end_time=_ns(now))
        self._run = None


def _mark_error(span: Span, error_type: str, message: str, at: datetime) -> None:
    # An event with the semantic-convention keys, not `record_exception`: its
    # stack trace would differ between workers, and the run span must not depend on
    # which one ended it.
    span.set_attribute("error.type", error_type)
    span.set_status(Status(StatusCode.ERROR, f"{error_type}: {message}"))
    span.add_event(
        "exception",
        {"exception.type": error_type, "exception.message": message},
        timestamp=_ns(at),
    )
