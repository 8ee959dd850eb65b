"""Graphs on real Temporal servers: data flow, scheduling, routing, failure, recovery."""

from __future__ import annotations

import time
import uuid

import pytest

from beluga_temporal import (
    Graph,
    GraphExecutionError,
    LocalRuntime,
    Orchestrator,
    RunProgress,
    create_worker,
)
from beluga_temporal.testing import run_with_worker
from tests import graph_examples as ex


def events_of(*names: str) -> dict[str, dict[str, float]]:
    found: dict[str, dict[str, float]] = {}
    for name, what, at in ex.EVENTS:
        if name in names:
            found.setdefault(name, {})[what] = at
    return found


async def test_order_graph_threads_state_through_six_nodes(
    time_skipping_runtime: LocalRuntime, task_queue: str
) -> None:
    result = await run_with_worker(
        time_skipping_runtime.client, task_queue, ex.ORDER_GRAPH, ex.ORDER_INPUT
    )
    assert result == {
        **ex.ORDER_INPUT,
        "valid": True,
        "order_total": 50.0,
        "in_stock": True,
        "credit_ok": True,
        "payment": "charged",
        "charged": 50.0,
        "shipment": "ship-o-1",
        "notify": "notified ada: charged",
    }


async def test_independent_branches_run_in_parallel(
    dev_runtime: LocalRuntime, task_queue: str
) -> None:
    g = Graph("parallel-pair")
    g.add_node("left", ex.sleeping_step("par-left", 0.5, {"left": 1}))
    g.add_node("right", ex.sleeping_step("par-right", 0.5, {"right": 2}))
    g.set_entry_point(["left", "right"])
    result = await run_with_worker(dev_runtime.client, task_queue, g, {})
    assert result == {"left": 1, "right": 2}
    seen = events_of("par-left", "par-right")
    # Overlapping, not timed: each branch started before the other one ended.
    assert seen["par-left"]["start"] < seen["par-right"]["end"]
    assert seen["par-right"]["start"] < seen["par-left"]["end"]


async def test_slow_branch_does_not_delay_unrelated_fast_chain(
    dev_runtime: LocalRuntime, task_queue: str
) -> None:
    g = Graph("no-barriers")
    g.add_node("slow", ex.sleeping_step("nb-slow", 1.0))
    g.add_node("f1", ex.sleeping_step("nb-f1", 0.05))
    g.add_node("f2", ex.sleeping_step("nb-f2", 0.05))
    g.add_node("f3", ex.sleeping_step("nb-f3", 0.05))
    g.add_edge("f1", "f2").add_edge("f2", "f3")
    g.set_entry_point(["slow", "f1"])
    await run_with_worker(dev_runtime.client, task_queue, g, {})
    times = events_of("nb-slow", "nb-f3")
    # With superstep barriers f3 could only start after `slow` ended.
    assert times["nb-f3"]["end"] < times["nb-slow"]["end"]


async def test_max_workers_one_serialises(
    time_skipping_runtime: LocalRuntime, task_queue: str
) -> None:
    g = Graph("serial", max_workers=1)
    for name in ("s1", "s2", "s3"):
        g.add_node(name, ex.sleeping_step(f"serial-{name}", 0.05))
    g.set_entry_point(["s1", "s2", "s3"])
    ex.ACTIVE["max"] = 0
    await run_with_worker(time_skipping_runtime.client, task_queue, g, {})
    assert ex.ACTIVE["max"] == 1
    starts = [n for n, what, _ in ex.EVENTS if what == "start" and n.startswith("serial-")]
    assert starts == ["serial-s1", "serial-s2", "serial-s3"]  # topological order


async def test_parallel_false_runs_one_node_at_a_time(
    time_skipping_runtime: LocalRuntime, task_queue: str
) -> None:
    g = Graph("not-parallel", parallel=False)
    g.add_node("p1", ex.sleeping_step("np-p1", 0.05))
    g.add_node("p2", ex.sleeping_step("np-p2", 0.05))
    g.set_entry_point(["p1", "p2"])
    ex.ACTIVE["max"] = 0
    await run_with_worker(time_skipping_runtime.client, task_queue, g, {})
    assert ex.ACTIVE["max"] == 1


async def test_fail_fast_cancels_running_branches_and_skips_dependents(
    dev_runtime: LocalRuntime, task_queue: str
) -> None:
    g = Graph("fail-fast")
    g.add_node("ok", ex.sleeping_step("ff-ok", 0.01, {"ok": True}))
    g.add_node("broken", ex.broken)
    # It heartbeats: cancellation reaches a step only through heartbeats, and the run
    # reports its failure once every node it started has settled.
    g.add_node("long", ex.heartbeating_step("ff-long", 20))
    g.add_node("after", ex.sleeping_step("ff-after", 0.01))
    g.add_edge("ok", "broken").add_edge("broken", "after")
    g.set_entry_point(["ok", "long"])
    orch = Orchestrator(dev_runtime.client, task_queue)
    async with create_worker(dev_runtime.client, task_queue, targets=[g]):
        started = time.monotonic()
        run_ = await orch.start(g, {})
        with pytest.raises(GraphExecutionError) as caught:
            await orch.result(run_.workflow_id, run_.run_id)
        assert time.monotonic() - started < 10, "the 20 s branch was not cancelled"
        progress = await orch.progress(run_.workflow_id)
    error = caught.value
    assert (error.node, error.error_type, error.error) == (
        "broken",
        "RuntimeError",
        "node exploded",
    )
    assert error.completed == ["ok"]
    assert error.skipped == ["after"]
    assert error.cancelled == ["long"]
    assert progress.nodes["long"].status == "cancelled"
    assert progress.status == "failed"


async def test_continue_lets_independent_branches_finish(
    time_skipping_runtime: LocalRuntime, task_queue: str
) -> None:
    g = Graph("keep-going", on_error="continue")
    g.add_node("broken", ex.broken)
    g.add_node("after", ex.sleeping_step("kg-after", 0.01))
    g.add_node("other", ex.sleeping_step("kg-other", 0.2, {"other": 1}))
    g.add_node("other2", ex.sleeping_step("kg-other2", 0.01, {"other2": 1}))
    g.add_edge("broken", "after").add_edge("other", "other2")
    g.set_entry_point(["broken", "other"])
    with pytest.raises(GraphExecutionError) as caught:
        await run_with_worker(time_skipping_runtime.client, task_queue, g, {})
    assert caught.value.node == "broken"
    assert caught.value.completed == ["other", "other2"]
    assert caught.value.skipped == ["after"]


async def test_fallback_replaces_failed_output(
    time_skipping_runtime: LocalRuntime, task_queue: str
) -> None:
    g = Graph("with-fallback")
    g.add_node("broken", ex.broken, fallback=ex.fallback_value)
    g.add_node("next", ex.sleeping_step("fb-next", 0.01, {"next": True}))
    g.add_edge("broken", "next")
    g.set_entry_point("broken")
    result = await run_with_worker(time_skipping_runtime.client, task_queue, g, {"x": 1})
    assert result == {"x": 1, "from_fallback": True, "next": True}


async def test_compensations_run_in_reverse_completion_order(
    time_skipping_runtime: LocalRuntime, task_queue: str
) -> None:
    g = Graph("saga")
    g.add_node("reserve", ex.sleeping_step("saga-reserve", 0.01), compensate=ex.compensator("r"))
    g.add_node("charge", ex.sleeping_step("saga-charge", 0.01), compensate=ex.compensator("c"))
    g.add_node("ship", ex.broken, compensate=ex.compensator("s"))
    g.add_edge("reserve", "charge").add_edge("charge", "ship")
    g.set_entry_point("reserve")
    ex.COMPENSATED.clear()
    with pytest.raises(GraphExecutionError):
        await run_with_worker(time_skipping_runtime.client, task_queue, g, {})
    assert ex.COMPENSATED == ["c", "r"]  # the failed node itself is not compensated


async def test_conditional_routing_skips_branches_not_taken(
    time_skipping_runtime: LocalRuntime, task_queue: str
) -> None:
    orch = Orchestrator(time_skipping_runtime.client, task_queue)
    async with create_worker(time_skipping_runtime.client, task_queue, targets=[ex.ROUTED_GRAPH]):
        express = await orch.start(ex.ROUTED_GRAPH, {"amount": 500})
        express_result = await orch.result(express.workflow_id)
        progress = await orch.progress(express.workflow_id)
        standard = await orch.execute(ex.ROUTED_GRAPH, {"amount": 5})
    assert express_result["done"] == "express"
    assert "label" not in express_result
    statuses = {name: node.status for name, node in progress.nodes.items()}
    assert statuses == {
        "decide": "succeeded",
        "express": "succeeded",
        "standard": "skipped",
        "label": "skipped",  # skip propagates down the branch not taken
        "finish": "succeeded",  # runs: one predecessor succeeded, the other was skipped
    }
    assert standard["done"] == "standard"
    assert standard["label"] == "std-label"


async def test_route_to_unknown_label_fails_with_routing_error(
    time_skipping_runtime: LocalRuntime, task_queue: str
) -> None:
    g = Graph("bad-route")
    g.add_node("decide", ex.decide)
    g.add_node("express", ex.ship_express)
    g.add_conditional_edges("decide", lambda s: "teleport", {"express": "express"})
    g.set_entry_point("decide")
    with pytest.raises(GraphExecutionError) as caught:
        await run_with_worker(time_skipping_runtime.client, task_queue, g, {"amount": 1})
    assert caught.value.error_type == "RoutingError"
    assert "'teleport'" in caught.value.error


async def test_map_node_fans_out_over_200_items_in_order(
    time_skipping_runtime: LocalRuntime, task_queue: str
) -> None:
    result = await run_with_worker(
        time_skipping_runtime.client, task_queue, ex.MAP_GRAPH, {"count": 200}
    )
    assert result["squares"] == [n * n for n in range(200)]


async def test_concurrent_writes_of_different_values_conflict(
    time_skipping_runtime: LocalRuntime, task_queue: str
) -> None:
    g = Graph("conflict")
    g.add_node("a", ex.sleeping_step("cf-a", 0.01, {"status": "a"}))
    g.add_node("b", ex.sleeping_step("cf-b", 0.02, {"status": "b"}))
    g.set_entry_point(["a", "b"])
    with pytest.raises(GraphExecutionError) as caught:
        await run_with_worker(time_skipping_runtime.client, task_queue, g, {})
    assert caught.value.error_type == "StateConflictError"
    assert "'a'" in caught.value.error
    assert "'b'" in caught.value.error
    assert "'status'" in caught.value.error


async def test_watch_follows_a_graph_run_to_completion(
    dev_runtime: LocalRuntime, task_queue: str
) -> None:
    g = Graph("watched")
    g.add_node("first", ex.sleeping_step("w-first", 0.3, {"first": 1}))
    g.add_node("second", ex.sleeping_step("w-second", 0.3, {"second": 2}))
    g.add_edge("first", "second").set_entry_point("first")
    orch = Orchestrator(dev_runtime.client, task_queue)
    seen: list[RunProgress] = []
    async with create_worker(dev_runtime.client, task_queue, targets=[g]):
        run_ = await orch.start(g, {}, workflow_id=f"watched-{uuid.uuid4()}")
        async for progress in orch.watch(run_.workflow_id, interval=0.05):
            seen.append(progress)
    assert seen[-1].status == "completed"
    assert all(node.status == "succeeded" for node in seen[-1].nodes.values())
    assert any(p.nodes["second"].status == "running" for p in seen)
    assert any(p.nodes["first"].status == "running" for p in seen)


async def test_graph_input_is_validated_against_state_model(
    time_skipping_runtime: LocalRuntime, task_queue: str
) -> None:
    from tests.examples import Order

    g = Graph("typed-state", state=Order)
    g.add_node("validate", ex.sleeping_step("ts-validate", 0, {"ok": True}))
    g.set_entry_point("validate")
    ok = await run_with_worker(
        time_skipping_runtime.client, task_queue, g, {"order_id": "o", "amount": 2}
    )
    assert ok == {"order_id": "o", "amount": 2.0, "items": [], "ok": True}
    from beluga_temporal import InvalidInputError

    # Checked by the starter, before anything starts.
    with pytest.raises(InvalidInputError, match="amount"):
        await run_with_worker(
            time_skipping_runtime.client, task_queue, g, {"order_id": "o", "amount": -2}
        )


async def test_watch_ends_when_a_run_is_terminated(
    dev_runtime: LocalRuntime, task_queue: str
) -> None:
    g = Graph("terminated-watch")
    g.add_node("long", ex.sleeping_step("tw-long", 30)).set_entry_point("long")
    orch = Orchestrator(dev_runtime.client, task_queue)
    seen: list[RunProgress] = []
    terminated = False
    async with create_worker(dev_runtime.client, task_queue, targets=[g]):
        run_ = await orch.start(g, {})
        async for progress in orch.watch(run_.workflow_id, interval=0.05):
            seen.append(progress)
            if progress.nodes["long"].status == "running" and not terminated:
                await dev_runtime.client.get_workflow_handle(run_.workflow_id).terminate()
                terminated = True
    assert seen[-1].status == "failed"  # the watch ended instead of waiting forever
