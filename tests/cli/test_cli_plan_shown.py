"""`beluga describe` and `beluga list` show the plan fingerprint a real run recorded.

Issue 12.1: the fingerprint comes from the run's own start (its memo and Web UI
summary), not from a memo the test writes.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

from beluga_temporal import Graph, LocalRuntime, Orchestrator, create_worker, step
from beluga_temporal.plan import fingerprint, process_defaults
from tests.cli.cli_subprocess import beluga


@step
async def take(state: dict[str, Any]) -> dict[str, Any]:
    return {"taken": True}


@step
async def give(state: dict[str, Any]) -> dict[str, Any]:
    return {"given": True}


def shown_graph() -> Graph:
    g = Graph("cli-plan-shown", max_workers=2)
    g.add_node("take", take).add_node("give", give).add_edge("take", "give")
    return g.set_entry_point("take")


async def test_describe_and_list_show_the_plan_a_real_run_started_with(
    dev_runtime: LocalRuntime, task_queue: str
) -> None:
    g = shown_graph()
    plan = fingerprint(g.compile())
    workflow_id = f"plan-shown-{uuid.uuid4().hex[:8]}"
    orch = Orchestrator(dev_runtime.client, task_queue)
    async with create_worker(dev_runtime.client, task_queue, targets=[g]):
        assert await orch.execute(g, {}, workflow_id=workflow_id) == {"taken": True, "given": True}
        progress = await orch.progress(workflow_id)
    assert progress.plan == plan

    shown, listed = await asyncio.gather(
        beluga(dev_runtime, "describe", workflow_id),
        beluga(dev_runtime, "list", "--query", f"WorkflowId = '{workflow_id}'"),
    )
    assert shown.code == 0, shown
    lines = shown.out.splitlines()
    assert "status:       COMPLETED" in lines, shown
    assert f"summary:      graph cli-plan-shown: 2 nodes, plan {plan}" in lines, shown
    memo_line = next(line for line in lines if line.startswith("  beluga: "))
    memo = json.loads(memo_line.removeprefix("  beluga: "))
    assert memo["plan"] == plan
    assert memo["defaults"] == process_defaults().to_json()

    assert listed.code == 0, listed
    assert workflow_id in listed.out, listed
    assert plan in listed.out, listed
