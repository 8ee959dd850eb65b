"""An expensive (LLM-style) step on its own task queue, served by a worker with its own budget."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import pytest
import temporalio.activity

from beluga_temporal import Graph, LocalRuntime, Orchestrator, create_worker, step

RUNNING: set[str] = set()
PEAK: list[int] = [0]
QUEUES: list[str] = []
overlap = asyncio.Condition()


@step(name="summarize-llm", timeout=30)
async def summarize(state: dict[str, Any]) -> str:
    """Stands in for a model call: holds until another call overlaps it, or 0.3 s."""
    info = temporalio.activity.info()
    QUEUES.append(info.task_queue)
    async with overlap:
        RUNNING.add(info.activity_id)
        PEAK[0] = max(PEAK[0], len(RUNNING))
        overlap.notify_all()
        # Bounded wait: with room for two calls it ends as soon as they overlap.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(overlap.wait_for(lambda: PEAK[0] > 1), 0.3)
        RUNNING.discard(info.activity_id)
    return f"summary by {info.activity_id}"


def build_graph(llm_queue: str, limit: int) -> Graph:
    graph = Graph(f"llm-budget-{limit}", max_workers=4)
    llm = summarize.with_options(task_queue=llm_queue)
    for name in ("a", "b", "c", "d"):
        graph.add_node(name, llm)
    graph.set_entry_point(["a", "b", "c", "d"])
    return graph


@pytest.mark.parametrize(("limit", "expect_overlap"), [(1, False), (4, True)])
async def test_llm_queue_worker_bounds_concurrency(
    dev_runtime: LocalRuntime, task_queue: str, limit: int, expect_overlap: bool
) -> None:
    RUNNING.clear()
    PEAK[0] = 0
    QUEUES.clear()
    llm_queue = f"{task_queue}-llm"
    graph = build_graph(llm_queue, limit)
    workflows = create_worker(dev_runtime.client, task_queue, targets=[graph])
    llm_worker = create_worker(
        dev_runtime.client,
        llm_queue,
        activities=[summarize],
        max_concurrent_activities=limit,
        max_task_queue_activities_per_second=100,
    )
    async with workflows, llm_worker:
        result = await Orchestrator(dev_runtime.client, task_queue).execute(graph, {})
    assert sorted(result) == ["a", "b", "c", "d"]
    assert [llm_queue] * 4 == QUEUES  # every call ran on the LLM queue's worker
    assert (PEAK[0] > 1) is expect_overlap
