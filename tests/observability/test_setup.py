from collections.abc import Iterator
from pathlib import Path

import opentelemetry.trace
import pytest
import temporalio.runtime
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcExporter
from temporalio.contrib.opentelemetry import ReplaySafeTracerProvider

from beluga_temporal.observability import setup_observability, shutdown_observability
from beluga_temporal.observability._tracing import otlp_span_exporter
from beluga_temporal.settings import BelugaSettings, ObservabilitySettings
from beluga_temporal.testing import OTLPReceiver

from .conftest import settings_for


@pytest.fixture
def receivers() -> Iterator[tuple[OTLPReceiver, OTLPReceiver]]:
    with OTLPReceiver() as first, OTLPReceiver() as second:
        yield first, second
        shutdown_observability()


def span(name: str) -> None:
    with opentelemetry.trace.get_tracer("test").start_as_current_span(name):
        pass


def names(receiver: OTLPReceiver) -> set[str]:
    return {s.name for s in receiver.spans()}


def test_same_settings_return_the_same_observability(
    receivers: tuple[OTLPReceiver, OTLPReceiver],
) -> None:
    first, _ = receivers
    assert setup_observability(settings_for(first)) is setup_observability(settings_for(first))


def test_new_settings_repoint_the_exporters(
    receivers: tuple[OTLPReceiver, OTLPReceiver],
) -> None:
    first, second = receivers
    setup_observability(settings_for(first))
    span("to-first")
    obs = setup_observability(settings_for(second))  # flushes to the old target first
    assert "to-first" in names(first)
    span("to-second")
    obs.force_flush()
    assert "to-second" in names(second)
    assert "to-first" not in names(second)
    assert "to-second" not in names(first)


def test_shutdown_flushes_then_stops_exporting(
    receivers: tuple[OTLPReceiver, OTLPReceiver],
) -> None:
    first, _ = receivers
    setup_observability(settings_for(first))
    span("before-shutdown")
    shutdown_observability()  # no explicit force_flush: shutdown must flush
    assert "before-shutdown" in names(first)
    span("after-shutdown")
    provider = opentelemetry.trace.get_tracer_provider()
    assert isinstance(provider, ReplaySafeTracerProvider)  # the one setup installed
    provider.force_flush()
    assert "after-shutdown" not in names(first)


def test_endpoint_without_scheme_and_settings_from_the_environment(
    receivers: tuple[OTLPReceiver, OTLPReceiver],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    first, _ = receivers
    monkeypatch.chdir(tmp_path)  # no ./beluga.yaml here
    monkeypatch.delenv("BELUGA_CONFIG", raising=False)
    monkeypatch.setenv("BELUGA_OTLP_ENDPOINT", first.endpoint.removeprefix("http://"))
    obs = setup_observability()
    span("from-env")
    obs.force_flush()
    assert "from-env" in names(first)


def test_without_an_endpoint_nothing_is_exported_but_ids_exist(
    receivers: tuple[OTLPReceiver, OTLPReceiver],
) -> None:
    obs = setup_observability(BelugaSettings())
    # A runtime that exports no metrics but forwards Core's log lines to Python logging,
    # so they never land on stdout (where `beluga run` prints its JSON result).
    assert obs.runtime is not None
    assert temporalio.runtime.Runtime.default() is obs.runtime
    with obs.tracer().start_as_current_span("local") as local:
        assert local.get_span_context().is_valid  # log lines still get trace ids


def test_temporal_default_runtime_is_ours_until_shutdown(
    receivers: tuple[OTLPReceiver, OTLPReceiver],
) -> None:
    first, _ = receivers
    before = temporalio.runtime.Runtime.default()
    obs = setup_observability(settings_for(first))
    assert obs.runtime is not None
    assert temporalio.runtime.Runtime.default() is obs.runtime
    shutdown_observability()
    assert temporalio.runtime.Runtime.default() is before


def test_grpc_protocol_builds_a_grpc_exporter() -> None:
    settings = ObservabilitySettings(otlp_endpoint="localhost:4317", otlp_protocol="grpc")
    exporter = otlp_span_exporter(settings)
    assert isinstance(exporter, GrpcExporter)
    exporter.shutdown()


def test_tracing_disabled_builds_no_exporter() -> None:
    settings = ObservabilitySettings(otlp_endpoint="http://x:4318", tracing_enabled=False)
    assert otlp_span_exporter(settings) is None


def test_step_attempts_are_recorded_only_when_something_reads_them(
    receivers: tuple[OTLPReceiver, OTLPReceiver],
) -> None:
    first, _ = receivers
    assert not setup_observability(BelugaSettings()).records_steps  # no exporter at all
    assert setup_observability(settings_for(first)).records_steps  # metrics and spans
    metrics_only = settings_for(first, tracing_enabled=False)
    assert setup_observability(metrics_only).records_steps
    traces_only = settings_for(first, metrics_enabled=False)
    assert setup_observability(traces_only).records_steps
    nothing = settings_for(first, metrics_enabled=False, tracing_enabled=False)
    assert not setup_observability(nothing).records_steps
