"""What a run fixes when it starts: its settings, its plan version and its input.

Histories recorded with the default settings replay in a process with other `BELUGA_*`
settings; runs started by other clients (`temporal workflow start`) record their plan
too; a continued run names its plan in its snapshot; state models are validated
outside the workflow, when the run starts.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import temporalio.client
from click.testing import CliRunner
from temporalio.worker import Replayer

from beluga_temporal import BelugaPlugin, LocalRuntime, Orchestrator, create_worker
from beluga_temporal.cli import cli
from beluga_temporal.errors import InvalidInputError
from beluga_temporal.plan import process_defaults
from tests.cli._procs import BELUGA, REPO, TEMPORAL, child_env
from tests.engine.start_app import fanout, long_chain, tickets

OTHER_SETTINGS = {
    "BELUGA_ORCHESTRATION__GRAPH__PARALLEL_EXECUTION": "false",
    "BELUGA_ORCHESTRATION__GRAPH__MAX_WORKERS": "1",
}
FANOUT = "tests.engine.start_app:fanout"


def temporal_start(runtime: LocalRuntime, workflow_type: str, queue: str, value: Any) -> str:
    """Start a run with the `temporal` CLI (no memo, no beluga starter); return its id."""
    workflow_id = f"{workflow_type}-{uuid.uuid4().hex[:8]}"
    address = runtime.client.service_client.config.target_host
    subprocess.run(
        [
            TEMPORAL, "workflow", "start", "--address", address, "--type", workflow_type,
            "--task-queue", queue, "--workflow-id", workflow_id, "--input", json.dumps(value),
        ],
        cwd=REPO, env=child_env(), check=True, capture_output=True, timeout=30,
    )  # fmt: skip
    return workflow_id


def temporal_describe(runtime: LocalRuntime, workflow_id: str) -> dict[str, Any]:
    address = runtime.client.service_client.config.target_host
    described = subprocess.run(
        [TEMPORAL, "workflow", "describe", "--address", address, "-w", workflow_id, "-o", "json"],
        cwd=REPO, env=child_env(), check=True, capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    info: dict[str, Any] = json.loads(described.stdout)["workflowExecutionInfo"]
    return info


async def export(handle: temporalio.client.WorkflowHandle[Any, Any], path: Path) -> Path:
    path.write_text((await handle.fetch_history()).to_json())
    return path


def _parts_scheduled_together(path: Path) -> bool:
    # All four `part` activities were scheduled by one workflow task: run in parallel.
    tasks = {
        event["activityTaskScheduledEventAttributes"]["workflowTaskCompletedEventId"]
        for event in json.loads(path.read_text())["events"]
        if event.get("activityTaskScheduledEventAttributes", {}).get("activityType")
        == {"name": "part"}
    }
    return len(tasks) == 1


async def test_histories_recorded_with_the_defaults_replay_under_other_settings(
    dev_runtime: LocalRuntime, task_queue: str, tmp_path: Path
) -> None:
    client = dev_runtime.client
    assert (process_defaults().parallel, process_defaults().max_workers) == (True, 10)
    async with create_worker(client, task_queue, targets=[fanout]):
        ours = await Orchestrator(client, task_queue).start_handle(fanout, {"parts": 2})
        theirs = client.get_workflow_handle(
            temporal_start(dev_runtime, fanout.name, task_queue, {"parts": 3})
        )
        assert (await ours.result())["total"] == 8
        assert (await theirs.result())["total"] == 12
    paths = [
        await export(ours, tmp_path / "ours.json"),
        await export(theirs, tmp_path / "cli.json"),
    ]
    assert all(_parts_scheduled_together(path) for path in paths)

    env = child_env(**OTHER_SETTINGS)
    probe = "from beluga_temporal.plan import process_defaults as d; d = d(); "
    probe += "print(d.parallel, d.max_workers)"
    seen = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True)
    assert seen.stdout.split() == ["False", "1"]  # the child really runs with other settings
    replayed = subprocess.run(
        [BELUGA, "replay", *map(str, paths), "--target", FANOUT],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert replayed.returncode == 0, replayed.stdout + replayed.stderr
    assert replayed.stdout.splitlines() == [
        f"OK                 {path}: versions-fanout plan {fanout.fingerprint} (newest)"
        for path in paths
    ]


async def test_a_run_started_by_the_temporal_cli_records_its_plan_and_replays(
    dev_runtime: LocalRuntime, task_queue: str
) -> None:
    client = dev_runtime.client
    async with create_worker(client, task_queue, targets=[fanout]):
        workflow_id = temporal_start(dev_runtime, fanout.name, task_queue, {"parts": 1})
        handle = client.get_workflow_handle(workflow_id)
        assert (await handle.result())["total"] == 4
    memo = temporal_describe(dev_runtime, workflow_id)["memo"]["fields"]["beluga"]
    assert memo["plan"] == fanout.fingerprint
    assert (memo["defaults"]["parallel"], memo["defaults"]["max_workers"]) == (True, 10)
    history = await handle.fetch_history()
    replayer = Replayer(workflows=[fanout.workflow], plugins=[BelugaPlugin()])
    assert (
        await replayer.replay_workflow(history, raise_on_replay_failure=False)
    ).replay_failure is None


@pytest.fixture
def small_history_bound(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Runs started in this process continue as new after 50 events."""
    monkeypatch.setenv("BELUGA_ORCHESTRATION__HISTORY__MAX_EVENTS", "50")
    process_defaults.cache_clear()
    yield
    monkeypatch.undo()
    process_defaults.cache_clear()


@pytest.fixture
async def continued_history(
    small_history_bound: None, time_skipping_runtime: LocalRuntime, task_queue: str, tmp_path: Path
) -> Path:
    """The history of the last run of a `long_chain` run that continued as new."""
    client = time_skipping_runtime.client
    orch = Orchestrator(client, task_queue)
    async with create_worker(client, task_queue, targets=[long_chain]):
        first = await orch.start_handle(long_chain, {})
        assert await orch.result(first.id) == {"count": 12}
    last = client.get_workflow_handle(first.id)  # the latest run: a continuation
    assert (await last.describe()).run_id != first.result_run_id
    return await export(last, tmp_path / "continued.json")


def test_a_continued_run_names_its_plan_in_its_snapshot(
    continued_history: Path, tmp_path: Path
) -> None:
    data = json.loads(continued_history.read_text())
    started = data["events"][0]["workflowExecutionStartedEventAttributes"]
    argument = json.loads(base64.b64decode(started["input"]["payloads"][0]["data"]))
    assert set(argument) == {"__beluga_continue__"}  # a continue-as-new snapshot
    del started["memo"]  # the plan is still in the snapshot argument
    stripped = tmp_path / "stripped.json"
    stripped.write_text(json.dumps(data))
    target = "tests.engine.start_app:long_chain"
    result = CliRunner().invoke(
        cli, ["replay", str(continued_history), str(stripped), "-t", target]
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        f"OK                 {path}: versions-long-chain plan {long_chain.fingerprint} (newest)"
        for path in (continued_history, stripped)
    ]


async def test_a_state_model_is_validated_when_the_run_starts(
    dev_runtime: LocalRuntime, task_queue: str
) -> None:
    client = dev_runtime.client
    orch = Orchestrator(client, task_queue)
    with pytest.raises(InvalidInputError, match="quantity"):
        await orch.start(tickets, {"ticket_id": "t-0", "quantity": 0})
    async with create_worker(client, task_queue, targets=[tickets]):
        ours = await orch.start_handle(tickets, {"ticket_id": "t-1", "quantity": 1})
        theirs = client.get_workflow_handle(
            temporal_start(
                dev_runtime, tickets.name, task_queue, {"ticket_id": "t-2", "quantity": 2}
            )
        )
        bad = client.get_workflow_handle(
            temporal_start(
                dev_runtime, tickets.name, task_queue, {"ticket_id": "t-3", "quantity": 0}
            )
        )
        for handle in (ours, theirs):
            # The validator read the clock outside the workflow; the run saw its stamp.
            state = await handle.result()
            assert state["received_at"] is not None
            assert state["seen"] == state["received_at"]
        with pytest.raises(temporalio.client.WorkflowFailureError) as caught:
            await bad.result()
    message = str(caught.value.cause)
    assert "invalid input for 'versions-tickets'" in message
    assert "quantity" in message
    replayer = Replayer(workflows=[tickets.workflow], plugins=[BelugaPlugin()])
    for handle in (ours, theirs):
        history = await handle.fetch_history()
        assert (
            await replayer.replay_workflow(history, raise_on_replay_failure=False)
        ).replay_failure is None
