"""Helpers for the deploy tests: steps, versions of one graph and chain, history polling."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import temporalio.api.enums.v1
import temporalio.client
from temporalio.api.history.v1 import HistoryEvent

from beluga_temporal import Chain, Graph, step

EventType = temporalio.api.enums.v1.EventType


@step
async def a(state: dict[str, Any]) -> dict[str, Any]:
    return {**state, "a": 1}


@step
async def b(state: dict[str, Any]) -> dict[str, Any]:
    return {**state, "b": 1}


@step
async def c(state: dict[str, Any]) -> dict[str, Any]:
    return {**state, "c": 1}


@step
async def x(state: dict[str, Any]) -> dict[str, Any]:
    return {**state, "x": 1}


def graph(name: str, last: Any, blocked: Any, previous: list[Graph] | None = None) -> Graph:
    """`a -> b -> last`, with `b` the blocked step (on its own activity queue)."""
    g = Graph(name, previous=previous or [])
    g.add_node("a", a).add_node("b", blocked).add_node(last.name, last)
    g.add_edge("a", "b").add_edge("b", last.name)
    return g.set_entry_point("a")


def chain(name: str, last: Any, blocked: Any, previous: list[Chain] | None = None) -> Chain:
    """`a, b, last`, with `b` the blocked step."""
    return Chain(name, steps=[a, blocked, last], previous=previous or [])


async def until(
    check: Callable[[], Awaitable[Any]], what: str, timeout: float = 20.0, every: float = 0.05
) -> Any:
    """Poll `check` until it returns something truthy; fail naming `what` after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = await check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        await asyncio.sleep(every)


async def events(handle: temporalio.client.WorkflowHandle[Any, Any]) -> list[HistoryEvent]:
    """The run's history events so far."""
    return list((await handle.fetch_history()).events)


def scheduled(history: list[HistoryEvent]) -> list[str]:
    """The activity types the run scheduled, in order."""
    return [
        e.activity_task_scheduled_event_attributes.activity_type.name
        for e in history
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
    ]


def task_failures(history: list[HistoryEvent]) -> list[str]:
    """The messages of the run's WorkflowTaskFailed events."""
    return [
        e.workflow_task_failed_event_attributes.failure.message
        for e in history
        if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED
    ]
