"""`LocalRuntime` and `invoke()` serve every task queue a target uses, and never hang
silently: steps on their own queues run, workers sharing a queue never steal each
other's tasks, hand-written workflows get the default execution timeout, and a run whose
workflow task cannot run fails naming what is missing."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import timedelta
from typing import Any

import pytest
import temporalio.activity
import temporalio.workflow

from beluga_temporal import Graph, LocalRuntime, RetryPolicy, step
from beluga_temporal.errors import ExecutionError, RunTimeoutError
from beluga_temporal.local import _runtime as local_runtime
from beluga_temporal.local import shutdown_shared_runtime


@step(retry=RetryPolicy(max_attempts=1))
async def think(state: dict[str, Any]) -> dict[str, Any]:
    return {"think": temporalio.activity.info().task_queue}


@step(retry=RetryPolicy(max_attempts=1))
async def summarize(state: dict[str, Any]) -> dict[str, Any]:
    return {"summarize": temporalio.activity.info().task_queue}


@step(local=True)
async def local_thing(x: int) -> int:
    return x + 1


@temporalio.workflow.defn(name="lifecycle-needs-local")
class NeedsLocal:
    @temporalio.workflow.run
    async def run(self, x: int) -> int:
        return await local_thing.execute(x)


@temporalio.workflow.defn(name="lifecycle-waits")
class Waits:
    @temporalio.workflow.run
    async def run(self) -> None:
        await temporalio.workflow.wait_condition(lambda: False)


def one_step_graph(name: str, node: Any, timeout: float = 600) -> Graph:
    graph = Graph(f"{name}-{uuid.uuid4().hex[:6]}", timeout=timeout)
    graph.add_node("only", node)
    graph.set_entry_point(["only"])
    return graph


def fresh_queue(label: str) -> str:
    return f"{label}-{uuid.uuid4().hex[:8]}"


async def test_steps_on_their_own_task_queue_run(time_skipping_runtime: LocalRuntime) -> None:
    queue = fresh_queue("llm")
    graph = one_step_graph("own-queue", think.with_options(task_queue=queue))
    # Before: nobody polled `queue`; the run waited for the graph timeout (600 s).
    result = await time_skipping_runtime.execute(graph, {})
    assert result == {"think": queue}
    assert queue in time_skipping_runtime.task_queues


async def test_targets_sharing_a_step_queue_never_steal_each_others_tasks(
    time_skipping_runtime: LocalRuntime,
) -> None:
    queue = fresh_queue("shared")
    first = one_step_graph("share-a", think.with_options(task_queue=queue))
    second = one_step_graph("share-b", summarize.with_options(task_queue=queue))
    # Served one after the other (the second replaces the queue's worker), then mixed.
    assert await time_skipping_runtime.execute(first, {}) == {"think": queue}
    assert await time_skipping_runtime.execute(second, {}) == {"summarize": queue}
    # One attempt per step: a task taken by a worker that lacks its step would fail.
    results = await asyncio.gather(
        *(time_skipping_runtime.execute(g, {}) for g in [first, second] * 4)
    )
    assert results == [{"think": queue}, {"summarize": queue}] * 4


async def test_invoke_serves_step_queues_too() -> None:
    queue = fresh_queue("invoke-llm")
    graph = one_step_graph("invoke-queue", think.with_options(task_queue=queue), timeout=30)
    try:
        assert await graph.invoke({}) == {"think": queue}
    finally:
        await shutdown_shared_runtime()


async def test_hand_written_workflows_get_the_default_execution_timeout(
    time_skipping_runtime: LocalRuntime,
) -> None:
    handle = await time_skipping_runtime.start(Waits)
    try:
        config = (await handle.describe()).raw_description.execution_config
        # settings `orchestration.workflow.timeout`, as `Orchestrator` runs get
        assert config.workflow_execution_timeout.ToTimedelta() == timedelta(hours=1)
    finally:
        await handle.terminate()


async def test_a_local_step_the_worker_lacks_fails_naming_it(dev_runtime: LocalRuntime) -> None:
    started = time.monotonic()
    with pytest.raises(ExecutionError, match="local_thing is not registered") as caught:
        # Bounded for the old behaviour: silent workflow-task retries until the timeout.
        await dev_runtime.execute(NeedsLocal, 1, execution_timeout=30)
    assert time.monotonic() - started < 20
    assert "activities=" in str(caught.value)  # the fix is named too
    handle = dev_runtime.client.get_workflow_handle(caught.value.workflow_id or "")
    status = (await handle.describe()).status
    assert status is not None
    assert status.name == "TERMINATED"  # nothing keeps retrying behind the caller's back


async def test_on_the_time_skipping_server_too(time_skipping_runtime: LocalRuntime) -> None:
    with pytest.raises(ExecutionError, match="local_thing is not registered"):
        await time_skipping_runtime.execute(NeedsLocal, 1, execution_timeout=30)


async def test_a_timed_out_run_says_its_workflow_task_was_failing(
    time_skipping_runtime: LocalRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Timed out before any check noticed (checks made rare here): the error says why.
    monkeypatch.setattr(local_runtime, "STALL_CHECK_INTERVAL", 60.0)
    with pytest.raises(RunTimeoutError, match="local_thing is not registered"):
        await time_skipping_runtime.execute(NeedsLocal, 1, execution_timeout=5)


HOLDING = asyncio.Event()


@step(heartbeat_timeout=2)
async def hold(state: dict[str, Any]) -> dict[str, Any]:
    HOLDING.set()
    while True:  # until cancelled: heartbeats are how a step learns of it
        temporalio.activity.heartbeat()
        await asyncio.sleep(0.1)


async def test_a_caller_that_gives_up_cancels_its_run(dev_runtime: LocalRuntime) -> None:
    HOLDING.clear()
    graph = one_step_graph("give-up", hold, timeout=60)
    workflow_id = f"give-up-{uuid.uuid4().hex[:8]}"
    caller = asyncio.ensure_future(dev_runtime.execute(graph, {}, workflow_id=workflow_id))
    await asyncio.wait_for(HOLDING.wait(), 15)
    caller.cancel()  # e.g. a notebook cell interrupted while awaiting `invoke()`
    handle = dev_runtime.client.get_workflow_handle(workflow_id)
    deadline = time.monotonic() + 15
    while (status := (await handle.describe()).status) is not None and status.name == "RUNNING":
        assert time.monotonic() < deadline, "the run went on after its caller gave up"
        await asyncio.sleep(0.05)
    assert status is not None
    assert status.name == "CANCELED"
