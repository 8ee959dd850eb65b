"""The compiled, serialisable form of chains and graphs, and its validation."""

from beluga_temporal.plan._plan import (
    ChainPlan,
    GraphPlan,
    MemoryPlan,
    NodePlan,
    OnError,
    Plan,
    RouterPlan,
)

__all__ = ["ChainPlan", "GraphPlan", "MemoryPlan", "NodePlan", "OnError", "Plan", "RouterPlan"]
