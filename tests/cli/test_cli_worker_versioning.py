"""`beluga worker --deployment-name --build-id`: Temporal's Worker Deployment versioning."""

from __future__ import annotations

import subprocess
import time
import uuid

import pytest
import temporalio.api.enums.v1
from click.testing import CliRunner

from beluga_temporal import LocalRuntime, Orchestrator
from beluga_temporal.cli import EXIT_USAGE, cli
from tests.cli._procs import BELUGA, REPO, TEMPORAL, Proc, child_env
from tests.engine.start_app import fanout


def set_current_version(address: str, deployment: str, build_id: str) -> None:
    """Make `build_id` current; the server knows the version once its worker polled."""
    args = [
        TEMPORAL, "worker", "deployment", "set-current-version", "--address", address,
        "--deployment-name", deployment, "--build-id", build_id, "--yes",
    ]  # fmt: skip
    deadline = time.monotonic() + 30
    while True:
        done = subprocess.run(args, cwd=REPO, capture_output=True, text=True, timeout=30)
        if done.returncode == 0:
            return
        assert time.monotonic() < deadline, done.stderr
        time.sleep(0.2)  # polling the server for a condition, with a deadline


Behavior = temporalio.api.enums.v1.VersioningBehavior


@pytest.mark.parametrize(
    ("options", "behavior"),
    [
        ([], Behavior.VERSIONING_BEHAVIOR_AUTO_UPGRADE),  # the default
        (["--versioning", "pinned"], Behavior.VERSIONING_BEHAVIOR_PINNED),
    ],
)
async def test_a_versioned_worker_runs_generated_workflows(
    dev_runtime: LocalRuntime, task_queue: str, options: list[str], behavior: int
) -> None:
    address = dev_runtime.client.service_client.config.target_host
    deployment = f"orders-{uuid.uuid4().hex[:8]}"
    worker = Proc(
        [
            BELUGA, "--address", address, "worker", "tests.engine.start_app:fanout",
            "--task-queue", task_queue, "--deployment-name", deployment, "--build-id", "b1",
            "--grace-period", "1", *options,
        ],
        env=child_env(),
    )  # fmt: skip
    try:
        worker.wait_for_line("worker started")
        set_current_version(address, deployment, "b1")
        handle = await Orchestrator(dev_runtime.client, task_queue).start_handle(fanout, {})
        assert (await handle.result())["total"] == 16
        info = (await handle.describe()).raw_description.workflow_execution_info.versioning_info
    finally:
        assert worker.stop() == 0
    assert info.behavior == behavior
    assert (info.deployment_version.deployment_name, info.deployment_version.build_id) == (
        deployment,
        "b1",
    )


def test_a_build_id_without_a_deployment_name_is_a_usage_error() -> None:
    result = CliRunner().invoke(cli, ["worker", "tests.engine.start_app", "--build-id", "b1"])
    assert result.exit_code == EXIT_USAGE
    assert "--deployment-name and --build-id go together" in result.stderr
