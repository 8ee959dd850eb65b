"""Generated workflows replay their own histories, and changed graphs are caught."""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from beluga_temporal import BelugaPlugin, LocalRuntime, Orchestrator, create_worker
from beluga_temporal.declare import Target
from tests import graph_examples as gx
from tests.examples import order_chain
from tests.histories.record import CASES

HISTORIES = Path(__file__).parents[1] / "histories"


def load(filename: str) -> WorkflowHistory:
    return WorkflowHistory.from_json(filename[:-5], (HISTORIES / filename).read_text())


@pytest.mark.parametrize(("filename", "target"), [(c[0], c[1]) for c in CASES])
async def test_committed_history_replays(filename: str, target: Target) -> None:
    replayer = Replayer(workflows=[target.workflow], plugins=[BelugaPlugin()])
    result = await replayer.replay_workflow(load(filename), raise_on_replay_failure=False)
    assert result.replay_failure is None


async def test_changed_graph_is_never_replayed_on_its_new_shape() -> None:
    # Same workflow type, but the credit node now runs another activity.
    changed = gx.order_graph(credit=gx.check_credit.with_options(name="check_credit_v2"))
    replayer = Replayer(workflows=[changed.workflow], plugins=[BelugaPlugin()])
    result = await replayer.replay_workflow(load("order_graph.json"), raise_on_replay_failure=False)
    message = str(result.replay_failure)
    assert f"started on plan {gx.ORDER_GRAPH.fingerprint}" in message
    assert changed.fingerprint in message
    # With the old declaration kept as a previous version, it replays.
    versioned = gx.order_graph(credit=gx.check_credit.with_options(name="check_credit_v2"))
    versioned.previous.append(gx.ORDER_GRAPH)
    replayer = Replayer(workflows=[versioned.workflow], plugins=[BelugaPlugin()])
    await replayer.replay_workflow(load("order_graph.json"))


async def test_fresh_dev_server_run_replays_cleanly(
    dev_runtime: LocalRuntime, task_queue: str
) -> None:
    async with create_worker(
        dev_runtime.client, task_queue, targets=[order_chain, gx.ROUTED_GRAPH]
    ):
        orch = Orchestrator(dev_runtime.client, task_queue)
        run = await orch.start(gx.ROUTED_GRAPH, {"amount": 3})
        await orch.result(run.workflow_id)
    history = await dev_runtime.client.get_workflow_handle(run.workflow_id).fetch_history()
    replayer = Replayer(workflows=[gx.ROUTED_GRAPH.workflow], plugins=[BelugaPlugin()])
    await replayer.replay_workflow(history)
