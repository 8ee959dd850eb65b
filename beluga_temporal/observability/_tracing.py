"""OpenTelemetry tracing: a tracer provider whose export target can change."""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Sequence
from typing import Any

import opentelemetry.trace
import temporalio.workflow
from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan, Span, SpanProcessor
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from temporalio.contrib.opentelemetry import create_tracer_provider

from beluga_temporal.observability._redact import redact_mapping
from beluga_temporal.settings import ObservabilitySettings

INSTRUMENTATION_NAME = "beluga_temporal"


class RedactingSpanExporter(SpanExporter):
    """Redact secrets (and prompts unless captured), then forward to the current target.

    The target is swapped by `setup_observability` when the endpoint changes: the global
    tracer provider can be installed only once per process, its exporter can change.
    """

    def __init__(self) -> None:
        self._target: SpanExporter | None = None
        self._capture_prompts = False
        self._lock = threading.Lock()

    def retarget(self, target: SpanExporter | None, *, capture_prompts: bool) -> None:
        """Send spans to `target` from now on (`None` drops them); shut the old one down."""
        with self._lock:
            old, self._target = self._target, target
            self._capture_prompts = capture_prompts
        if old is not None:
            old.shutdown()

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        with self._lock:
            target, capture = self._target, self._capture_prompts
        if target is None:
            return SpanExportResult.SUCCESS
        return target.export([_redacted(span, capture_prompts=capture) for span in spans])

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        target = self._target
        return True if target is None else target.force_flush(timeout_millis)

    def shutdown(self) -> None:
        self.retarget(None, capture_prompts=self._capture_prompts)


def _redacted(span: ReadableSpan, *, capture_prompts: bool) -> ReadableSpan:
    attributes = redact_mapping(span.attributes or {}, capture_prompts=capture_prompts)
    events = [_redacted_event(e, capture_prompts=capture_prompts) for e in span.events]
    if attributes is None and all(new is old for new, old in zip(events, span.events, strict=True)):
        return span  # the common case: nothing to copy
    return ReadableSpan(
        name=span.name,
        context=span.context,
        parent=span.parent,
        resource=span.resource,
        attributes=span.attributes if attributes is None else attributes,
        events=events,
        links=span.links,
        kind=span.kind,
        status=span.status,
        start_time=span.start_time,
        end_time=span.end_time,
        instrumentation_scope=span.instrumentation_scope,
    )


def _redacted_event(event: Event, *, capture_prompts: bool) -> Event:
    attributes = redact_mapping(event.attributes or {}, capture_prompts=capture_prompts)
    if attributes is None:
        return event
    return Event(event.name, attributes, event.timestamp)


class WorkflowSpanGuard(SpanProcessor):
    """Pass on spans, except workflow-side spans ended outside their workflow.

    A worker that stops with runs in flight drops their workflow instances; garbage
    collection then closes their coroutines, and a `with span:` block in them ends its
    span outside any workflow, where replay-safety cannot tell it apart from a real
    end (Temporal's own `RunWorkflow` span does this). The run goes on elsewhere and
    ends that span there, so this one would be a truncated duplicate: it is dropped.
    """

    def __init__(self, inner: SpanProcessor) -> None:
        self._inner = inner
        self._owners: dict[int, weakref.ref[Any]] = {}

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        owner = _workflow_instance()
        if owner is not None:
            self._owners[span.get_span_context().span_id] = weakref.ref(owner)
        self._inner.on_start(span, parent_context=parent_context)

    def on_end(self, span: ReadableSpan) -> None:
        context = span.get_span_context()
        owner = self._owners.pop(context.span_id, None) if context is not None else None
        if owner is not None and (owner() is None or owner() is not _workflow_instance()):
            return
        self._inner.on_end(span)

    def shutdown(self) -> None:
        self._inner.shutdown()

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return self._inner.force_flush(timeout_millis)


class _ClosedWorkflowDetach(logging.Filter):
    """Drop "Failed to detach context" when a dropped workflow's coroutine is closed.

    That is the same garbage collection `WorkflowSpanGuard` handles: the block that
    attached the context is finished in another one, which OpenTelemetry logs as an
    error with a traceback although nothing is wrong (the run goes on elsewhere).
    """

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        closing = error is not None and isinstance(error.__context__, GeneratorExit)
        return not (closing and record.getMessage() == "Failed to detach context")


def _workflow_instance() -> Any:
    if not temporalio.workflow.in_workflow():
        return None
    try:
        return temporalio.workflow.instance()
    except Exception:  # no workflow object yet (its __init__ has not run)
        return None


def traces_url(settings: ObservabilitySettings) -> str | None:
    """Return where spans go: `otlp_traces_endpoint` as is, else derived from the base URL.

    `None` when tracing is off or no endpoint is configured.
    """
    if not settings.tracing_enabled:
        return None
    if settings.otlp_traces_endpoint:
        return _with_scheme(settings.otlp_traces_endpoint)
    endpoint = otlp_base_url(settings)
    if endpoint is None:
        return None
    # OTLP/HTTP appends the signal path to a base URL; gRPC takes the address as is
    return f"{endpoint}/v1/traces" if settings.otlp_protocol == "http" else endpoint


def otlp_span_exporter(settings: ObservabilitySettings) -> SpanExporter | None:
    """Build the OTLP span exporter the settings ask for, or `None` when export is off."""
    url = traces_url(settings)
    if url is None:
        return None
    if settings.otlp_protocol == "http":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter(endpoint=url)
    # imported only when chosen: it loads grpc
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
        OTLPSpanExporter as GrpcSpanExporter,
    )

    return GrpcSpanExporter(endpoint=url)


def otlp_base_url(settings: ObservabilitySettings) -> str | None:
    """Return the OTLP endpoint with a scheme and without a trailing slash."""
    endpoint = settings.otlp_endpoint
    if not endpoint:
        return None
    return _with_scheme(endpoint).rstrip("/")


def _with_scheme(endpoint: str) -> str:
    # `localhost:4318` is what people type
    return endpoint if "://" in endpoint else f"http://{endpoint}"


def install_tracer_provider(
    resource: Resource, exporter: RedactingSpanExporter
) -> opentelemetry.trace.TracerProvider:
    """Install a replay-safe tracer provider globally, once per process.

    It is Temporal's `create_tracer_provider()`: inside workflows its span ids come from
    the workflow's deterministic random and spans ended during replay are dropped, so
    workflow-side spans can last as long as what they measure (a run, a node) and are
    still emitted once. Outside workflows it behaves like a plain SDK provider. When
    the application installed its own SDK provider first, ours is not installed; the
    exporter is added to theirs instead (beluga's run and node spans then need theirs
    to be replay-safe too, see `tracing_interceptor`).
    """
    current = opentelemetry.trace.get_tracer_provider()
    add_processor = getattr(current, "add_span_processor", None)  # an SDK provider, not the proxy
    logging.getLogger("opentelemetry.context").addFilter(_ClosedWorkflowDetach())
    processor = WorkflowSpanGuard(BatchSpanProcessor(exporter))
    if add_processor is not None:
        add_processor(processor)
        return current
    provider = create_tracer_provider(resource=resource)
    provider.add_span_processor(processor)
    opentelemetry.trace.set_tracer_provider(provider)
    return provider
