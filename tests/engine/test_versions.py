"""Deploying a changed chain or graph while runs are in flight (DESIGN §3.9).

One task queue on the dev server. A run is held mid-way by its step `b`, which runs on
its own activity queue whose worker starts only after the workflow worker is replaced.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
import temporalio.client

from beluga_temporal import Chain, Graph, LocalRuntime, Orchestrator, create_worker
from beluga_temporal.plan import MEMO_KEY
from tests.engine._deploy import b, c, chain, events, graph, scheduled, task_failures, until, x

Build = Callable[..., Chain | Graph]
KINDS = pytest.mark.parametrize("build", [graph, chain], ids=["graph", "chain"])
# Temporal retries a failed workflow task at once, but the SDK reports only the first
# failure: a later attempt ends at the workflow task timeout (10 s by default, measured
# 10.0 s here). A short one lets the fixed worker take the run over within ~2 s.
TASK_TIMEOUT = timedelta(seconds=2)


@pytest.fixture(autouse=True)
def _quiet_task_failures() -> Iterator[None]:
    # The SDK logs every failed workflow task with a traceback; the tests read history.
    logger = logging.getLogger("temporalio")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    yield
    logger.setLevel(level)


async def _blocked_at_b(handle: temporalio.client.WorkflowHandle[Any, Any]) -> None:
    async def b_scheduled() -> bool:
        return "b" in scheduled(await events(handle))

    await until(b_scheduled, "step 'b' to be scheduled")


async def _memo_plan(handle: temporalio.client.WorkflowHandle[Any, Any]) -> str:
    memo = await (await handle.describe()).memo()
    return str(memo[MEMO_KEY]["plan"])


@KINDS
async def test_a_run_in_flight_keeps_its_shape_and_new_runs_take_the_new_one(
    dev_runtime: LocalRuntime, task_queue: str, build: Build
) -> None:
    client = dev_runtime.client
    held = b.with_options(task_queue=f"{task_queue}-b")
    old = build("deploy", c, held)
    new = build("deploy", x, held, previous=[old])
    assert old.fingerprint != new.fingerprint
    orch = Orchestrator(client, task_queue)
    async with create_worker(client, task_queue, targets=[old]):
        handle = await orch.start_handle(old, {})
        await _blocked_at_b(handle)
    async with (
        create_worker(client, task_queue, targets=[new]),
        create_worker(client, f"{task_queue}-b", activities=[held]),
    ):
        assert await handle.result() == {"a": 1, "b": 1, "c": 1}
        fresh = await orch.start_handle(new, {})
        assert await fresh.result() == {"a": 1, "b": 1, "x": 1}
        # The progress query names the version each run executes.
        assert (await orch.progress(handle.id)).plan == old.fingerprint
        assert (await orch.progress(fresh.id)).plan == new.fingerprint
    assert scheduled(await events(handle)) == ["a", "b", "c"]
    assert await _memo_plan(handle) == old.fingerprint
    assert await _memo_plan(fresh) == new.fingerprint


@KINDS
async def test_without_previous_a_run_in_flight_is_never_reshaped(
    dev_runtime: LocalRuntime, task_queue: str, build: Build
) -> None:
    client = dev_runtime.client
    held = b.with_options(task_queue=f"{task_queue}-b")
    old = build("deploy", c, held)
    new = build("deploy", x, held)  # the old declaration forgotten
    orch = Orchestrator(client, task_queue)
    async with create_worker(client, task_queue, targets=[old]):
        handle = await orch.start_handle(old, {}, task_timeout=TASK_TIMEOUT)
        await _blocked_at_b(handle)
    async with (
        create_worker(client, task_queue, targets=[new]),
        create_worker(client, f"{task_queue}-b", activities=[held]),
    ):
        failures = await _task_failures(handle)
    history = await events(handle)
    assert scheduled(history) == ["a", "b"]  # 'x' never scheduled: not reshaped
    _assert_names_the_fix(failures[0], handle.id, started=old.fingerprint, known=new.fingerprint)
    # The fix: a worker that knows the old plan finishes the run on it.
    fixed = build("deploy", x, held, previous=[old])
    async with create_worker(client, task_queue, targets=[fixed]):
        assert await handle.result() == {"a": 1, "b": 1, "c": 1}


async def test_a_run_on_an_unknown_plan_waits_for_a_worker_that_knows_it(
    dev_runtime: LocalRuntime, task_queue: str
) -> None:
    # The starter was deployed before the workers: it starts the newest version.
    client = dev_runtime.client
    old = graph("unknown-plan", c, b)
    new = graph("unknown-plan", x, b, previous=[old])
    handle = await Orchestrator(client, task_queue).start_handle(new, {}, task_timeout=TASK_TIMEOUT)
    async with create_worker(client, task_queue, targets=[old]):
        failures = await _task_failures(handle)
    _assert_names_the_fix(failures[0], handle.id, started=new.fingerprint, known=old.fingerprint)
    assert scheduled(await events(handle)) == []
    async with create_worker(client, task_queue, targets=[new]):
        assert await handle.result() == {"a": 1, "b": 1, "x": 1}


async def _task_failures(handle: temporalio.client.WorkflowHandle[Any, Any]) -> list[str]:
    async def failed() -> list[str]:
        return task_failures(await events(handle))

    found: list[str] = await until(failed, "a WorkflowTaskFailed event")
    return found


def _assert_names_the_fix(message: str, workflow_id: str, *, started: str, known: str) -> None:
    assert f"workflow '{workflow_id}'" in message
    assert f"started on plan {started}" in message
    assert known in message
    assert "previous=[...]" in message
    assert "keep a worker with the old code running" in message


async def test_a_nested_chain_changed_with_its_parent_runs_each_version(
    dev_runtime: LocalRuntime, task_queue: str
) -> None:
    # Only the parent keeps its old version; the child chain changed without previous=.
    client = dev_runtime.client
    held = b.with_options(task_queue=f"{task_queue}-b")
    child_v1 = Chain("deploy-child", steps=[c])
    child = Chain("deploy-child", steps=[c, x])
    parent_v1 = Chain("deploy-parent", steps=[held, child_v1])
    parent = Chain("deploy-parent", steps=[held, child], previous=[parent_v1])
    orch = Orchestrator(client, task_queue)
    async with create_worker(client, task_queue, targets=[parent_v1]):
        handle = await orch.start_handle(parent_v1, {})
        await _blocked_at_b(handle)
    async with (
        create_worker(client, task_queue, targets=[parent]),
        create_worker(client, f"{task_queue}-b", activities=[held]),
        asyncio.timeout(30),  # a child on an unknown plan would wait for ever
    ):
        assert await handle.result() == {"b": 1, "c": 1}  # its child ran the old chain
        assert await (await orch.start_handle(parent, {})).result() == {"b": 1, "c": 1, "x": 1}
