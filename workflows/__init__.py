"""Order-processing workflows: the chain, the graph and the hand-written workflow."""

from workflows.order_processing import (
    OrderProcessingWorkflow,
    build_order_graph,
    order_chain,
    order_graph,
)

__all__ = ["OrderProcessingWorkflow", "build_order_graph", "order_chain", "order_graph"]
