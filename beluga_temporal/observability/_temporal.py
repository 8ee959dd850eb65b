"""Temporal SDK telemetry: the Core runtime's metrics and the tracing interceptor."""

from __future__ import annotations

import logging
import os
import urllib.parse

import opentelemetry.trace
import temporalio.runtime
from temporalio.contrib.opentelemetry import (
    OpenTelemetryInterceptor,
    ReplaySafeTracerProvider,
    TracingInterceptor,
)

from beluga_temporal.observability._tracing import INSTRUMENTATION_NAME, otlp_base_url
from beluga_temporal.settings import ObservabilitySettings

_log = logging.getLogger(__name__)
_warned: list[bool] = []
RuntimeKey = tuple[str, str]
LOGS_ONLY: RuntimeKey = ("logs", "")
"""A runtime that exports no metrics but still forwards Core's logs to Python logging."""


def runtime_key(settings: ObservabilitySettings) -> RuntimeKey:
    """Identify the metrics destination of a Temporal `Runtime` (`LOGS_ONLY`: none)."""
    if not settings.metrics_enabled:
        return LOGS_ONLY
    if settings.prometheus_bind:
        return ("prometheus", settings.prometheus_bind)
    endpoint = otlp_base_url(settings)
    if endpoint is None:
        return LOGS_ONLY
    if settings.otlp_protocol == "http":
        return ("http", f"{endpoint}/v1/metrics")  # Core wants the full HTTP path
    return ("grpc", endpoint)


def build_runtime(key: tuple[str, str], service_name: str) -> temporalio.runtime.Runtime:
    """Create a Temporal Core runtime that exports SDK metrics to `key`'s destination.

    Workers' and clients' own metrics (task latencies, poll counts, RPC requests…) are
    recorded by Core in Rust, so they are exported by Core itself, not by the Python
    meter provider; a runtime is created per destination.
    """
    kind, target = key
    metrics: temporalio.runtime.OpenTelemetryConfig | temporalio.runtime.PrometheusConfig | None
    if kind == "logs":
        metrics = None
    elif kind == "prometheus":
        metrics = temporalio.runtime.PrometheusConfig(bind_address=target)
    else:
        metrics = temporalio.runtime.OpenTelemetryConfig(
            url=target, http=kind == "http", headers=_otlp_headers() or None
        )
    telemetry = temporalio.runtime.TelemetryConfig(
        metrics=metrics,
        global_tags={"service.name": service_name},
        logging=_forward_core_logs(),
    )
    return temporalio.runtime.Runtime(telemetry=telemetry)


def _otlp_headers() -> dict[str, str]:
    # Core does not read the standard variables itself; the Python exporters do.
    raw = os.environ.get("OTEL_EXPORTER_OTLP_METRICS_HEADERS") or os.environ.get(
        "OTEL_EXPORTER_OTLP_HEADERS", ""
    )
    pairs = (item.split("=", 1) for item in raw.split(",") if "=" in item)
    return {urllib.parse.unquote(k.strip()): urllib.parse.unquote(v.strip()) for k, v in pairs}


def _forward_core_logs() -> temporalio.runtime.LoggingConfig:
    # Core (Rust) logs would go straight to stdout; through Python logging they get the
    # structured format and the level filter of every other line
    return temporalio.runtime.LoggingConfig(
        filter=temporalio.runtime.TelemetryFilter(core_level="WARN", other_level="ERROR"),
        forwarding=temporalio.runtime.LogForwardingConfig(
            logger=logging.getLogger("temporalio.core")
        ),
    )


TracingInterceptors = OpenTelemetryInterceptor | TracingInterceptor
"""What `tracing_interceptor` returns: both are client and worker interceptors."""


def tracing_interceptor() -> TracingInterceptors:
    """Return Temporal's OpenTelemetry interceptor for clients and workers.

    Give it to `Client.connect(interceptors=[...])` (`BelugaPlugin` does when
    `setup_observability` enabled tracing): workers created from that client inherit
    it, and one trace then links the client's start, the workflow, beluga's run and
    node spans and every activity. With the replay-safe tracer provider that
    `setup_observability` installs it is `OpenTelemetryInterceptor`, whose workflow
    spans last as long as the workflow; when the application installed a plain
    provider of its own first, it is the older `TracingInterceptor` (workflow spans
    are instants, and beluga records no run or node spans: they need a replay-safe
    provider, `temporalio.contrib.opentelemetry.create_tracer_provider()`).
    """
    if isinstance(opentelemetry.trace.get_tracer_provider(), ReplaySafeTracerProvider):
        return OpenTelemetryInterceptor(add_temporal_spans=True)
    if not _warned:
        _warned.append(True)  # once per process: the provider cannot change
        _log.warning(
            "the global tracer provider is not replay-safe: workflow spans are instants and "
            "beluga records no run or node spans; install "
            "temporalio.contrib.opentelemetry.create_tracer_provider() before "
            "setup_observability"
        )
    return TracingInterceptor(opentelemetry.trace.get_tracer(INSTRUMENTATION_NAME))
