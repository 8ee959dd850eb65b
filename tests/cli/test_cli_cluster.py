"""The CLI against `beluga dev` + `beluga worker` processes: runs, results, histories."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from beluga_temporal.cli import EXIT_FAILURE, cli
from tests.app.samples import order
from tests.cli._procs import Cluster

GRAPH = "workflows.order_processing:order_graph"
VARIANT = "tests.cli.variant_graph:order_graph"


def beluga(cluster: Cluster, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--address", cluster.address, *args])


@pytest.fixture(scope="module")
def history_file(cluster: Cluster, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A completed order-graph run, started with `beluga run`, exported to a file."""
    workflow_id = f"order-{uuid.uuid4().hex[:8]}"
    raw = json.dumps(order("o-history"))
    ran = beluga(cluster, "run", GRAPH, "-q", cluster.task_queue, "--id", workflow_id, "-i", raw)
    assert ran.exit_code == 0, ran.output
    assert json.loads(ran.stdout)["status"] == "completed"
    path = tmp_path_factory.mktemp("histories") / f"{workflow_id}.json"
    exported = beluga(cluster, "history", "export", workflow_id, "-o", str(path))
    assert exported.exit_code == 0, exported.output
    return path


def test_history_replays_against_the_current_graph(history_file: Path) -> None:
    result = CliRunner().invoke(cli, ["replay", str(history_file), "--target", GRAPH])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("OK")


def test_replay_against_a_changed_graph_names_the_divergence(history_file: Path) -> None:
    result = CliRunner().invoke(cli, ["replay", str(history_file), "--target", VARIANT])
    assert result.exit_code == EXIT_FAILURE
    line = result.stdout.strip()
    # Never silently reshaped: the run names the plan it started on, and the fix.
    assert line.startswith(f"FAIL  {history_file}:")
    assert "started on plan" in line
    assert "previous=" in line
    assert "1 of 1 histories failed" in result.stderr


def test_replay_reports_every_file(history_file: Path, tmp_path: Path) -> None:
    copy = tmp_path / "again.json"
    copy.write_text(history_file.read_text())
    result = CliRunner().invoke(cli, ["replay", str(history_file), str(copy), "-t", VARIANT])
    assert result.exit_code == EXIT_FAILURE
    assert result.stdout.count("FAIL") == 2


def test_start_then_result(cluster: Cluster) -> None:
    raw = json.dumps(order("o-start"))
    started = beluga(cluster, "start", GRAPH, "-q", cluster.task_queue, "-i", raw)
    assert started.exit_code == 0, started.output
    ids = dict(line.split(": ", 1) for line in started.stdout.splitlines())
    result = beluga(cluster, "result", ids["workflow_id"], "--run-id", ids["run_id"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["order_id"] == "o-start"


def test_start_by_workflow_type_name_runs_the_hand_written_workflow(cluster: Cluster) -> None:
    raw = json.dumps(order("o-typed"))
    started = beluga(
        cluster, "start", "OrderProcessingWorkflow", "-q", cluster.task_queue, "-i", raw
    )
    assert started.exit_code == 0, started.output
    workflow_id = started.stdout.splitlines()[0].split(": ", 1)[1]
    result = beluga(cluster, "result", workflow_id)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["status"] == "completed"


def test_watch_shows_node_statuses(cluster: Cluster, history_file: Path) -> None:
    result = beluga(cluster, "watch", history_file.stem)
    assert result.exit_code == 0, result.output
    assert "process_payment" in result.stdout
    assert "succeeded" in result.stdout
    assert "skipped" in result.stdout


def test_list_filters_by_query(cluster: Cluster, history_file: Path) -> None:
    result = beluga(cluster, "list", "--query", f"WorkflowId = '{history_file.stem}'")
    assert result.exit_code == 0, result.output
    assert "COMPLETED" in result.stdout


def test_result_of_unknown_workflow_is_one_line(cluster: Cluster) -> None:
    result = beluga(cluster, "result", "no-such-workflow")
    assert result.exit_code == EXIT_FAILURE
    assert "no workflow run 'no-such-workflow'" in result.stderr
    assert result.stderr.strip().count("\n") == 0
