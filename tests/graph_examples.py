"""Graphs and steps shared by the tests (module level so committed histories replay)."""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from typing import Any

import temporalio.activity

from beluga_temporal import Graph, RetryPolicy, heartbeat, step

# In-process records the tests read back: what ran, when, and in which order.
EVENTS: list[tuple[str, str, float]] = []
COMPENSATED: list[str] = []
ACTIVE = {"now": 0, "max": 0}
# Per workflow id: `wait_for_cancel` started, and it saw its cancellation.
STARTED: dict[str, asyncio.Event] = defaultdict(asyncio.Event)
SAW_CANCEL: dict[str, asyncio.Event] = defaultdict(asyncio.Event)


def note(name: str, what: str) -> None:
    EVENTS.append((name, what, time.monotonic()))


@step
async def validate(state: dict[str, Any]) -> dict[str, Any]:
    return {"valid": True, "order_total": state["amount"] * state["quantity"]}


@step
async def check_inventory(state: dict[str, Any]) -> dict[str, Any]:
    return {"in_stock": state["quantity"] <= 10}


@step
async def check_credit(state: dict[str, Any]) -> dict[str, Any]:
    return {"credit_ok": state["order_total"] < 1000}


@step
async def process_payment(state: dict[str, Any]) -> dict[str, Any]:
    if not (state["in_stock"] and state["credit_ok"]):
        return {"payment": "declined"}
    return {"payment": "charged", "charged": state["order_total"]}


@step
async def fulfill(state: dict[str, Any]) -> dict[str, Any]:
    return {"shipment": f"ship-{state['order_id']}" if state["payment"] == "charged" else None}


@step
async def notify(state: dict[str, Any]) -> str:
    return f"notified {state['customer']}: {state['payment']}"


def order_graph(name: str = "test-order-graph", credit: Any = None) -> Graph:
    g = Graph(name, max_workers=5)
    g.add_node("validate", validate)
    g.add_node("check_inventory", check_inventory)
    g.add_node("check_credit", credit or check_credit)
    g.add_node("process_payment", process_payment)
    g.add_node("fulfill", fulfill)
    g.add_node("notify", notify)
    g.add_edge("validate", "check_inventory")
    g.add_edge("validate", "check_credit")
    g.add_edge("check_inventory", "process_payment")
    g.add_edge("check_credit", "process_payment")
    g.add_edge("process_payment", "fulfill")
    g.add_edge("fulfill", "notify")
    g.set_entry_point(["validate"])
    g.set_finish_point(["notify"])
    return g


ORDER_GRAPH = order_graph()
ORDER_INPUT = {"order_id": "o-1", "customer": "ada", "amount": 25.0, "quantity": 2}


def sleeping_step(name: str, seconds: float, output: Any = None) -> Any:
    @step(name=name, timeout=30)
    async def run(state: dict[str, Any]) -> Any:
        note(name, "start")
        ACTIVE["now"] += 1
        ACTIVE["max"] = max(ACTIVE["max"], ACTIVE["now"])
        try:
            await asyncio.sleep(seconds)
        finally:
            ACTIVE["now"] -= 1
            note(name, "end")
        return output

    return run


def heartbeating_step(name: str, seconds: float, output: Any = None) -> Any:
    """A long step that heartbeats, so a cancellation reaches it within ~0.1 s."""

    @step(name=name, timeout=60, heartbeat_timeout=5)
    async def run(state: dict[str, Any]) -> Any:
        note(name, "start")
        try:
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline:
                heartbeat()
                await asyncio.sleep(0.05)
        finally:
            note(name, "end")
        return output

    return run


@step(retry=RetryPolicy(max_attempts=1))
async def broken(state: dict[str, Any]) -> dict[str, Any]:
    note("broken", "start")
    raise RuntimeError("node exploded")


@step
async def fallback_value(state: dict[str, Any]) -> dict[str, Any]:
    return {"from_fallback": True}


def compensator(name: str) -> Any:
    @step(name=f"undo-{name}")
    async def undo(state: dict[str, Any]) -> None:
        COMPENSATED.append(name)

    return undo


@step
async def decide(state: dict[str, Any]) -> str:
    return "express" if state["amount"] > 100 else "standard"


@step
async def ship_express(state: dict[str, Any]) -> dict[str, Any]:
    return {"shipping": "express"}


@step
async def ship_standard(state: dict[str, Any]) -> dict[str, Any]:
    return {"shipping": "standard"}


@step
async def label_standard(state: dict[str, Any]) -> dict[str, Any]:
    return {"label": "std-label"}


@step
async def finish(state: dict[str, Any]) -> dict[str, Any]:
    return {"done": state["shipping"]}


def routed_graph(name: str = "test-routed-graph") -> Graph:
    g = Graph(name)
    g.add_node("decide", decide)
    g.add_node("express", ship_express)
    g.add_node("standard", ship_standard)
    g.add_node("label", label_standard)
    g.add_node("finish", finish)
    g.add_conditional_edges(
        "decide", lambda s: s["decide"], {"express": "express", "standard": "standard"}
    )
    g.add_edge("standard", "label")
    g.add_edge("express", "finish")
    g.add_edge("label", "finish")
    g.set_entry_point("decide")
    return g


ROUTED_GRAPH = routed_graph()


@step
async def square(n: int) -> int:
    return n * n


@step
async def numbers(state: dict[str, Any]) -> dict[str, Any]:
    return {"numbers": list(range(state["count"]))}


def map_graph(name: str = "test-map-graph") -> Graph:
    g = Graph(name)
    g.add_node("numbers", numbers)
    g.add_map_node("squares", square, items="numbers", max_concurrency=20)
    g.add_edge("numbers", "squares")
    g.set_entry_point("numbers")
    return g


MAP_GRAPH = map_graph()


# heartbeat_timeout bounds how late a cancellation reaches the step: heartbeats carry it.
@step(timeout=60, heartbeat_timeout=1)
async def wait_for_cancel(state: dict[str, Any]) -> dict[str, Any]:
    """Heartbeat until cancelled; `STARTED` and `SAW_CANCEL` tell the test when."""
    workflow_id = temporalio.activity.info().workflow_id or ""
    STARTED[workflow_id].set()
    try:
        while True:
            heartbeat()
            await asyncio.sleep(0.05)
    except asyncio.CancelledError:
        SAW_CANCEL[workflow_id].set()
        raise


@step
async def plan(state: dict[str, Any]) -> dict[str, Any]:
    return {"planned": True}


@step
async def think(state: dict[str, Any]) -> dict[str, Any]:
    return {"thought": True}


def plan_then_think(name: str, think_queue: str) -> Graph:
    """`plan -> think`, `think` on its own task queue (as an LLM step would be)."""
    g = Graph(name, timeout=60)
    g.add_node("plan", plan).add_node("think", think.with_options(task_queue=think_queue))
    g.add_edge("plan", "think")
    return g.set_entry_point(["plan"])
