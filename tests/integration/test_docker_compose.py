"""docker-compose.yml: checked statically everywhere, run for real where Docker answers.

The build machines have only the Docker client (no engine), so the end-to-end test runs
only where `docker info` succeeds; the static checks keep the file consistent with the
settings and the collector config on every machine.
"""

from __future__ import annotations

import shutil
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml

from beluga_temporal import Orchestrator
from beluga_temporal.settings import BelugaSettings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES: dict[str, Any] = COMPOSE["services"]


def docker_engine_answers() -> bool:
    if shutil.which("docker") is None:
        return False
    probe = subprocess.run(["docker", "info"], capture_output=True, timeout=20, check=False)
    return probe.returncode == 0


def test_compose_has_the_documented_stack() -> None:
    assert set(SERVICES) == {
        "postgresql",
        "temporal",
        "temporal-ui",
        "jaeger",
        "otel-collector",
        "order-worker",
    }
    assert "127.0.0.1:7233:7233" in SERVICES["temporal"]["ports"]
    assert SERVICES["temporal"]["environment"]["POSTGRES_SEEDS"] == "postgresql"
    assert SERVICES["order-worker"]["build"] == "."
    mounted = SERVICES["otel-collector"]["volumes"][0].split(":")[0]
    assert (ROOT / mounted).is_file()
    for volume in SERVICES["temporal"]["volumes"]:
        assert (ROOT / volume.split(":")[0]).exists()


def test_ports_are_published_on_loopback_only() -> None:
    # No service has authentication: a port on 0.0.0.0 would open it to the network.
    published = {
        name: [str(port) for port in service.get("ports", [])] for name, service in SERVICES.items()
    }
    assert {name for name, ports in published.items() if ports} == {
        "temporal",
        "temporal-ui",
        "jaeger",
        "otel-collector",
    }
    for name, ports in published.items():
        for port in ports:
            host, _, _ = port.rpartition(":")[0].rpartition(":")
            assert host == "127.0.0.1", f"{name} publishes {port!r} beyond loopback"


def test_worker_environment_is_understood_by_the_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in SERVICES["order-worker"]["environment"].items():
        monkeypatch.setenv(name, str(value).replace("${OPENAI_API_KEY:-}", ""))
    settings = BelugaSettings.load()
    assert settings.orchestration.workflow.temporal.address == "temporal:7233"
    assert settings.orchestration.workflow.temporal.task_queue == "beluga-workflows"
    assert settings.observability.otlp_endpoint == "http://otel-collector:4318"


def test_collector_sends_traces_to_jaeger() -> None:
    config = yaml.safe_load((ROOT / "deploy" / "otel-collector.yaml").read_text())
    assert {"grpc", "http"} <= set(config["receivers"]["otlp"]["protocols"])
    assert config["exporters"]["otlp/jaeger"]["endpoint"].startswith("jaeger:")
    assert "otlp/jaeger" in config["service"]["pipelines"]["traces"]["exporters"]
    assert SERVICES["jaeger"]["environment"]["COLLECTOR_OTLP_ENABLED"] == "true"


@pytest.mark.skipif(not docker_engine_answers(), reason="needs a Docker engine")
async def test_order_runs_on_the_compose_stack() -> None:
    from testcontainers.compose import DockerCompose

    from workflows.order_processing import order_graph

    with DockerCompose(ROOT, build=True, wait=True) as compose:
        host, port = compose.get_service_host_and_port("temporal", 7233)
        orch = await Orchestrator.connect(f"{host}:{port}", task_queue="beluga-workflows")
        order = {
            "order_id": f"compose-{uuid.uuid4().hex[:6]}",
            "customer_id": "c-1",
            "items": [{"sku": "BELUGA-PLUSH", "quantity": 1, "unit_price": 20}],
        }
        # Served by the compose stack's own worker (it restarts until Temporal is up).
        result = await orch.execute(order_graph, order, execution_timeout=180)
    assert result["status"] == "completed"
