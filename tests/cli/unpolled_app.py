"""For the CLI tests of missing workers: a graph with a step on its own task queue."""

from __future__ import annotations

import os

import temporalio.workflow

from tests import graph_examples as gx

LLM_QUEUE = os.environ.get("UNPOLLED_LLM_QUEUE", "unpolled-llm")
graph = gx.plan_then_think("unpolled-graph", LLM_QUEUE)


@temporalio.workflow.defn(name="cli-hosted")
class Hosted:
    """Some workflow, so that a worker polls the queue without hosting what is started."""

    @temporalio.workflow.run
    async def run(self) -> str:
        return "hosted"
