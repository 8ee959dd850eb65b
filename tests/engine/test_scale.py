"""Runs at Temporal's own limits, on the dev server (which enforces them).

Without a forced bound: these runs continue as new when the server suggests it (past
about 4,000 events) or past the framework's bounds. Each takes up to a minute or two.
"""

from __future__ import annotations

import pytest

from beluga_temporal import Chain, Graph, LocalRuntime, Orchestrator, create_worker
from tests.engine import long_runs as lr

pytestmark = [pytest.mark.scale, pytest.mark.timeout(600)]


async def _histories(runtime: LocalRuntime, workflow_id: str, run_id: str) -> list[int]:
    histories = await lr.run_histories(runtime.client, workflow_id, run_id)
    return [len(history.events) for history in histories]


async def test_a_ten_thousand_step_chain(dev_runtime: LocalRuntime, task_queue: str) -> None:
    chain = Chain("ten-thousand-steps", steps=[lr.inc] * 10_000, local=True)
    orch = Orchestrator(dev_runtime.client, task_queue)
    async with create_worker(dev_runtime.client, task_queue, targets=[chain]):
        run = await orch.start(chain, 0, execution_timeout=600)
        assert await orch.result(run.workflow_id, run.run_id) == 10_000
        progress = await orch.progress(run.workflow_id)
    events = await _histories(dev_runtime, run.workflow_id, run.run_id)
    assert len(events) >= 2, events
    assert max(events) < 51_200, events
    assert progress.counts == {"succeeded": 10_000}
    assert progress.total == 10_000


async def test_a_remote_chain_continues_when_the_server_suggests_it(
    dev_runtime: LocalRuntime, task_queue: str
) -> None:
    chain = Chain("remote-steps", steps=[lr.inc] * 800)  # ~6 events per step
    orch = Orchestrator(dev_runtime.client, task_queue)
    async with create_worker(dev_runtime.client, task_queue, targets=[chain]):
        run = await orch.start(chain, 0, execution_timeout=600)
        assert await orch.result(run.workflow_id, run.run_id) == 800
    events = await _histories(dev_runtime, run.workflow_id, run.run_id)
    assert len(events) >= 2, events


async def test_a_twenty_thousand_item_map_node(dev_runtime: LocalRuntime, task_queue: str) -> None:
    g = Graph("twenty-thousand-items", local=True)
    g.add_map_node("squares", lr.square, items="numbers", max_concurrency=100)
    g.set_entry_point("squares")
    numbers = list(range(20_000))
    orch = Orchestrator(dev_runtime.client, task_queue)
    async with create_worker(dev_runtime.client, task_queue, targets=[g]):
        run = await orch.start(g, {"numbers": numbers}, execution_timeout=600)
        result = await orch.result(run.workflow_id, run.run_id)
    assert result["squares"] == [n * n for n in numbers]
    events = await _histories(dev_runtime, run.workflow_id, run.run_id)
    assert len(events) >= 2, events
    assert max(events) < 51_200, events


async def test_a_six_hundred_node_graph_adding_a_kilobyte_each(
    dev_runtime: LocalRuntime, task_queue: str
) -> None:
    g = Graph("six-hundred-nodes")
    previous = None
    for i in range(600):  # every node reads the whole (growing) state
        g.add_node(f"n{i}", lr.add_kilobyte)
        if previous:
            g.add_edge(previous, f"n{i}")
        previous = f"n{i}"
    g.set_entry_point("n0")
    orch = Orchestrator(dev_runtime.client, task_queue)
    async with create_worker(dev_runtime.client, task_queue, targets=[g]):
        run = await orch.start(g, {}, execution_timeout=600)
        result = await orch.result(run.workflow_id, run.run_id)
    assert sorted(result) == [f"k{i:04d}" for i in range(600)]
    histories = await lr.run_histories(dev_runtime.client, run.workflow_id, run.run_id)
    sizes = [sum(e.ByteSize() for e in h.events) for h in histories]
    # ~180 MB of inputs in all, but no run near Temporal's 50 MB limit.
    assert len(histories) >= 2, sizes
    assert max(sizes) < 30 * 1024 * 1024, sizes
