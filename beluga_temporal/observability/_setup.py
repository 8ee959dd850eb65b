"""`setup_observability`: logs, traces and metrics configured once per process."""

from __future__ import annotations

import functools
import importlib.metadata
import logging
import os
import threading
from dataclasses import dataclass, field
from typing import TextIO

import opentelemetry.trace
import temporalio.runtime
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.resources import Resource

from beluga_temporal.observability._export import (
    RetargetableMetricExporter,
    install_meter_provider,
    otlp_metric_exporter,
)
from beluga_temporal.observability._logging import configure_logging
from beluga_temporal.observability._metrics import subscribe_to_breakers
from beluga_temporal.observability._redact import add_secret_values
from beluga_temporal.observability._temporal import (
    TracingInterceptors,
    build_runtime,
    runtime_key,
    tracing_interceptor,
)
from beluga_temporal.observability._tracing import (
    INSTRUMENTATION_NAME,
    RedactingSpanExporter,
    install_tracer_provider,
    otlp_base_url,
    otlp_span_exporter,
    traces_url,
)
from beluga_temporal.settings import BelugaSettings, ObservabilitySettings


@dataclass
class Observability:
    """The configured telemetry of this process; returned by `setup_observability`."""

    settings: ObservabilitySettings
    """The settings it was configured with."""
    tracer_provider: opentelemetry.trace.TracerProvider
    """The global tracer provider."""
    meter_provider: MeterProvider | None
    """The global meter provider, `None` when the application installed its own."""
    runtime: temporalio.runtime.Runtime | None
    """Temporal Core runtime (made the default runtime) that exports SDK metrics when
    configured and always forwards Core's log lines to Python logging."""
    log_handler: logging.StreamHandler[TextIO]
    """The root logging handler writing structured lines to stderr (`setStream` moves it)."""

    def tracer(self, name: str = INSTRUMENTATION_NAME) -> opentelemetry.trace.Tracer:
        """Return a tracer from the configured provider."""
        return self.tracer_provider.get_tracer(name)

    @property
    def exports_traces(self) -> bool:
        """Whether spans are exported (tracing on and an endpoint configured)."""
        return traces_url(self.settings) is not None

    @functools.cached_property
    def records_steps(self) -> bool:
        """Whether step attempts are worth recording: their metrics or spans go somewhere.

        True when metrics are exported, spans are exported, or the application installed
        its own meter provider (which it reads itself). Without any, recording an
        attempt would cost every step ~40 µs for numbers nobody reads.
        """
        exports_metrics = self.settings.metrics_enabled and otlp_base_url(self.settings)
        return self.meter_provider is None or self.exports_traces or bool(exports_metrics)

    def tracing_interceptor(self) -> TracingInterceptors:
        """Return Temporal's tracing interceptor (see `tracing_interceptor`)."""
        return tracing_interceptor()

    def force_flush(self, timeout_millis: int = 10_000) -> bool:
        """Export buffered spans and collect-and-export metrics now.

        Returns:
            Whether every exporter finished in time.
        """
        flush_spans = getattr(self.tracer_provider, "force_flush", None)
        spans_ok = bool(flush_spans(timeout_millis)) if flush_spans else True
        metrics_ok = (
            self.meter_provider.force_flush(timeout_millis) if self.meter_provider else True
        )
        return spans_ok and metrics_ok

    def shutdown(self) -> None:
        """Flush and stop exporting; a later `setup_observability` configures afresh."""
        shutdown_observability()


@dataclass
class _Pipeline:
    """Process-wide pieces: OpenTelemetry lets global providers be installed only once."""

    span_exporter: RedactingSpanExporter
    metric_exporter: RetargetableMetricExporter
    tracer_provider: opentelemetry.trace.TracerProvider
    meter_provider: MeterProvider | None
    runtimes: dict[tuple[str, str], temporalio.runtime.Runtime] = field(default_factory=dict)
    previous_default: temporalio.runtime.Runtime | None = None
    """Temporal's default runtime before ours replaced it; restored on shutdown."""


_lock = threading.Lock()
_pipeline: _Pipeline | None = None
_current: Observability | None = None


def setup_observability(settings: BelugaSettings | None = None) -> Observability:
    """Configure structured logging, OpenTelemetry and Temporal SDK metrics.

    Idempotent: a call with the same observability settings returns the same
    `Observability`. A call with different settings re-points the exporters and the
    log format; `service_name` and the resource attributes stay those of the first
    call, because OpenTelemetry global providers (which carry them) can be installed
    only once per process.

    The standard `OTEL_*` variables (`OTEL_EXPORTER_OTLP_ENDPOINT`,
    `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, `OTEL_EXPORTER_OTLP_PROTOCOL`,
    `OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`, `OTEL_TRACES_EXPORTER`,
    `OTEL_METRICS_EXPORTER`, `OTEL_SDK_DISABLED`) are read by `BelugaSettings`:
    `BELUGA_*` variables and arguments win over them, they win over the YAML file.

    Args:
        settings: The process settings; default `BelugaSettings.load()`.

    Returns:
        The configured telemetry: tracer and meter providers, the Temporal runtime to
        connect clients with, and the tracing interceptor.

    Raises:
        ConfigurationError: The settings (or an `OTEL_*` variable) are invalid.
    """
    global _current
    settings = settings or BelugaSettings.load()
    _register_secrets(settings)
    wanted = settings.observability
    with _lock:
        if _current is not None and _current.settings == wanted:
            return _current
        if _current is not None:
            _current.force_flush()  # what was recorded so far belongs to the old target
        pipeline = _install(wanted)
        pipeline.span_exporter.retarget(
            otlp_span_exporter(wanted), capture_prompts=wanted.capture_prompts
        )
        pipeline.metric_exporter.retarget(otlp_metric_exporter(wanted))
        subscribe_to_breakers()
        _current = Observability(
            settings=wanted,
            tracer_provider=pipeline.tracer_provider,
            meter_provider=pipeline.meter_provider,
            runtime=_runtime(pipeline, wanted),
            log_handler=configure_logging(wanted),
        )
        return _current


def _register_secrets(settings: BelugaSettings) -> None:
    # Keys are scrubbed from every exported string, whatever field carries them.
    temporal_key = settings.orchestration.workflow.temporal.api_key
    llm_key = settings.llm.api_key
    security = settings.security
    encryption_keys = [security.encryption_key, *security.previous_keys]
    add_secret_values(
        temporal_key.get_secret_value() if temporal_key else None,
        llm_key.get_secret_value() if llm_key else None,
        os.environ.get("OPENAI_API_KEY"),
        *(key.get_secret_value() for key in encryption_keys if key is not None),
    )


def current_observability() -> Observability | None:
    """Return what `setup_observability` configured, or `None` before it is called."""
    return _current


def shutdown_observability() -> None:
    """Flush spans and metrics, then stop exporting them (safe to call twice)."""
    global _current
    with _lock:
        if _current is None or _pipeline is None:
            return
        _current.force_flush()
        _pipeline.span_exporter.retarget(None, capture_prompts=False)
        _pipeline.metric_exporter.retarget(None)
        _restore_default_runtime(_pipeline)
        _current = None


def _install(settings: ObservabilitySettings) -> _Pipeline:
    global _pipeline
    if _pipeline is None:
        resource = Resource.create(
            {
                "service.version": _version(),
                **settings.resource_attributes,
                "service.name": settings.service_name,
            }
        )
        spans, metrics = RedactingSpanExporter(), RetargetableMetricExporter()
        _pipeline = _Pipeline(
            span_exporter=spans,
            metric_exporter=metrics,
            tracer_provider=install_tracer_provider(resource, spans),
            meter_provider=install_meter_provider(resource, metrics),
        )
    return _pipeline


def _runtime(
    pipeline: _Pipeline, settings: ObservabilitySettings
) -> temporalio.runtime.Runtime | None:
    key = runtime_key(settings)
    # one runtime per destination: a second Prometheus runtime could not bind the port
    runtime = pipeline.runtimes.get(key)
    if runtime is None:
        runtime = pipeline.runtimes[key] = build_runtime(key, settings.service_name)
    if pipeline.previous_default is None:
        pipeline.previous_default = _default_runtime()
    # plain `Client.connect` calls made from now on export SDK metrics too
    temporalio.runtime.Runtime.set_default(runtime, error_if_already_set=False)
    return runtime


def _default_runtime() -> temporalio.runtime.Runtime | None:
    try:
        return temporalio.runtime.Runtime.default()
    except RuntimeError:  # the application called Runtime.prevent_default()
        return None


def _restore_default_runtime(pipeline: _Pipeline) -> None:
    # dropping ours lets Core stop exporting to an endpoint that may be gone
    pipeline.runtimes.clear()
    if pipeline.previous_default is not None:
        temporalio.runtime.Runtime.set_default(
            pipeline.previous_default, error_if_already_set=False
        )
        pipeline.previous_default = None


def _version() -> str:
    try:
        return importlib.metadata.version("beluga-temporal")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"
