"""On a cluster, missing workers are named: `Orchestrator.start` warns about task queues
nobody polls, progress shows a step waiting for a worker (its queue, how long), and a
run whose workflow no worker hosts is named instead of a query that never answers."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from typing import Any

import pytest
import temporalio.workflow

from beluga_temporal import Graph, LocalRuntime, Orchestrator, create_worker
from beluga_temporal.client import poller_checks_done, pollers
from beluga_temporal.engine import RunProgress
from beluga_temporal.errors import ExecutionError
from tests import graph_examples as gx


@temporalio.workflow.defn(name="pollers-hosted")
class Hosted:
    @temporalio.workflow.run
    async def run(self) -> str:
        return "hosted"


def llm_graph(llm_queue: str) -> Graph:
    return gx.plan_then_think(f"pollers-{uuid.uuid4().hex[:6]}", llm_queue)


def warnings_of(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "beluga_temporal.client" and r.levelno == logging.WARNING
    ]


async def test_start_warns_about_every_queue_nobody_polls(
    dev_runtime: LocalRuntime, task_queue: str, caplog: pytest.LogCaptureFixture
) -> None:
    llm_queue = f"{task_queue}-llm"
    orch = Orchestrator(dev_runtime.client, task_queue)
    with caplog.at_level(logging.WARNING, logger="beluga_temporal.client"):
        run = await orch.start(llm_graph(llm_queue), {})
        await poller_checks_done()  # the check runs beside the start
    await dev_runtime.client.get_workflow_handle(run.workflow_id).terminate()
    warnings = warnings_of(caplog)
    assert len(warnings) == 3, warnings  # workflow tasks, plan's and think's activities
    assert f"task queue '{task_queue}' for workflow tasks" in warnings[0]
    assert f"task queue '{task_queue}' for activity tasks: step plan" in warnings[1]
    assert f"task queue '{llm_queue}' for activity tasks: step think" in warnings[2]
    assert all(run.workflow_id in w for w in warnings)


async def test_start_warns_only_about_the_step_queue_nobody_polls(
    dev_runtime: LocalRuntime, task_queue: str, caplog: pytest.LogCaptureFixture
) -> None:
    llm_queue = f"{task_queue}-llm"
    graph = llm_graph(llm_queue)
    orch = Orchestrator(dev_runtime.client, task_queue)
    async with create_worker(dev_runtime.client, task_queue, targets=[graph]):
        await _polled(orch, task_queue)
        with caplog.at_level(logging.WARNING, logger="beluga_temporal.client"):
            run = await orch.start(graph, {})
            await poller_checks_done()
        await dev_runtime.client.get_workflow_handle(run.workflow_id).terminate()
    assert len(warnings_of(caplog)) == 1, warnings_of(caplog)
    assert f"'{llm_queue}' for activity tasks: step think" in warnings_of(caplog)[0]


async def _polled(orch: Orchestrator, queue: str) -> None:
    """Wait until the server has seen the new worker poll (workers start polling async)."""
    deadline = time.monotonic() + 10
    while not await pollers(orch.client, queue, "workflow"):
        assert time.monotonic() < deadline, f"no poller on {queue}"
        await asyncio.sleep(0.05)


async def test_progress_shows_a_step_waiting_for_a_worker(
    dev_runtime: LocalRuntime, task_queue: str
) -> None:
    llm_queue = f"{task_queue}-llm"
    graph = llm_graph(llm_queue)
    orch = Orchestrator(dev_runtime.client, task_queue)
    async with create_worker(dev_runtime.client, task_queue, targets=[graph]):
        run = await orch.start(graph, {})
        progress = await _until(orch, run.workflow_id, lambda p: p.nodes["think"].waiting)
        waiting = progress.nodes["think"].waiting or ""
        assert f"for a worker on task queue '{llm_queue}' (no worker polls it)" in waiting
        assert waiting.startswith("waiting ")
        assert progress.nodes["plan"].waiting is None  # it ran
        async with create_worker(dev_runtime.client, llm_queue, activities=[gx.think]):
            assert await orch.result(run.workflow_id) == {"planned": True, "thought": True}
            final = await orch.progress(run.workflow_id)
    assert final.nodes["think"].waiting is None


async def _until(orch: Orchestrator, workflow_id: str, condition: Any) -> RunProgress:
    deadline = time.monotonic() + 15
    while True:
        progress = await orch.progress(workflow_id)
        if condition(progress):
            return progress
        assert time.monotonic() < deadline, f"condition never held: {progress}"
        await asyncio.sleep(0.1)


async def test_progress_names_a_workflow_type_no_worker_hosts(
    dev_runtime: LocalRuntime, task_queue: str
) -> None:
    orch = Orchestrator(dev_runtime.client, task_queue)
    async with create_worker(dev_runtime.client, task_queue, targets=[Hosted]):
        run = await orch.start("pollers-not-hosted")
        started = time.monotonic()
        with pytest.raises(ExecutionError, match="pollers-not-hosted is not registered"):
            await orch.progress(run.workflow_id)
        # Before: the query waited for its deadline and said only "no answer in time".
        assert time.monotonic() - started < 15
        await dev_runtime.client.get_workflow_handle(run.workflow_id).terminate()


async def test_a_server_that_cannot_say_gets_no_warning(
    time_skipping_runtime: LocalRuntime, task_queue: str, caplog: pytest.LogCaptureFixture
) -> None:
    # The test server does not implement DescribeTaskQueue: the start still succeeds.
    orch = Orchestrator(time_skipping_runtime.client, task_queue)
    with caplog.at_level(logging.DEBUG, logger="beluga_temporal.client"):
        run = await orch.start("pollers-hosted")
        await poller_checks_done()
    await time_skipping_runtime.client.get_workflow_handle(run.workflow_id).terminate()
    assert warnings_of(caplog) == []
    assert any("cannot check the pollers" in r.getMessage() for r in caplog.records)
