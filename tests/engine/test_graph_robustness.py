"""Edge cases found in review: simultaneous completions, cancelled fallbacks, odd routes,
plain edges from routing nodes, bare results for plain temporalio callers, failed turns."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import timedelta
from typing import Any

import pytest
from temporalio import workflow
from temporalio.client import WorkflowHandle

from beluga_temporal import (
    Chain,
    Graph,
    GraphExecutionError,
    LocalRuntime,
    Orchestrator,
    RetryPolicy,
    StepFailedError,
    create_worker,
    step,
)
from beluga_temporal.memory import BufferMemory
from beluga_temporal.testing import run_with_worker
from tests import graph_examples as ex

with workflow.unsafe.imports_passed_through():
    from tests import examples


async def wait_for_events(handle: WorkflowHandle[Any, Any], *kinds: str) -> None:
    """Poll the history until every kind of event is in it (bounded)."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        history = await handle.fetch_history()
        seen = {e.WhichOneof("attributes") for e in history.events}
        if all(f"{kind}_event_attributes" in seen for kind in kinds):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"events {kinds} never appeared")


async def test_completions_seen_together_never_hang_fail_fast(
    dev_runtime: LocalRuntime, task_queue: str
) -> None:
    a_queue, b_queue = f"{task_queue}-a", f"{task_queue}-b"
    ok = ex.sleeping_step("together-a", 0.01, {"a": 1}).with_options(task_queue=a_queue)
    bad = ex.broken.with_options(task_queue=b_queue)
    after = ex.sleeping_step("together-c", 0.01).with_options(task_queue=a_queue)
    g = Graph("together")
    g.add_node("a", ok).add_node("b", bad).add_node("c", after)
    g.add_edge("a", "c").set_entry_point(["a", "b"])
    client = dev_runtime.client
    orch = Orchestrator(client, task_queue)
    async with create_worker(client, task_queue, targets=[g]):
        run_ = await orch.start(g, {}, execution_timeout=30)
        handle = client.get_workflow_handle(run_.workflow_id)
        await wait_for_events(handle, "activity_task_scheduled")
    # No workflow worker now: A succeeds, then B fails, and the next workflow task sees
    # both at once. C (after A) is created and, B having failed, cancelled before it
    # ever ran; the run must still end.
    async with create_worker(client, a_queue, activities=[ok, after]):
        await wait_for_events(handle, "activity_task_completed")
    async with create_worker(client, b_queue, activities=[bad]):
        await wait_for_events(handle, "activity_task_failed")
    async with create_worker(client, task_queue, targets=[g]):
        with pytest.raises(GraphExecutionError) as caught:
            await orch.result(run_.workflow_id, run_.run_id)
    assert caught.value.node == "b"
    assert caught.value.completed == ["a"]


async def test_a_cancelled_node_does_not_run_its_fallback(
    dev_runtime: LocalRuntime, task_queue: str
) -> None:
    ex.COMPENSATED.clear()
    g = Graph("no-fallback-on-cancel")
    g.add_node("slow", ex.heartbeating_step("nf-slow", 20), fallback=ex.compensator("fallback"))
    g.add_node("broken", ex.broken)
    g.set_entry_point(["slow", "broken"])
    with pytest.raises(GraphExecutionError) as caught:
        await run_with_worker(dev_runtime.client, task_queue, g, {})
    assert caught.value.cancelled == ["slow"]
    assert caught.value.completed == []
    assert ex.COMPENSATED == []  # the fallback step never ran


async def test_a_route_returning_a_non_label_fails_the_run(
    time_skipping_runtime: LocalRuntime, task_queue: str
) -> None:
    g = Graph("unhashable-route")
    g.add_node("decide", ex.decide).add_node("express", ex.ship_express)
    # A route returning a list is a type error too; what the run does with it is tested.
    g.add_conditional_edges("decide", lambda s: ["express"], ["express"])  # type: ignore[arg-type,return-value]
    g.set_entry_point("decide")
    with pytest.raises(GraphExecutionError) as caught:
        await run_with_worker(
            time_skipping_runtime.client, task_queue, g, {"amount": 1}, execution_timeout=20
        )
    assert caught.value.error_type == "RoutingError"
    assert caught.value.completed == []  # a node whose route failed did not complete


@step
async def audit(state: dict[str, Any]) -> dict[str, Any]:
    return {"audited": True}


async def test_plain_edges_from_a_routing_node_are_always_taken(
    time_skipping_runtime: LocalRuntime, task_queue: str
) -> None:
    g = Graph("route-and-audit")
    g.add_node("decide", ex.decide).add_node("express", ex.ship_express)
    g.add_node("standard", ex.ship_standard).add_node("audit", audit)
    g.add_conditional_edges("decide", lambda s: s["decide"], ["express", "standard"])
    g.add_edge("decide", "audit")
    g.set_entry_point("decide")
    result = await run_with_worker(time_skipping_runtime.client, task_queue, g, {"amount": 500})
    assert result["shipping"] == "express"
    assert result["audited"] is True


@workflow.defn(name="plain-flaky")
class PlainFlaky:
    @workflow.run
    async def run(self, value: dict[str, int]) -> Any:
        return await workflow.execute_activity(
            examples.flaky, value, start_to_close_timeout=timedelta(seconds=10)
        )


async def test_plain_temporalio_callers_get_the_bare_result_on_retries(
    time_skipping_runtime: LocalRuntime, task_queue: str
) -> None:
    result = await time_skipping_runtime.execute(
        PlainFlaky, {"n": 1}, activities=[examples.flaky], workflow_id=f"plain-{uuid.uuid4()}"
    )
    assert result == {"n": 1, "attempts": 3}  # succeeded on attempt 3, no envelope


@step(retry=RetryPolicy(max_attempts=1))
async def picky(value: dict[str, Any]) -> dict[str, Any]:
    if value["input"] == "bad":
        raise ValueError("cannot answer 'bad'")
    return {"output": value["input"].upper()}


async def test_a_failed_session_turn_names_the_step_and_keeps_the_session(
    dev_runtime: LocalRuntime, task_queue: str
) -> None:
    chain = Chain("picky-session", steps=[picky], memory=BufferMemory())
    session = Orchestrator(dev_runtime.client, task_queue).session(chain)
    async with create_worker(dev_runtime.client, task_queue, targets=[chain]):
        assert await session.send({"input": "hi"}) == {"output": "HI"}
        with pytest.raises(StepFailedError) as caught:
            await session.send({"input": "bad"})
        assert await session.send({"input": "again"}) == {"output": "AGAIN"}
        await session.close()
    assert caught.value.step == "picky"
    assert caught.value.error_type == "ValueError"
