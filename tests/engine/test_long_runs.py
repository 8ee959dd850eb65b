"""Runs that outgrow one Temporal history continue as new, transparently (DESIGN §3.8).

On the dev server, which enforces Temporal's real limits. The bound is forced low
(`history_bound`) so that these tests continue after a few steps; tests marked
`scale` meet the server's own limits.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest
from temporalio.worker import Replayer

from beluga_temporal import (
    BelugaPlugin,
    Chain,
    Graph,
    GraphExecutionError,
    LocalRuntime,
    Orchestrator,
    RunProgress,
    create_worker,
)
from beluga_temporal.testing import run_with_worker
from tests.engine import long_runs as lr

Bound = Callable[[int], None]


async def test_a_chain_continues_as_new_and_returns_one_result(
    dev_runtime: LocalRuntime, task_queue: str, history_bound: Bound
) -> None:
    history_bound(60)
    chain = Chain("long-chain", steps=[lr.inc] * 40)
    orch = Orchestrator(dev_runtime.client, task_queue)
    async with create_worker(dev_runtime.client, task_queue, targets=[chain]):
        run = await orch.start(chain, 0)
        assert await orch.result(run.workflow_id, run.run_id) == 40
        progress = await orch.progress(run.workflow_id, run.run_id)
    histories = await lr.run_histories(dev_runtime.client, run.workflow_id, run.run_id)
    assert len(histories) >= 3, "the chain never continued as new"
    assert all(len(h.events) < 120 for h in histories)
    # One run, seen whole: every step's status survived the continuations.
    assert progress.status == "completed"
    assert progress.continuations == len(histories) - 1
    assert progress.counts == {"succeeded": 40}
    assert all(node.attempts == 1 for node in progress.nodes.values())
    replayer = Replayer(workflows=[chain.workflow], plugins=[BelugaPlugin()])
    for history in histories:  # continued histories replay
        await replayer.replay_workflow(history)


async def test_a_map_node_resumes_where_it_stopped(
    dev_runtime: LocalRuntime, task_queue: str, history_bound: Bound
) -> None:
    history_bound(80)
    g = Graph("long-map")
    g.add_map_node("squares", lr.square, items="numbers", max_concurrency=5)
    g.set_entry_point("squares")
    numbers = list(range(1000, 1060))
    orch = Orchestrator(dev_runtime.client, task_queue)
    lr.CALLS.clear()
    async with create_worker(dev_runtime.client, task_queue, targets=[g]):
        run = await orch.start(g, {"numbers": numbers})
        result = await orch.result(run.workflow_id, run.run_id)
        progress = await orch.progress(run.workflow_id)
    assert result["squares"] == [n * n for n in numbers]  # input order
    assert all(lr.CALLS[f"square-{n}"] == 1 for n in numbers), "an item ran twice"
    histories = await lr.run_histories(dev_runtime.client, run.workflow_id, run.run_id)
    assert len(histories) >= 2
    assert progress.nodes["squares"].items_done == 60
    replayer = Replayer(workflows=[g.workflow], plugins=[BelugaPlugin()])
    for history in histories:
        await replayer.replay_workflow(history)


async def test_a_failing_map_item_is_reported_by_its_index(
    time_skipping_runtime: LocalRuntime, task_queue: str
) -> None:
    g = Graph("map-item-fails")
    g.add_map_node("squares", lr.square_but_seven, items="numbers", max_concurrency=3)
    g.set_entry_point("squares")
    with pytest.raises(GraphExecutionError) as caught:
        await run_with_worker(
            time_skipping_runtime.client, task_queue, g, {"numbers": list(range(10))}
        )
    assert caught.value.node == "squares"
    assert caught.value.error_type == "ValueError"
    assert "item 7 of map node 'squares'" in caught.value.error


async def test_a_graph_drains_running_nodes_before_continuing(
    dev_runtime: LocalRuntime, task_queue: str, history_bound: Bound
) -> None:
    history_bound(60)
    g = Graph("long-drain", max_workers=4)
    previous = None
    for i in range(12):  # a fast chain of nodes beside a slow map
        g.add_node(f"n{i}", lr.add_kilobyte)
        if previous:
            g.add_edge(previous, f"n{i}")
        previous = f"n{i}"
    g.add_map_node("squares", lr.square, items="numbers", max_concurrency=2)
    g.set_entry_point(["n0", "squares"])
    lr.CALLS.clear()
    orch = Orchestrator(dev_runtime.client, task_queue)
    numbers = list(range(2000, 2020))
    async with create_worker(dev_runtime.client, task_queue, targets=[g]):
        run = await orch.start(g, {"numbers": numbers})
        result = await orch.result(run.workflow_id, run.run_id)
    assert sorted(k for k in result if k.startswith("k")) == [f"k{i:04d}" for i in range(12)]
    assert result["squares"] == [n * n for n in numbers]
    assert all(lr.CALLS[f"square-{n}"] == 1 for n in numbers)
    histories = await lr.run_histories(dev_runtime.client, run.workflow_id, run.run_id)
    assert len(histories) >= 2


async def test_nodes_receive_only_what_they_read(
    time_skipping_runtime: LocalRuntime, task_queue: str
) -> None:
    g = Graph("narrow-reads")
    for i in range(30):  # each node adds a 1 KB blob, but reads only `count`
        g.add_node(f"n{i}", lr.count_up)
        if i:
            g.add_edge(f"n{i - 1}", f"n{i}")
    g.add_node("dict_reader", lr.input_size, reads=["count", "absent"])
    g.add_edge("n29", "dict_reader")
    g.set_entry_point("n0")
    orch = Orchestrator(time_skipping_runtime.client, task_queue)
    async with create_worker(time_skipping_runtime.client, task_queue, targets=[g]):
        run = await orch.start(g, {"count": 0, "other": "z" * 4096})
        result = await orch.result(run.workflow_id, run.run_id)
    assert result["count"] == 30
    assert len([k for k in result if k.startswith("blob")]) == 30
    assert result["seen_keys"] == ["count"]  # `reads=` narrows a dict-typed node
    history = await time_skipping_runtime.client.get_workflow_handle(
        run.workflow_id
    ).fetch_history()
    sizes = list(lr.scheduled_inputs(history))
    # Proportional to what a node reads (one int), not to the 34 KB state.
    assert max(sizes) < 200, sizes


async def test_state_conflicts_are_found_with_narrow_reads(
    time_skipping_runtime: LocalRuntime, task_queue: str
) -> None:
    g = Graph("narrow-conflict")
    g.add_node("left", lr.count_up).add_node("right", lr.count_up)
    g.set_entry_point(["left", "right"])
    # Both write count=1 and blob0 with equal values: no conflict.
    result = await run_with_worker(time_skipping_runtime.client, task_queue, g, {"count": 0})
    assert result["count"] == 1
    g2 = Graph("narrow-conflict-2")
    g2.add_node("left", lr.count_up).add_node("right", lr.count_to_five)
    g2.set_entry_point(["left", "right"])
    with pytest.raises(GraphExecutionError) as caught:
        await run_with_worker(time_skipping_runtime.client, task_queue, g2, {"count": 0})
    assert caught.value.error_type == "StateConflictError"
    assert "state key 'count'" in caught.value.error


async def test_watch_follows_a_run_across_continuations(
    dev_runtime: LocalRuntime, task_queue: str, history_bound: Bound
) -> None:
    history_bound(60)
    chain = Chain("watched-long-chain", steps=[lr.inc] * 30)
    orch = Orchestrator(dev_runtime.client, task_queue)
    seen: list[RunProgress] = []
    async with create_worker(dev_runtime.client, task_queue, targets=[chain]):
        run = await orch.start(chain, 0)
        async for progress in orch.watch(run.workflow_id, run.run_id, interval=0.05):
            seen.append(progress)
    assert seen[-1].status == "completed"
    assert seen[-1].counts == {"succeeded": 30}
    assert seen[-1].continuations >= 2
    done = [sum(1 for n in p.nodes.values() if n.status == "succeeded") for p in seen]
    assert done == sorted(done), "progress went backwards across a continuation"


def test_a_ten_thousand_node_graph_compiles_in_linear_memory() -> None:
    import tracemalloc

    g = Graph("ten-thousand")
    previous = None
    for i in range(10_000):
        g.add_node(f"n{i}", lr.add_kilobyte)
        if previous and i % 100:  # 100 chains of 100 nodes
            g.add_edge(previous, f"n{i}")
        previous = f"n{i}"
    g.set_entry_point([f"n{i}" for i in range(0, 10_000, 100)])
    tracemalloc.start()
    plan = g.compile()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert len(plan.nodes) == 10_000
    assert plan.is_ancestor("n0", "n99")
    assert not plan.is_ancestor("n0", "n100")
    assert peak < 100 * 1024 * 1024, f"compiling took {peak / 1e6:.0f} MB"


async def test_a_batched_map_node_runs_its_batches_as_children(
    dev_runtime: LocalRuntime, task_queue: str, history_bound: Bound
) -> None:
    history_bound(60)  # the parent continues as new between batches too
    g = Graph("batched-map")
    g.add_map_node("squares", lr.square, items="numbers", max_concurrency=50, batch_size=7)
    g.set_entry_point("squares")
    numbers = list(range(3000, 3100))
    lr.CALLS.clear()
    orch = Orchestrator(dev_runtime.client, task_queue)
    async with create_worker(dev_runtime.client, task_queue, targets=[g]):
        run = await orch.start(g, {"numbers": numbers})
        result = await orch.result(run.workflow_id, run.run_id)
        progress = await orch.progress(run.workflow_id)
    assert result["squares"] == [n * n for n in numbers]
    assert all(lr.CALLS[f"square-{n}"] == 1 for n in numbers)
    assert progress.nodes["squares"].items_done == 100
    query = f"WorkflowType = 'beluga.map-batch' AND WorkflowId STARTS_WITH '{run.workflow_id}/'"
    deadline = time.monotonic() + 10
    while True:  # visibility is eventually consistent: the last batches show up shortly
        children = [wf.id async for wf in dev_runtime.client.list_workflows(query)]
        if len(children) >= 15 or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.1)
    assert len(children) == 15  # ceil(100 / 7)
    assert f"{run.workflow_id}/squares/batch-14" in children


async def test_a_failing_item_of_a_batch_is_reported_by_its_index_in_the_node(
    time_skipping_runtime: LocalRuntime, task_queue: str
) -> None:
    g = Graph("batched-map-fails")
    g.add_map_node("squares", lr.square_but_seven, items="numbers", max_concurrency=4, batch_size=3)
    g.set_entry_point("squares")
    with pytest.raises(GraphExecutionError) as caught:
        await run_with_worker(
            time_skipping_runtime.client, task_queue, g, {"numbers": list(range(10))}
        )
    assert caught.value.error_type == "ValueError"
    assert caught.value.error.startswith("item 7 of map node 'squares'")
