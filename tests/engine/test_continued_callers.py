"""Every caller sees a run that continued as new as one run (issue 11.2, DESIGN §3.8).

`LocalRuntime.execute` and `invoke()` return the final result; a continued graph's
histories (nodes in parallel branches, not a chain or a map node) replay. The bound on
events is forced low so that runs continue after a few steps. The CLI's callers are in
`tests/cli/test_cli_continued_runs.py`.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from temporalio.worker import Replayer

from beluga_temporal import BelugaPlugin, LocalRuntime, Orchestrator, create_worker
from beluga_temporal.testing import assert_replays
from tests.engine import continued_app as app
from tests.engine import long_runs as lr

Bound = Callable[[int], None]
ROOT = Path(__file__).resolve().parents[2]


async def test_local_runtime_execute_returns_the_result_of_the_last_continuation(
    dev_runtime: LocalRuntime, history_bound: Bound
) -> None:
    history_bound(60)
    workflow_id = f"continued-execute-{uuid.uuid4().hex[:8]}"
    assert await dev_runtime.execute(app.chain, 0, workflow_id=workflow_id) == 30
    latest = await dev_runtime.client.get_workflow_handle(workflow_id).fetch_history()
    first = latest.events[0].workflow_execution_started_event_attributes.first_execution_run_id
    histories = await lr.run_histories(dev_runtime.client, workflow_id, first)
    assert len(histories) >= 2, "the chain never continued as new"
    progress = await Orchestrator(dev_runtime.client).progress(workflow_id, first)
    assert progress.counts == {"succeeded": 30}
    assert progress.continuations == len(histories) - 1


def test_invoke_returns_the_result_of_the_last_continuation() -> None:
    workflow_id = f"continued-invoke-{uuid.uuid4().hex[:8]}"
    done = subprocess.run(
        [sys.executable, "-m", "tests.engine.invoke_continued", workflow_id],
        cwd=ROOT,
        env={
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "BELUGA_ORCHESTRATION__HISTORY__MAX_EVENTS": "60",
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert "result 30" in lines, done.stdout
    runs = int(next(line for line in lines if line.startswith("runs ")).split()[1])
    assert runs >= 2, "the chain never continued as new"
    assert f"progress {{'succeeded': 30}} {runs - 1}" in lines, done.stdout


async def test_a_continued_graph_returns_one_result_and_its_histories_replay(
    dev_runtime: LocalRuntime, task_queue: str, history_bound: Bound, tmp_path: Path
) -> None:
    history_bound(60)
    orch = Orchestrator(dev_runtime.client, task_queue)
    async with create_worker(dev_runtime.client, task_queue, targets=[app.graph]):
        run = await orch.start(app.graph, {})
        result = await orch.result(run.workflow_id, run.run_id)
        progress = await orch.progress(run.workflow_id, run.run_id)
    assert result == {node: 1 for node in app.NODES}
    assert progress.counts == {"succeeded": len(app.NODES)}
    histories = await lr.run_histories(dev_runtime.client, run.workflow_id, run.run_id)
    assert len(histories) >= 2, "the graph never continued as new"
    assert progress.continuations == len(histories) - 1

    replayer = Replayer(workflows=[app.graph.workflow], plugins=[BelugaPlugin()])
    for history in histories:
        await replayer.replay_workflow(history)
    for index, history in enumerate(histories):
        (tmp_path / f"run-{index}.json").write_text(history.to_json())
    outcomes = await assert_replays(tmp_path, [app.graph])
    assert len(outcomes) == len(histories)

    # The check is real: a graph of the same name with another shape does not replay them.
    reshaped = app.fan_graph(branches=2)
    with pytest.raises(AssertionError, match="do not replay"):
        await assert_replays(tmp_path, [reshaped])
