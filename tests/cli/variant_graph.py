"""A changed order graph: `check_inventory` became `reserve_stock` (a different step).

Histories recorded with `workflows.order_processing:order_graph` must fail to replay
against it, naming where they diverge.
"""

from __future__ import annotations

from activities import (
    InventoryResult,
    Order,
    check_credit,
    decide_expedite,
    fulfill_express,
    fulfill_order,
    notify_customer,
    process_payment,
    validate_order,
)
from beluga_temporal import Graph, step
from workflows.order_processing import route_shipping


@step(name="reserve_stock")
async def reserve_stock(order: Order) -> InventoryResult:
    return InventoryResult(in_stock=True, reservation_id=f"res-{order.order_id}")


order_graph = Graph("order-processing", state=Order)
order_graph.add_node("validate", validate_order)
order_graph.add_node("reserve_stock", reserve_stock)
order_graph.add_node("check_credit", check_credit)
order_graph.add_node("process_payment", process_payment)
order_graph.add_node("decide_expedite", decide_expedite)
order_graph.add_node("fulfill", fulfill_order)
order_graph.add_node("fulfill_express", fulfill_express)
order_graph.add_node("notify", notify_customer)
order_graph.add_edge("validate", "reserve_stock")
order_graph.add_edge("validate", "check_credit")
order_graph.add_edge("reserve_stock", "process_payment")
order_graph.add_edge("check_credit", "process_payment")
order_graph.add_edge("process_payment", "decide_expedite")
order_graph.add_conditional_edges(
    "decide_expedite", route_shipping, {"expedite": "fulfill_express", "standard": "fulfill"}
)
order_graph.add_edge("fulfill", "notify")
order_graph.add_edge("fulfill_express", "notify")
order_graph.set_entry_point("validate")
order_graph.set_finish_point("notify")
