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
    check_credit,
    check_inventory,
    decide_expedite,
    fulfill_express,
    fulfill_order,
    notify_customer,
    process_payment,
    validate_order,
)
from activities.decisions import EXPEDITE, STANDARD
from beluga_temporal import Graph, Step, step
from workflows.order_processing import route_shipping


@step(name="reserve_stock")
async def reserve_stock(order: Order) -> InventoryResult:
    return InventoryResult(in_stock=True, reservation_id=f"res-{order.order_id}")


def _edited_route(state: dict[str, Any]) -> str:
    """`route_shipping` after someone edited its body: the branches are swapped."""
    return STANDARD if str(state[decide_expedite.name]) == EXPEDITE else EXPEDITE


# Deployed under the same name as the original (as an edit of its body would be).
_edited_route.__module__ = route_shipping.__module__
_edited_route.__qualname__ = route_shipping.__qualname__


def _declare(inventory: Step[Any, Any], route: Any) -> Graph:
    graph = Graph("order-processing", max_workers=5, parallel=True, timeout=600, state=Order)
    graph.add_node("validate", validate_order)
    graph.add_node(inventory.name, inventory)
    graph.add_node("check_credit", check_credit)
    graph.add_node("process_payment", process_payment)
    graph.add_node(decide_expedite.name, decide_expedite)
    graph.add_node("fulfill", fulfill_order)
    graph.add_node("fulfill_express", fulfill_express)
    graph.add_node("notify", notify_customer)
    graph.add_edge("validate", inventory.name)
    graph.add_edge("validate", "check_credit")
    graph.add_edge(inventory.name, "process_payment")
    graph.add_edge("check_credit", "process_payment")
    graph.add_edge("process_payment", decide_expedite.name)
    graph.add_conditional_edges(
        decide_expedite.name, route, {EXPEDITE: "fulfill_express", STANDARD: "fulfill"}
    )
    graph.add_edge("fulfill", "notify")
    graph.add_edge("fulfill_express", "notify")
    graph.set_entry_point(["validate"])
    graph.set_finish_point(["notify"])
    return graph


order_graph = _declare(reserve_stock, route_shipping)
edited_route_graph = _declare(check_inventory, _edited_route)
