"""OpenTelemetry tracing: a tracer provider whose export target can change."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import opentelemetry.trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

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
    """Install an SDK tracer provider globally, once per process.

    Workflow-side spans go through Temporal's `TracingInterceptor`, which already skips
    them on replay. A plain provider (random ids) is deliberate: Temporal's
    `create_tracer_provider` draws span ids from the workflow's deterministic random,
    so after a worker restart the replayed sequence hands out ids that earlier spans of
    the same trace already carry. When the application installed its own SDK provider
    first, ours is not installed; the exporter is added to theirs instead.
    """
    current = opentelemetry.trace.get_tracer_provider()
    add_processor = getattr(current, "add_span_processor", None)  # an SDK provider, not the proxy
    if add_processor is not None:
        add_processor(BatchSpanProcessor(exporter))
        return current
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(BatchSpanProcessor(exporter))
    opentelemetry.trace.set_tracer_provider(provider)
    return provider
