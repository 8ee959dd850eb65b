"""Steps, targets and history helpers for the local-mode tests (module level: replay)."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import temporalio.activity

from beluga_temporal import Chain, Graph, RetryPolicy, step
from tests import examples as ex
from tests import graph_examples as gx

CALLS: Counter[str] = Counter()
"""Attempts per (step, workflow id), counted by the steps themselves."""
CANCELLED: list[str] = []
"""Workflow ids whose `wait_forever` step saw its cancellation."""


def _count(name: str) -> int:
    info = temporalio.activity.info()
    CALLS[f"{name}:{info.workflow_id}"] += 1
    return info.attempt


def _where() -> dict[str, Any]:
    info = temporalio.activity.info()
    return {"local": info.is_local, "queue": info.task_queue}


@step(retry=RetryPolicy(max_attempts=5, initial_backoff=0.05, max_backoff=0.1))
async def fails_twice(value: dict[str, Any]) -> dict[str, Any]:
    attempt = _count("fails_twice")
    if attempt < 3:
        raise ConnectionError(f"transient failure on attempt {attempt}")
    return {**value, "attempt": attempt, "local": temporalio.activity.info().is_local}


class Refused(Exception):
    pass


@step(retry=RetryPolicy(max_attempts=5, initial_backoff=0.05), non_retryable=[Refused])
async def refuses(value: dict[str, Any]) -> dict[str, Any]:
    _count("refuses")
    raise Refused("not allowed")


@step(timeout=0.5, retry=RetryPolicy(max_attempts=2, initial_backoff=0.05))
async def too_slow(value: dict[str, Any]) -> dict[str, Any]:
    _count("too_slow")
    await asyncio.sleep(30)
    return value


@step(timeout=60)
async def wait_forever(value: dict[str, Any]) -> dict[str, Any]:
    try:
        await asyncio.sleep(60)
    except asyncio.CancelledError:
        CANCELLED.append(temporalio.activity.info().workflow_id or "")
        raise
    return value


@step
async def here(state: dict[str, Any]) -> dict[str, Any]:
    return {"here": _where()}


@step(task_queue="local-mode-elsewhere")
async def elsewhere(state: dict[str, Any]) -> dict[str, Any]:
    return {"elsewhere": _where()}


@step
async def remote_anyway(state: dict[str, Any]) -> dict[str, Any]:
    return {"remote_anyway": _where()}


@step
async def inc(x: int) -> int:
    return x + 1


LOCAL_ORDER_GRAPH = gx.order_graph("local-order-graph")
LOCAL_ORDER_GRAPH.local = True
LOCAL_CHAIN = Chain(
    "local-order-chain", steps=[ex.validate_order, ex.price_order, ex.charge], local=True
)


def routing_graph(queue: str) -> Graph:
    """A local graph with one step on another queue and one that opted out of local."""
    g = Graph("local-routing", local=True)
    g.add_node("here", here)
    g.add_node("elsewhere", elsewhere.with_options(task_queue=queue))
    g.add_node("remote_anyway", remote_anyway, local=False)
    g.set_entry_point(["here", "elsewhere", "remote_anyway"])
    return g
