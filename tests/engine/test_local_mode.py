"""`Chain(..., local=True)` / `Graph(..., local=True)` on real servers.

Steps run as local activities: their results are markers in the history (no activity
events), the run replays, and each step's own options still apply.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import pytest
from temporalio.worker import Replayer

from beluga_temporal import (
    BelugaPlugin,
    Chain,
    Graph,
    GraphExecutionError,
    LocalRuntime,
    Orchestrator,
    RunCancelledError,
    StepFailedError,
    create_worker,
)
from beluga_temporal.testing import run_with_worker
from tests import graph_examples as gx
from tests.engine import histories as hx
from tests.engine import local_mode as lm
from tests.examples import Order, Receipt


@pytest.fixture(params=["time_skipping_runtime", "dev_runtime"])
def runtime(request: pytest.FixtureRequest) -> LocalRuntime:
    rt: LocalRuntime = request.getfixturevalue(request.param)
    return rt


async def _run(rt: LocalRuntime, queue: str, target: Any, value: Any) -> tuple[Any, Any]:
    """Run `target` on a fresh worker; return its result and its history."""
    orch = Orchestrator(rt.client, queue)
    async with create_worker(rt.client, queue, targets=[target]):
        handle = await orch.start_handle(target, value)
        result = await orch.result(handle.id, handle.result_run_id, result_type=target.output_type)
    return result, await handle.fetch_history()


async def _replays(target: Any, history: Any) -> None:
    replayer = Replayer(workflows=[target.workflow], plugins=[BelugaPlugin()])
    await replayer.replay_workflow(history)


async def test_a_local_graph_records_markers_and_replays(
    runtime: LocalRuntime, task_queue: str
) -> None:
    result, history = await _run(runtime, task_queue, lm.LOCAL_ORDER_GRAPH, gx.ORDER_INPUT)
    assert result["payment"] == "charged"
    assert result["notify"] == "notified ada: charged"
    events = hx.event_names(history)
    assert events.count("MARKER_RECORDED") == 6
    assert not [e for e in events if e.startswith("ACTIVITY_TASK")]
    await _replays(lm.LOCAL_ORDER_GRAPH, history)


async def test_a_local_chain_records_markers_and_replays(
    runtime: LocalRuntime, task_queue: str
) -> None:
    order = Order(order_id="o-7", amount=10, items=["book"])
    result, history = await _run(runtime, task_queue, lm.LOCAL_CHAIN, order)
    assert result == Receipt(order_id="o-7", charged=12.0, status="charged")
    events = hx.event_names(history)
    assert events.count("MARKER_RECORDED") == 3
    assert not [e for e in events if e.startswith("ACTIVITY_TASK")]
    await _replays(lm.LOCAL_CHAIN, history)


async def test_a_local_step_keeps_its_retry_policy(runtime: LocalRuntime, task_queue: str) -> None:
    chain = Chain("local-retries", steps=[lm.fails_twice], local=True)
    workflow_id = f"local-retries-{uuid.uuid4().hex[:8]}"
    orch = Orchestrator(runtime.client, task_queue)
    async with create_worker(runtime.client, task_queue, targets=[chain]):
        result = await orch.execute(chain, {"n": 1}, workflow_id=workflow_id)
        progress = await orch.progress(workflow_id)
    assert result == {"n": 1, "attempt": 3, "local": True}
    assert lm.CALLS[f"fails_twice:{workflow_id}"] == 3
    assert progress.nodes["fails_twice"].attempts == 3


async def test_a_local_step_keeps_its_non_retryable_errors(
    runtime: LocalRuntime, task_queue: str
) -> None:
    chain = Chain("local-refusal", steps=[lm.refuses], local=True)
    workflow_id = f"local-refusal-{uuid.uuid4().hex[:8]}"
    with pytest.raises(StepFailedError) as caught:
        await run_with_worker(runtime.client, task_queue, chain, {}, workflow_id=workflow_id)
    assert caught.value.step == "refuses"
    assert caught.value.error_type == "Refused"
    assert lm.CALLS[f"refuses:{workflow_id}"] == 1  # of 5 allowed attempts


async def test_a_local_step_keeps_its_timeout(dev_runtime: LocalRuntime, task_queue: str) -> None:
    chain = Chain("local-timeout", steps=[lm.too_slow], local=True)
    workflow_id = f"local-timeout-{uuid.uuid4().hex[:8]}"
    started = time.monotonic()
    with pytest.raises(StepFailedError) as caught:
        await run_with_worker(dev_runtime.client, task_queue, chain, {}, workflow_id=workflow_id)
    assert time.monotonic() - started < 15, "the 0.5 s timeout did not stop the 30 s step"
    assert caught.value.step == "too_slow"
    assert "timed out" in str(caught.value).lower() or "timeout" in str(caught.value).lower()
    assert lm.CALLS[f"too_slow:{workflow_id}"] == 2  # its own retry policy: 2 attempts


async def test_steps_with_their_own_queue_or_local_false_stay_remote(
    dev_runtime: LocalRuntime, task_queue: str
) -> None:
    other_queue = f"{task_queue}-other"
    graph = lm.routing_graph(other_queue)
    orch = Orchestrator(dev_runtime.client, task_queue)
    async with (
        create_worker(dev_runtime.client, task_queue, targets=[graph]),
        create_worker(dev_runtime.client, other_queue, activities=[lm.elsewhere]),
    ):
        handle = await orch.start_handle(graph, {})
        result = await orch.result(handle.id, handle.result_run_id)
    history = await handle.fetch_history()
    assert result["here"] == {"local": True, "queue": task_queue}
    assert result["elsewhere"] == {"local": False, "queue": other_queue}
    assert result["remote_anyway"] == {"local": False, "queue": task_queue}
    assert hx.scheduled_activities(history) == {
        "elsewhere": other_queue,
        "remote_anyway": task_queue,
    }
    assert hx.event_names(history).count("MARKER_RECORDED") == 1  # `here`
    await _replays(graph, history)


async def test_a_failing_local_step_fails_the_run(runtime: LocalRuntime, task_queue: str) -> None:
    g = Graph("local-failure", local=True)
    g.add_node("ok", gx.validate)
    g.add_node("broken", gx.broken)
    g.add_node("after", gx.notify)
    g.add_edge("ok", "broken").add_edge("broken", "after")
    g.set_entry_point("ok")
    with pytest.raises(GraphExecutionError) as caught:
        await _run(runtime, task_queue, g, {"amount": 1, "quantity": 1})
    error = caught.value
    assert (error.node, error.error_type, error.error) == (
        "broken",
        "RuntimeError",
        "node exploded",
    )
    assert error.completed == ["ok"]
    assert error.skipped == ["after"]


async def test_a_local_run_is_cancelled_with_its_running_step(
    dev_runtime: LocalRuntime, task_queue: str
) -> None:
    chain = Chain("local-cancel", steps=[gx.validate, lm.wait_forever, gx.notify], local=True)
    orch = Orchestrator(dev_runtime.client, task_queue)
    async with create_worker(dev_runtime.client, task_queue, targets=[chain]):
        handle = await orch.start_handle(chain, {"amount": 1, "quantity": 1})
        deadline = time.monotonic() + 10
        while (await orch.progress(handle.id)).nodes["wait_forever"].status != "running":
            assert time.monotonic() < deadline, "the step never started"
            await asyncio.sleep(0.05)
        started = time.monotonic()
        await orch.cancel(handle.id)
        with pytest.raises(RunCancelledError):
            await orch.result(handle.id, handle.result_run_id)
        progress = await orch.progress(handle.id)
    assert time.monotonic() - started < 10, "the 60 s step was not cancelled"
    assert handle.id in lm.CANCELLED
    assert progress.nodes["wait_forever"].status == "cancelled"
    assert progress.nodes["notify"].status == "skipped"


async def test_a_long_local_chain_keeps_workflow_tasks_short(
    dev_runtime: LocalRuntime, task_queue: str
) -> None:
    # Every 200 local activities the run lets its workflow task complete (a 1 ms
    # timer), so no task lives long enough to time out and replay everything.
    chain = Chain("long-local-chain", steps=[lm.inc] * 450, local=True)
    result, history = await _run(dev_runtime, task_queue, chain, 0)
    assert result == 450
    events = hx.event_names(history)
    assert events.count("MARKER_RECORDED") == 450
    assert events.count("TIMER_STARTED") == 2
    assert events.count("WORKFLOW_TASK_COMPLETED") == 3
    assert "WORKFLOW_TASK_TIMED_OUT" not in events
    assert "WORKFLOW_TASK_FAILED" not in events


async def test_a_long_local_map_keeps_workflow_tasks_short(
    dev_runtime: LocalRuntime, task_queue: str
) -> None:
    # With 50 items in flight a map node pauses every 250 items (five times its
    # concurrency, see test_local_checkpoints.py), so 700 items take 3 tasks.
    g = Graph("long-local-map", local=True)
    g.add_map_node("squares", gx.square, items="numbers", max_concurrency=50)
    g.set_entry_point("squares")
    result, history = await _run(dev_runtime, task_queue, g, {"numbers": list(range(700))})
    assert result["squares"] == [n * n for n in range(700)]
    events = hx.event_names(history)
    assert events.count("MARKER_RECORDED") == 700
    assert 3 <= events.count("WORKFLOW_TASK_COMPLETED") <= 4
    assert "WORKFLOW_TASK_TIMED_OUT" not in events
    assert "WORKFLOW_TASK_FAILED" not in events
