"""Nested chains and graphs shared by the composition tests (module level: histories replay)."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from typing import Any

import pydantic
import temporalio.activity

from beluga_temporal import Chain, Graph, heartbeat, step

UNDONE: dict[str, list[str]] = defaultdict(list)


@step
async def reserve(state: dict[str, Any]) -> dict[str, Any]:
    return {"reserved": f"res-{state['order']}"}


@step
async def charge(state: dict[str, Any]) -> dict[str, Any]:
    return {"charged": state["amount"]}


@step
async def receipt(state: dict[str, Any]) -> dict[str, Any]:
    return {"receipt": f"{state['reserved']}/{state['charged']}"}


@step
async def pack(value: dict[str, Any]) -> dict[str, Any]:
    return {**value, "packed": True}


@step
async def label(value: dict[str, Any]) -> dict[str, Any]:
    return {**value, "label": f"L-{value['order']}"}


@step
async def ship(value: dict[str, Any]) -> dict[str, Any]:
    return {"shipped": value["label"]}


@step
async def boom(state: dict[str, Any]) -> dict[str, Any]:
    raise ValueError(f"card {state['order']} declined")


@step
async def undo_reserve(state: dict[str, Any]) -> None:
    UNDONE[str(state["order"])].append("reserve")


@step
async def undo_charge(state: dict[str, Any]) -> None:
    UNDONE[str(state["order"])].append("charge")


def payment_graph(name: str = "payment-graph") -> Graph:
    """reserve -> charge -> receipt, each undone on failure."""
    g = Graph(name)
    g.add_node("reserve", reserve, compensate=undo_reserve)
    g.add_node("charge", charge, compensate=undo_charge)
    g.add_node("receipt", receipt)
    g.add_edge("reserve", "charge").add_edge("charge", "receipt")
    g.set_entry_point("reserve")
    return g


PAYMENT = payment_graph()
SHIPPING = Chain("shipping-chain", steps=[pack, label, ship])


@step
async def prepare(state: dict[str, Any]) -> dict[str, Any]:
    return {"order": state["order"], "prepared": True}


@step
async def notify(state: dict[str, Any]) -> dict[str, Any]:
    return {"notified": f"{state['receipt']} via {state['shipped']}"}


def order_graph(payment: Graph = PAYMENT, name: str = "nested-order-graph") -> Graph:
    """prepare -> (payment graph | shipping chain) -> notify."""
    g = Graph(name)
    g.add_node("prepare", prepare)
    g.add_node("payment", payment)
    g.add_node("shipping", SHIPPING)
    g.add_node("notify", notify)
    g.add_edge("prepare", "payment").add_edge("prepare", "shipping")
    g.add_edge("payment", "notify").add_edge("shipping", "notify")
    g.set_entry_point("prepare")
    return g


NESTED_ORDER_GRAPH = order_graph()
NESTED_ORDER_INPUT = {"order": "o-1", "amount": 30}
NESTED_ORDER_RESULT = {
    "order": "o-1",
    "amount": 30,
    "prepared": True,
    "reserved": "res-o-1",
    "charged": 30,
    "receipt": "res-o-1/30",
    "shipped": "L-o-1",
    "notified": "res-o-1/30 via L-o-1",
}


class Parcel(pydantic.BaseModel):
    """A nested graph's own state model."""

    order: str
    weight: float = 1.0
    fee: float = 0.0


@step
async def price_parcel(parcel: Parcel) -> dict[str, Any]:
    return {"fee": round(parcel.weight * 2.5, 2)}


PARCEL_GRAPH = Graph("parcel-graph", state=Parcel)
PARCEL_GRAPH.add_node("price", price_parcel)
PARCEL_GRAPH.set_entry_point("price")


@step
async def bump(value: dict[str, Any]) -> dict[str, Any]:
    return {"n": value["n"] + 1}


BUMPS = Chain("bump-twice", steps=[bump, bump])
LONG_CHAIN = Chain("long-nesting-chain", steps=[bump, BUMPS] * 6)
"""Six nested children, enough events to continue as new at the lowest history limit."""

BLOCKED: list[str] = []


@step(timeout=60, heartbeat_timeout=1)
async def block_first_time(value: dict[str, Any]) -> dict[str, Any]:
    """Blocks (heartbeating) on its first call only, so the run times out once."""
    workflow_id = temporalio.activity.info().workflow_id or ""
    BLOCKED.append(workflow_id)
    while len(BLOCKED) == 1:
        heartbeat()
        await asyncio.sleep(0.05)
    return {"done_in": workflow_id}
