"""The CLI against `beluga dev` + `beluga worker` processes: runs, results, histories."""

from __future__ import annotations

import base64
import json
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from beluga_temporal.cli import EXIT_FAILURE, cli
from tests.app.samples import order
from tests.cli._procs import Cluster
from workflows import order_processing

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
    from workflows.order_processing import order_graph

    result = CliRunner().invoke(cli, ["replay", str(history_file), "--target", GRAPH])
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        f"OK                 {history_file}: order-processing plan {order_graph.fingerprint} "
        "(newest)\n"
    )


def test_replay_against_a_changed_graph_names_the_version_and_the_fix(history_file: Path) -> None:
    from tests.cli.variant_graph import order_graph as changed
    from workflows.order_processing import order_graph

    result = CliRunner().invoke(cli, ["replay", str(history_file), "--target", VARIANT])
    assert result.exit_code == EXIT_FAILURE
    # Never silently reshaped: the plan the run started on is named, and the fix.
    assert result.stdout.strip() == (
        f"UNKNOWN PLAN       {history_file}: order-processing plan {order_graph.fingerprint}: "
        "no declaration for it: add it to previous= "
        f"(the targets know newest {changed.fingerprint})"
    )
    assert "1 of 1 histories failed to replay (1 unknown plan)" in result.stderr


def test_replay_of_a_known_plan_whose_route_changed_names_the_divergence(
    history_file: Path,
) -> None:
    from workflows.order_processing import order_graph

    # Same fingerprint (routes are named, not hashed): only replay can tell.
    history = json.loads(history_file.read_text())["events"]
    fulfilment = [
        (int(e["eventId"]), e["activityTaskScheduledEventAttributes"]["activityType"]["name"])
        for e in history
        if "fulfill" in str(e.get("activityTaskScheduledEventAttributes", {}).get("activityType"))
    ]
    assert len(fulfilment) == 1
    event_id, activity = fulfilment[0]
    target = "tests.cli.variant_graph:edited_route_graph"
    result = CliRunner().invoke(cli, ["replay", str(history_file), "--target", target])
    assert result.exit_code == EXIT_FAILURE
    line = result.stdout.strip()
    assert line.startswith(
        f"NON-DETERMINISTIC  {history_file}: order-processing plan {order_graph.fingerprint} "
        "(newest): [TMPRL1100] Nondeterminism error"
    )
    assert line.endswith(f"(history event {event_id}: ActivityTaskScheduled '{activity}')")
    assert "1 of 1 histories failed to replay (1 non-deterministic)" in result.stderr


def test_replay_reports_every_file(history_file: Path, tmp_path: Path) -> None:
    copy = tmp_path / "again.json"
    copy.write_text(history_file.read_text())
    result = CliRunner().invoke(cli, ["replay", str(history_file), str(copy), "-t", VARIANT])
    assert result.exit_code == EXIT_FAILURE
    assert result.stdout.count("UNKNOWN PLAN") == 2
    assert "2 of 2 histories failed" in result.stderr


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


def table_row(text: str, node: str) -> list[str]:
    line = next(line for line in text.splitlines() if line.startswith(f"│ {node} "))
    return [cell.strip() for cell in line.strip("│").split("│")]


def test_watch_shows_node_statuses(cluster: Cluster, history_file: Path) -> None:
    result = beluga(cluster, "watch", history_file.stem)
    assert result.exit_code == 0, result.output
    assert "process_payment" in result.stdout
    assert "succeeded" in result.stdout
    assert "skipped" in result.stdout
    # Piped (not a terminal): the final table once, ending with a newline.
    assert result.stdout.endswith("\n")
    assert result.stdout.splitlines()[-1].strip().startswith("LLM tokens:")  # the caption
    assert result.stdout.count("┏") == 1
    header = table_row(result.stdout.replace("┃", "│"), "node")
    assert header == ["node", "step", "status", "attempts", "duration", "detail"]
    assert table_row(result.stdout, "process_payment")[2:4] == ["succeeded", "1"]
    assert table_row(result.stdout, "process_payment")[4].endswith(("ms", " s"))
    assert table_row(result.stdout, "decide_expedite")[5] == "chose → fulfill_express"
    assert table_row(result.stdout, "fulfill")[2:4] == ["skipped", ""]


def test_run_watch_table_goes_to_stderr_and_ends_with_a_newline(cluster: Cluster) -> None:
    raw = json.dumps(order("o-watch"))
    ran = beluga(cluster, "run", GRAPH, "-q", cluster.task_queue, "-i", raw, "--watch")
    assert ran.exit_code == 0, ran.output
    assert json.loads(ran.stdout)["status"] == "completed"  # stdout stays pure JSON
    assert ran.stderr.endswith("\n")
    assert ran.stderr.splitlines()[-1].strip().startswith("LLM tokens:")  # the caption
    assert table_row(ran.stderr, "notify")[2] == "succeeded"
    assert table_row(ran.stderr, "notify")[4] != ""  # a duration


def test_list_keeps_long_values_whole_when_piped(cluster: Cluster) -> None:
    workflow_id = f"order-with-a-rather-long-workflow-id-{uuid.uuid4().hex}-" + "x" * 40
    raw = json.dumps(order("o-long"))
    started = beluga(
        cluster, "start", GRAPH, "-q", cluster.task_queue, "-i", raw, "--id", workflow_id
    )
    assert started.exit_code == 0, started.output
    run_id = started.stdout.splitlines()[1].split(": ", 1)[1]
    deadline = time.monotonic() + 10
    while True:  # visibility is eventually consistent: a new run shows up shortly
        listed = beluga(cluster, "list", "--query", f"WorkflowId = '{workflow_id}'")
        assert listed.exit_code == 0, listed.output
        if workflow_id in listed.stdout or time.monotonic() > deadline:
            break
    assert workflow_id in listed.stdout
    assert run_id in listed.stdout
    assert cluster.task_queue in listed.stdout
    assert "…" not in listed.stdout
    assert listed.stdout.endswith("┘\n")


def test_list_filters_by_query_and_shows_the_plan(cluster: Cluster, history_file: Path) -> None:
    from workflows.order_processing import order_graph

    query = f"WorkflowId = '{history_file.stem}'"
    wide = {"COLUMNS": "200"}  # rich wraps cells at 80 columns when not on a terminal
    result = CliRunner().invoke(cli, ["--address", cluster.address, "list", "-q", query], env=wide)
    assert result.exit_code == 0, result.output
    assert "COMPLETED" in result.stdout
    assert " plan " in result.stdout.splitlines()[2]  # the header row
    assert order_graph.fingerprint in result.stdout


def test_result_of_unknown_workflow_is_one_line(cluster: Cluster) -> None:
    result = beluga(cluster, "result", "no-such-workflow")
    assert result.exit_code == EXIT_FAILURE
    assert "no workflow run 'no-such-workflow'" in result.stderr
    assert result.stderr.strip().count("\n") == 0


def test_beluga_run_labels_the_run_and_its_steps_for_the_web_ui(history_file: Path) -> None:
    events = json.loads(history_file.read_text())["events"]

    def summary(event: dict[str, Any]) -> str | None:
        data = event.get("userMetadata", {}).get("summary", {}).get("data")
        return None if data is None else str(json.loads(base64.b64decode(data)))

    graph = order_processing.order_graph
    nodes = len(graph.compile().nodes)
    assert summary(events[0]) == f"graph order-processing: {nodes} nodes, plan {graph.fingerprint}"
    scheduled = [e for e in events if e["eventType"] == "EVENT_TYPE_ACTIVITY_TASK_SCHEDULED"]
    assert [summary(e) for e in scheduled][:1] == ["validate"]
