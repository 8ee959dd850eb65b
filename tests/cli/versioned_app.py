"""A module keeping an older version of a graph next to the newest, as deploys do.

`beluga worker tests.cli.versioned_app` hosts `orders` (which knows `orders_v1`);
`beluga replay ... --target tests.cli.versioned_app` replays both versions' runs.
"""

from __future__ import annotations

from typing import Any

from beluga_temporal import Graph, step


@step
async def take(order: dict[str, Any]) -> dict[str, Any]:
    return {"taken": True}


@step
async def post(order: dict[str, Any]) -> dict[str, Any]:
    return {"shipped": "post"}


@step
async def courier(order: dict[str, Any]) -> dict[str, Any]:
    return {"shipped": "courier"}


def _declare(shipping: Any, previous: list[Graph] | None = None) -> Graph:
    graph = Graph("versioned-orders", previous=previous or [])
    graph.add_node("take", take).add_node("ship", shipping).add_edge("take", "ship")
    return graph.set_entry_point("take")


orders_v1 = _declare(post)  # runs started before the last deploy may still need it
orders = _declare(courier, previous=[orders_v1])
