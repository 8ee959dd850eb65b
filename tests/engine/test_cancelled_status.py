"""Issue 10.9: a cancelled run reports progress status `cancelled`, not `failed`."""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from typing import Any

import pytest
import temporalio.activity

from beluga_temporal import (
    Chain,
    Graph,
    LocalRuntime,
    Orchestrator,
    RunCancelledError,
    create_worker,
    heartbeat,
    step,
)

STARTED: dict[str, asyncio.Event] = defaultdict(asyncio.Event)


@step(name="cs-first")
async def first(state: dict[str, Any]) -> dict[str, Any]:
    return {"first": True}


@step(name="cs-wait", timeout=60, heartbeat_timeout=2)
async def wait(state: dict[str, Any]) -> dict[str, Any]:
    STARTED[temporalio.activity.info().workflow_id or ""].set()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        heartbeat()  # carries the cancellation to this step
        await asyncio.sleep(0.05)
    return {}


def graph() -> Graph:
    g = Graph("cs-graph")
    g.add_node("first", first).add_node("wait", wait).add_node("after", first)
    g.add_edge("first", "wait").add_edge("wait", "after")
    return g.set_entry_point("first")


@pytest.mark.parametrize(
    "target",
    [Chain("cs-chain", steps=[first, wait, first]), graph()],
    ids=["chain", "graph"],
)
async def test_a_cancelled_run_reports_cancelled(
    dev_runtime: LocalRuntime, task_queue: str, target: Chain | Graph
) -> None:
    orch = Orchestrator(dev_runtime.client, task_queue)
    async with create_worker(dev_runtime.client, task_queue, targets=[target]):
        run = await orch.start(target, {})
        await asyncio.wait_for(STARTED[run.workflow_id].wait(), 20)
        await orch.cancel(run.workflow_id)
        with pytest.raises(RunCancelledError):
            await asyncio.wait_for(orch.result(run.workflow_id, run.run_id), 20)
        progress = await orch.progress(run.workflow_id)

    assert progress.status == "cancelled"
    statuses = [node.status for node in progress.nodes.values()]
    assert statuses == ["succeeded", "cancelled", "skipped"]
