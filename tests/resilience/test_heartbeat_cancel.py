"""Heartbeats, resume after a failed attempt, cancellation reaching steps, step context."""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from typing import Any

import pytest

from beluga_temporal import (
    Chain,
    ExecutionError,
    Graph,
    LocalRuntime,
    Orchestrator,
    RetryPolicy,
    RunCancelledError,
    create_worker,
    step,
)
from beluga_temporal.resilience import (
    StepContext,
    heartbeat,
    last_heartbeat_details,
    step_context,
)
from beluga_temporal.testing import run_with_worker
from tests import graph_examples as gx

PROCESSED: dict[str, list[int]] = defaultdict(list)
RESUMED_FROM: dict[str, list[int]] = defaultdict(list)
CONTEXTS: dict[str, list[StepContext]] = defaultdict(list)
UNDONE: dict[str, asyncio.Event] = defaultdict(asyncio.Event)


@step(heartbeat_timeout=5, retry=RetryPolicy(max_attempts=3, initial_backoff=0.05))
async def process_items(items: list[int]) -> dict[str, int]:
    ctx = step_context()
    details = last_heartbeat_details()
    start = int(details[0]) if details else 0
    RESUMED_FROM[ctx.workflow_id].append(start)
    for index in range(start, len(items)):
        PROCESSED[ctx.workflow_id].append(items[index])
        heartbeat(index + 1)  # items before index + 1 are done
        if ctx.attempt == 1 and index + 1 == 3:
            raise ConnectionError("lost the connection after 3 items")
    return {"processed": len(items), "resumed_from": start}


@step(retry=RetryPolicy(max_attempts=2, initial_backoff=0.05))
async def remember_context(value: dict[str, int]) -> dict[str, int]:
    ctx = step_context()
    CONTEXTS[ctx.workflow_id].append(ctx)
    if ctx.attempt == 1:
        raise ConnectionError("transient")
    return value


@step
async def book(value: dict[str, Any]) -> dict[str, Any]:
    return {"booked": True}


@step
async def unbook(state: dict[str, Any]) -> None:
    UNDONE[str(state["run"])].set()


async def test_retry_resumes_from_last_heartbeat(
    dev_runtime: LocalRuntime, task_queue: str
) -> None:
    chain = Chain("resume-chain", steps=[process_items])
    workflow_id = f"resume-{uuid.uuid4()}"
    result = await run_with_worker(
        dev_runtime.client, task_queue, chain, [10, 20, 30, 40, 50], workflow_id=workflow_id
    )
    assert result == {"processed": 5, "resumed_from": 3}
    assert RESUMED_FROM[workflow_id] == [0, 3]
    assert PROCESSED[workflow_id] == [10, 20, 30, 40, 50]  # nothing done twice


async def test_idempotency_key_is_stable_across_retries(
    time_skipping_runtime: LocalRuntime, task_queue: str
) -> None:
    chain = Chain("context-chain", steps=[remember_context])
    workflow_id = f"ctx-{uuid.uuid4()}"
    await run_with_worker(
        time_skipping_runtime.client, task_queue, chain, {"n": 1}, workflow_id=workflow_id
    )
    first, second = CONTEXTS[workflow_id]
    assert (first.attempt, second.attempt) == (1, 2)
    assert first.idempotency_key == second.idempotency_key
    assert first.idempotency_key == f"{workflow_id}/{first.run_id}/{first.activity_id}"
    assert (first.step, first.workflow_type, first.task_queue) == (
        "remember_context",
        "context-chain",
        task_queue,
    )
    assert first.run_id == second.run_id != ""


def test_helpers_outside_activities() -> None:
    heartbeat("ignored")  # a no-op, so steps stay callable in unit tests
    assert last_heartbeat_details() == ()
    with pytest.raises(ExecutionError, match="only available while a step runs"):
        step_context()


async def cancel_chain_run(rt: LocalRuntime, queue: str) -> tuple[str, BaseException]:
    chain = Chain("cancel-chain", steps=[gx.wait_for_cancel])
    orch = Orchestrator(rt.client, queue)
    async with create_worker(rt.client, queue, targets=[chain]):
        run = await orch.start(chain, {"n": 1})
        await asyncio.wait_for(gx.STARTED[run.workflow_id].wait(), 10)
        await orch.cancel(run.workflow_id)
        with pytest.raises(ExecutionError) as caught:
            await orch.result(run.workflow_id)
        await asyncio.wait_for(gx.SAW_CANCEL[run.workflow_id].wait(), 10)
    return run.workflow_id, caught.value


async def test_cancelling_a_run_reaches_the_running_step(
    dev_runtime: LocalRuntime, task_queue: str
) -> None:
    workflow_id, _ = await cancel_chain_run(dev_runtime, task_queue)
    assert gx.SAW_CANCEL[workflow_id].is_set()


async def test_cancelled_chain_run_reports_cancellation(
    dev_runtime: LocalRuntime, task_queue: str
) -> None:
    _, error = await cancel_chain_run(dev_runtime, task_queue)
    assert isinstance(error, RunCancelledError), error


async def test_cancelled_graph_still_runs_its_compensations(
    dev_runtime: LocalRuntime, task_queue: str
) -> None:
    graph = Graph("cancel-saga")
    graph.add_node("book", book, compensate=unbook)
    graph.add_node("wait", gx.wait_for_cancel)
    graph.add_edge("book", "wait")
    graph.set_entry_point("book")
    orch = Orchestrator(dev_runtime.client, task_queue)
    async with create_worker(dev_runtime.client, task_queue, targets=[graph]):
        run_key = uuid.uuid4().hex
        run = await orch.start(graph, {"run": run_key})
        await asyncio.wait_for(gx.STARTED[run.workflow_id].wait(), 10)
        await orch.cancel(run.workflow_id)
        with pytest.raises(RunCancelledError):
            await orch.result(run.workflow_id)
        await asyncio.wait_for(UNDONE[run_key].wait(), 10)
        await asyncio.wait_for(gx.SAW_CANCEL[run.workflow_id].wait(), 10)
