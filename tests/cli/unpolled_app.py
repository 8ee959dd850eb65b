"""For the CLI tests of missing workers: a graph with a step on its own task queue."""

from __future__ import annotations

import os
from typing import Any

import temporalio.workflow

from beluga_temporal import Graph, step

LLM_QUEUE = os.environ.get("UNPOLLED_LLM_QUEUE", "unpolled-llm")


@step
async def plan(state: dict[str, Any]) -> dict[str, Any]:
    return {"planned": True}


@step(task_queue=LLM_QUEUE)
async def think(state: dict[str, Any]) -> dict[str, Any]:
    return {"thought": True}


graph = Graph("unpolled-graph", timeout=60)
graph.add_node("plan", plan)
graph.add_node("think", think)
graph.add_edge("plan", "think")
graph.set_entry_point(["plan"])


@temporalio.workflow.defn(name="cli-hosted")
class Hosted:
    """Some workflow, so that a worker polls the queue without hosting what is started."""

    @temporalio.workflow.run
    async def run(self) -> str:
        return "hosted"
