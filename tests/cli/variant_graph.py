"""Changed versions of the order graph, for `beluga replay` tests.

- `order_graph`: `check_inventory` became `reserve_stock` (another step), declared
  without `previous=`: histories of the original are reported as an unknown plan.
- `edited_route_graph`: the same declaration as the original, but the body of its
  route function was edited (it now picks the other branch). Plans name route
  functions by qualified name, so the fingerprint is unchanged: only replay catches
  it, as a non-determinism at the fulfilment step.
"""

from __future__ import annotations

from typing import Any

from activities import (
    InventoryResult,
    Order,
    decide_expedite,
)
from activities.decisions import EXPEDITE, STANDARD
from beluga_temporal import step
from workflows.order_processing import build_order_graph, route_shipping


@step(name="reserve_stock")
async def reserve_stock(order: Order) -> InventoryResult:
    return InventoryResult(in_stock=True, reservation_id=f"res-{order.order_id}")


def _edited_route(state: dict[str, Any]) -> str:
    """`route_shipping` after someone edited its body: the branches are swapped."""
    return STANDARD if str(state[decide_expedite.name]) == EXPEDITE else EXPEDITE


# Deployed under the same name as the original (as an edit of its body would be).
_edited_route.__module__ = route_shipping.__module__
_edited_route.__qualname__ = route_shipping.__qualname__


order_graph = build_order_graph(inventory=reserve_stock)
edited_route_graph = build_order_graph(route=_edited_route)
