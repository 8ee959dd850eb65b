"""Temporal's server image in a container (testcontainers), where a Docker engine answers."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
from collections.abc import Iterator

TEMPORAL_IMAGE = "temporalio/temporal:latest"
"""The Temporal CLI image; it runs `temporal server start-dev`."""
FRONTEND_PORT = 7233


def docker_unavailable() -> str | None:
    """Why containers cannot run here, or `None` when a Docker engine answers."""
    if shutil.which("docker") is None:
        return "no `docker` command on PATH"
    try:
        probe = subprocess.run(
            ["docker", "info"], capture_output=True, text=True, timeout=20, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"`docker info` failed: {error}"
    if probe.returncode != 0:
        lines = (probe.stderr or probe.stdout).strip().splitlines()
        return f"no Docker engine answers (`docker info`: {lines[-1] if lines else 'failed'})"
    return None


@contextlib.contextmanager
def temporal_container(image: str = TEMPORAL_IMAGE) -> Iterator[str]:
    """Run Temporal's dev server image; yield its frontend address (`host:port`).

    Raises:
        RuntimeError: No Docker engine answers (see `docker_unavailable`).
    """
    reason = docker_unavailable()
    if reason is not None:
        raise RuntimeError(reason)
    try:  # imported here: only where Docker runs, and only with the test extra
        from testcontainers.core.container import DockerContainer
        from testcontainers.core.waiting_utils import wait_for_logs
    except ImportError as error:
        raise RuntimeError(
            "temporal_container needs testcontainers: pip install testcontainers"
        ) from error

    container = (
        DockerContainer(image)
        .with_command("server start-dev --ip 0.0.0.0 --headless")
        .with_exposed_ports(FRONTEND_PORT)
    )
    with container:
        wait_for_logs(container, "Temporal Server", timeout=120)
        host = container.get_container_host_ip()
        yield f"{host}:{container.get_exposed_port(FRONTEND_PORT)}"
