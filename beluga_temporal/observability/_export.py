"""OpenTelemetry metrics pipeline: a meter provider whose export target can change."""

from __future__ import annotations

import threading

import opentelemetry.metrics
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import (
    MetricExporter,
    MetricExportResult,
    MetricsData,
    PeriodicExportingMetricReader,
)
from opentelemetry.sdk.resources import Resource

from beluga_temporal.observability._tracing import otlp_base_url
from beluga_temporal.settings import ObservabilitySettings


class RetargetableMetricExporter(MetricExporter):
    """Forward metric exports to the current target; `None` drops them.

    Like spans, the global meter provider can be installed only once per process; the
    target of its reader can change when `setup_observability` is called again.
    """

    def __init__(self) -> None:
        super().__init__()  # cumulative temporality, the OTLP default
        self._target: MetricExporter | None = None
        self._lock = threading.Lock()

    def retarget(self, target: MetricExporter | None) -> None:
        """Send metrics to `target` from now on; shut the old target down."""
        with self._lock:
            old, self._target = self._target, target
        if old is not None:
            old.shutdown()

    def export(
        self, metrics_data: MetricsData, timeout_millis: float = 10_000, **kwargs: object
    ) -> MetricExportResult:
        target = self._target
        if target is None:
            return MetricExportResult.SUCCESS
        return target.export(metrics_data, timeout_millis=timeout_millis)

    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        target = self._target
        return True if target is None else target.force_flush(timeout_millis)

    def shutdown(self, timeout_millis: float = 30_000, **kwargs: object) -> None:
        self.retarget(None)


def otlp_metric_exporter(settings: ObservabilitySettings) -> MetricExporter | None:
    """Build the OTLP metric exporter the settings ask for, or `None` when export is off."""
    endpoint = otlp_base_url(settings)
    if endpoint is None or not settings.metrics_enabled:
        return None
    if settings.otlp_protocol == "http":
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter

        return OTLPMetricExporter(endpoint=f"{endpoint}/v1/metrics")
    from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import (
        OTLPMetricExporter as GrpcMetricExporter,
    )

    return GrpcMetricExporter(endpoint=endpoint)


def install_meter_provider(
    resource: Resource, exporter: RetargetableMetricExporter
) -> MeterProvider | None:
    """Install an SDK meter provider globally, once per process.

    Returns:
        The provider, or `None` when the application installed its own first (an SDK
        meter provider cannot take readers after creation, so ours is not exported).
    """
    if isinstance(opentelemetry.metrics.get_meter_provider(), MeterProvider):
        return None
    provider = MeterProvider(
        resource=resource, metric_readers=[PeriodicExportingMetricReader(exporter)]
    )
    opentelemetry.metrics.set_meter_provider(provider)
    return provider
