"""The progress says how long a step has waited for a worker, and the figure grows.

Issue 10.2: a step on a queue no worker polls shows `waiting Ns for a worker on task
queue 'Q' (no worker polls it)` in the progress query's answer (as `beluga watch`
shows it); N is the time since it was scheduled, not a constant.
"""

from __future__ import annotations

import asyncio
import re
import time
from typing import Any

from beluga_temporal import Graph, LocalRuntime, Orchestrator, create_worker, step

DEADLINE = 20.0


@step
async def prepare(state: dict[str, Any]) -> dict[str, Any]:
    return {"prepared": True}


def graph_with_unpolled_step(queue: str) -> Graph:
    @step(name="ponder", task_queue=queue)
    async def ponder(state: dict[str, Any]) -> dict[str, Any]:
        return {"pondered": True}  # pragma: no cover - no worker polls its queue

    g = Graph(f"waiting-grows-{queue}")
    g.add_node("prepare", prepare).add_node("ponder", ponder).add_edge("prepare", "ponder")
    return g.set_entry_point("prepare")


async def waited(orch: Orchestrator, workflow_id: str, more_than: int) -> tuple[int, str]:
    """Poll the progress until `ponder` has waited more than `more_than` seconds."""
    deadline = time.monotonic() + DEADLINE
    seen = None
    while time.monotonic() < deadline:
        seen = (await orch.progress(workflow_id)).nodes["ponder"].waiting
        found = re.match(r"waiting (\d+)s for a worker", seen or "")
        if found and int(found.group(1)) > more_than:
            return int(found.group(1)), seen or ""
        await asyncio.sleep(0.2)  # polling a condition, with a deadline
    raise AssertionError(f"ponder never waited more than {more_than}s; last: {seen!r}")


async def test_the_time_a_step_waits_for_a_worker_grows(
    dev_runtime: LocalRuntime, task_queue: str
) -> None:
    unpolled = f"{task_queue}-nobody"
    g = graph_with_unpolled_step(unpolled)
    orch = Orchestrator(dev_runtime.client, task_queue)
    async with create_worker(dev_runtime.client, task_queue, targets=[g]):
        run = await orch.start(g, {})
        try:
            first, text = await waited(orch, run.workflow_id, more_than=-1)
            second, _ = await waited(orch, run.workflow_id, more_than=first)
        finally:
            await orch.terminate(run.workflow_id)
    assert f"on task queue '{unpolled}' (no worker polls it)" in text
    assert second > first
