"""The standard `OTEL_*` variables through `setup_observability()`, as the spec says."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from beluga_temporal import ConfigurationError
from beluga_temporal.settings import BelugaSettings, ObservabilitySettings
from beluga_temporal.testing import OTLPReceiver, ReceivedSpan
from tests._net import free_port

REPO = Path(__file__).resolve().parents[2]
DEAD = f"http://127.0.0.1:{free_port()}"  # nothing listens: spans sent here are lost


@pytest.fixture(scope="module")
def receiver() -> Iterator[OTLPReceiver]:
    with OTLPReceiver(grpc=True) as running:
        yield running


def run_child(span: str, **env: str) -> dict[str, Any]:
    """Run `otel_child` with only `env` configuring telemetry; return its settings."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "BELUGA_"))}
    # no metrics to a dead endpoint: the final flush would wait out the exporter's retries
    clean.update({"OTEL_METRICS_EXPORTER": "none", **env})
    done = subprocess.run(
        [sys.executable, "-m", "tests.observability.otel_child", span],
        cwd=REPO,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def spans_named(receiver: OTLPReceiver, name: str) -> list[ReceivedSpan]:
    return [s for s in receiver.spans() if s.name == name]


def test_endpoint_service_name_and_resource_attributes_from_otel_env(
    receiver: OTLPReceiver,
) -> None:
    span = f"otel-env-{uuid.uuid4().hex[:8]}"
    settings = run_child(
        span,
        OTEL_EXPORTER_OTLP_ENDPOINT=receiver.endpoint,
        OTEL_SERVICE_NAME="checkout",
        OTEL_RESOURCE_ATTRIBUTES="deployment.environment=staging,team=payments%2Fcore",
    )
    assert settings["flushed"]
    receiver.wait_for_spans(lambda got: any(s.name == span for s in got))
    (received,) = spans_named(receiver, span)
    assert received.resource["service.name"] == "checkout"
    assert received.resource["deployment.environment"] == "staging"
    assert received.resource["team"] == "payments/core"


def test_traces_endpoint_wins_over_the_general_one(receiver: OTLPReceiver) -> None:
    span = f"otel-traces-{uuid.uuid4().hex[:8]}"
    run_child(
        span,
        OTEL_EXPORTER_OTLP_ENDPOINT=DEAD,
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=f"{receiver.endpoint}/v1/traces",
    )
    receiver.wait_for_spans(lambda got: any(s.name == span for s in got))


def test_grpc_protocol(receiver: OTLPReceiver) -> None:
    span = f"otel-grpc-{uuid.uuid4().hex[:8]}"
    settings = run_child(
        span,
        OTEL_EXPORTER_OTLP_ENDPOINT=receiver.grpc_endpoint,
        OTEL_EXPORTER_OTLP_PROTOCOL="grpc",
        OTEL_SERVICE_NAME="grpc-svc",
    )
    assert settings["otlp_protocol"] == "grpc"
    received = receiver.wait_for_spans(lambda got: any(s.name == span for s in got))
    assert {s.resource["service.name"] for s in received if s.name == span} == {"grpc-svc"}


def test_traces_exporter_none_exports_nothing(receiver: OTLPReceiver) -> None:
    span = f"otel-none-{uuid.uuid4().hex[:8]}"
    marker = f"otel-marker-{uuid.uuid4().hex[:8]}"
    settings = run_child(
        span, OTEL_EXPORTER_OTLP_ENDPOINT=receiver.endpoint, OTEL_TRACES_EXPORTER="none"
    )
    assert settings["tracing_enabled"] is False
    # the same receiver, reached afterwards by an exporting child, got nothing from the first
    run_child(marker, OTEL_EXPORTER_OTLP_ENDPOINT=receiver.endpoint)
    receiver.wait_for_spans(lambda got: any(s.name == marker for s in got))
    assert spans_named(receiver, span) == []


def test_beluga_variables_win_over_otel_ones(receiver: OTLPReceiver) -> None:
    span = f"otel-beluga-{uuid.uuid4().hex[:8]}"
    settings = run_child(
        span,
        BELUGA_OTLP_ENDPOINT=receiver.endpoint,
        OTEL_EXPORTER_OTLP_ENDPOINT=DEAD,
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=f"{DEAD}/v1/traces",
        BELUGA_OBSERVABILITY__SERVICE_NAME="from-beluga",
        OTEL_SERVICE_NAME="from-otel",
        OTEL_TRACES_EXPORTER="none",
        BELUGA_OBSERVABILITY__TRACING_ENABLED="true",
    )
    assert settings["otlp_endpoint"] == receiver.endpoint
    assert settings["otlp_traces_endpoint"] is None
    received = receiver.wait_for_spans(lambda got: any(s.name == span for s in got))
    assert {s.resource["service.name"] for s in received if s.name == span} == {"from-beluga"}


# -- the settings the variables make, without exporting -----------------------------------


def resolve(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], **beluga: Any
) -> ObservabilitySettings:
    for name in [k for k in os.environ if k.startswith("OTEL_")]:
        monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return BelugaSettings(observability=beluga).observability


def test_no_otel_variables_change_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    assert resolve(monkeypatch, {}) == ObservabilitySettings()


def test_protocol_names_follow_the_spec(monkeypatch: pytest.MonkeyPatch) -> None:
    env = {"OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf"}
    assert resolve(monkeypatch, env).otlp_protocol == "http"
    env = {"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}
    assert resolve(monkeypatch, env).otlp_protocol == "grpc"
    assert resolve(monkeypatch, env, otlp_protocol="http").otlp_protocol == "http"
    with pytest.raises(ConfigurationError, match="OTEL_EXPORTER_OTLP_PROTOCOL='http/json'"):
        resolve(monkeypatch, {"OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"})


def test_service_name_falls_back_to_the_resource_attribute(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    env = {"OTEL_RESOURCE_ATTRIBUTES": "service.name=from-attrs,k=v"}
    assert resolve(monkeypatch, env).service_name == "from-attrs"
    named = resolve(monkeypatch, {**env, "OTEL_SERVICE_NAME": "named"})
    assert named.service_name == "named"
    mine = resolve(monkeypatch, env, resource_attributes={"k": "mine"})
    assert mine.resource_attributes == {"service.name": "from-attrs", "k": "mine"}


def test_otlp_named_without_endpoint_uses_the_spec_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    otlp = {"OTEL_TRACES_EXPORTER": "otlp"}
    assert resolve(monkeypatch, otlp).otlp_endpoint == "http://localhost:4318"
    grpc = resolve(monkeypatch, {**otlp, "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"})
    assert grpc.otlp_endpoint == "http://localhost:4317"
    assert resolve(monkeypatch, {}).otlp_endpoint is None  # nothing asked for: no export


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"OTEL_TRACES_EXPORTER": "zipkin"}, "OTEL_TRACES_EXPORTER='zipkin' is not supported"),
        ({"OTEL_METRICS_EXPORTER": "prometheus"}, "OTEL_METRICS_EXPORTER='prometheus'"),
        ({"OTEL_RESOURCE_ATTRIBUTES": "team"}, "OTEL_RESOURCE_ATTRIBUTES: 'team' is not"),
    ],
)
def test_unsupported_values_name_the_variable(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message):
        resolve(monkeypatch, env)


def test_sdk_disabled_turns_both_signals_off_unless_beluga_says_otherwise(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    env = {"OTEL_SDK_DISABLED": "true", "OTEL_EXPORTER_OTLP_ENDPOINT": DEAD}
    off = resolve(monkeypatch, env)
    assert (off.tracing_enabled, off.metrics_enabled) == (False, False)
    assert resolve(monkeypatch, env, tracing_enabled=True).tracing_enabled


def test_otel_variables_win_over_the_yaml_file_and_lose_to_beluga_ones(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = tmp_path / "beluga.yaml"
    config.write_text(
        "observability:\n  otlp_endpoint: http://yaml:4318\n  service_name: from-yaml\n"
    )
    resolve(monkeypatch, {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://otel:4318"})
    from_env = BelugaSettings.load(config).observability
    assert from_env.otlp_endpoint == "http://otel:4318"  # environment over file
    assert from_env.service_name == "from-yaml"
    monkeypatch.setenv("BELUGA_OBSERVABILITY__OTLP_TRACES_ENDPOINT", "http://beluga/v1/traces")
    beluga_wins = BelugaSettings.load(config).observability
    # a beluga endpoint makes both OTLP endpoint variables ignored
    assert beluga_wins.otlp_endpoint == "http://yaml:4318"
    assert beluga_wins.otlp_traces_endpoint == "http://beluga/v1/traces"


def test_the_example_file_does_not_mask_otel_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    resolve(monkeypatch, {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://otel:4318"})
    example = BelugaSettings.load(REPO / "beluga.example.yaml").observability
    assert example.otlp_endpoint == "http://otel:4318"
