"""Every timeout kind, end to end: the error says which one fired."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from beluga_temporal import (
    Chain,
    Graph,
    LocalRuntime,
    RetryPolicy,
    RunTimeoutError,
    StepFailedError,
    step,
)
from beluga_temporal.declare import Step
from beluga_temporal.testing import run_with_worker

ONCE = RetryPolicy(max_attempts=1)


@step(timeout=0.5, retry=ONCE)
async def exceeds_start_to_close(value: dict[str, int]) -> dict[str, int]:
    await asyncio.sleep(30)
    return value


@step(timeout=None, schedule_to_close=0.8, retry=RetryPolicy(max_attempts=0))
async def exceeds_schedule_to_close(value: dict[str, int]) -> dict[str, int]:
    await asyncio.sleep(30)
    return value


@step(timeout=10, heartbeat_timeout=0.5, retry=ONCE)
async def stops_heartbeating(value: dict[str, int]) -> dict[str, int]:
    await asyncio.sleep(30)  # never heartbeats: the server presumes the worker lost
    return value


@step(timeout=30)
async def sleeps(value: dict[str, int]) -> dict[str, int]:
    await asyncio.sleep(30)
    return value


@pytest.mark.parametrize(
    ("slow_step", "kind"),
    [
        (exceeds_start_to_close, "start_to_close"),
        (exceeds_schedule_to_close, "schedule_to_close"),
        (stops_heartbeating, "heartbeat"),
    ],
)
async def test_step_timeout_names_the_kind(
    dev_runtime: LocalRuntime, task_queue: str, slow_step: Step[Any, Any], kind: str
) -> None:
    chain = Chain(f"timeout-{kind}", steps=[slow_step])
    with pytest.raises(StepFailedError) as caught:
        await run_with_worker(dev_runtime.client, task_queue, chain, {"n": 1})
    assert caught.value.error_type == "TimeoutError"
    assert caught.value.cause_message == f"{kind} timeout fired"
    assert f"{kind} timeout fired" in str(caught.value)


async def test_chain_timeout_is_an_execution_timeout(
    dev_runtime: LocalRuntime, task_queue: str
) -> None:
    chain = Chain("timeout-chain", steps=[sleeps], timeout=1)
    with pytest.raises(RunTimeoutError) as caught:
        await run_with_worker(dev_runtime.client, task_queue, chain, {"n": 1})
    assert caught.value.timeout_kind == "execution"
    assert "execution timeout fired" in str(caught.value)


async def test_graph_timeout_is_an_execution_timeout(
    dev_runtime: LocalRuntime, task_queue: str
) -> None:
    graph = Graph("timeout-graph", timeout=1)
    graph.add_node("sleep", sleeps)
    graph.set_entry_point("sleep")
    with pytest.raises(RunTimeoutError) as caught:
        await run_with_worker(dev_runtime.client, task_queue, graph, {"n": 1})
    assert caught.value.timeout_kind == "execution"


async def test_timeout_given_at_start_overrides_the_declared_one(
    dev_runtime: LocalRuntime, task_queue: str
) -> None:
    chain = Chain("timeout-override", steps=[sleeps], timeout=600)
    with pytest.raises(RunTimeoutError) as caught:
        await run_with_worker(dev_runtime.client, task_queue, chain, {"n": 1}, execution_timeout=1)
    assert caught.value.timeout_kind == "execution"
