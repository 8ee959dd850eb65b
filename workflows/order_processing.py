"""The order-processing system of the seed documents, in its three patterns.

- `order_chain` (workflow type `order-chain`): validate → pay → fulfil → notify, each
  output the next step's input.
- `order_graph` (workflow type `order-processing`): validate, then inventory ∥ credit,
  then payment, the LLM expedite decision routing to standard or express fulfilment,
  then notification.
- `OrderProcessingWorkflow`: the seed's hand-written durable workflow: inventory, LLM
  decision, payment, fulfilment.

Workflow type names are wire format: renaming one breaks runs in flight.
`beluga worker workflows.order_processing` hosts all three and their steps.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

# Passed through the sandbox: the steps and models are the worker's own objects, and
# re-importing them for every workflow run would be slow.
with workflow.unsafe.imports_passed_through():
    from activities import (
        Order,
        OrderResult,
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
    from beluga_temporal import Chain, Graph, Step

ORDER_GRAPH = "order-processing"
ORDER_CHAIN = "order-chain"

order_chain = Chain(
    ORDER_CHAIN,
    steps=[validate_order, process_payment, fulfill_order, notify_customer],
    timeout=300,
    retries=3,
)


def route_shipping(state: dict[str, Any]) -> str:
    """Pick the fulfilment branch from the LLM decision stored in state (pure)."""
    return str(state[decide_expedite.name])


def build_order_graph(
    name: str = ORDER_GRAPH,
    *,
    inventory: Step[Any, Any] = check_inventory,
    route: Callable[[dict[str, Any]], str] = route_shipping,
) -> Graph:
    """Declare the order graph (a function, so tests can derive variants of it).

    Args:
        name: The workflow type name (default `order-processing`).
        inventory: The inventory step; its node is named after it (default
            `check_inventory`).
        route: Picks the fulfilment branch from the state (default `route_shipping`).
    """
    graph = Graph(name, max_workers=5, parallel=True, timeout=600, state=Order)
    graph.add_node("validate", validate_order)
    graph.add_node(inventory.name, inventory)
    graph.add_node("check_credit", check_credit)
    graph.add_node("process_payment", process_payment)
    graph.add_node(decide_expedite.name, decide_expedite)
    graph.add_node("fulfill", fulfill_order)
    graph.add_node("fulfill_express", fulfill_express)
    graph.add_node("notify", notify_customer)
    graph.add_edge("validate", inventory.name)
    graph.add_edge("validate", "check_credit")  # runs in parallel with the inventory check
    graph.add_edge(inventory.name, "process_payment")
    graph.add_edge("check_credit", "process_payment")
    graph.add_edge("process_payment", decide_expedite.name)
    graph.add_conditional_edges(
        decide_expedite.name,
        route,
        {EXPEDITE: "fulfill_express", STANDARD: "fulfill"},
    )
    graph.add_edge("fulfill", "notify")
    graph.add_edge("fulfill_express", "notify")
    graph.set_entry_point(["validate"])
    graph.set_finish_point(["notify"])
    return graph


order_graph = build_order_graph()


def _failed_with(error: ActivityError, error_type: str) -> bool:
    cause = error.cause
    return isinstance(cause, ApplicationError) and cause.type == error_type


@workflow.defn(name="OrderProcessingWorkflow")
class OrderProcessingWorkflow:
    """The seed's durable workflow: inventory, LLM decision, payment, fulfilment."""

    @workflow.run
    async def run(self, order: Order) -> OrderResult:
        """Process one order; an out-of-stock order ends with status `out_of_stock`."""
        try:
            await check_inventory.execute(order)
        except ActivityError as error:
            if _failed_with(error, "OutOfStock"):
                return OrderResult(order_id=order.order_id, status="out_of_stock")
            raise
        decision = await decide_expedite.execute(order)
        paid = await process_payment.execute(order, timeout=timedelta(seconds=60))
        fulfil = fulfill_express if decision == EXPEDITE else fulfill_order
        fulfilled = await fulfil.execute(paid)
        return await notify_customer.execute(fulfilled)
