"""The compiled, serialisable form of chains and graphs, and its validation."""

from beluga_temporal.plan._options import Duration, to_timedelta
from beluga_temporal.plan._plan import (
    ChainPlan,
    GraphPlan,
    MemoryPlan,
    NodePlan,
    OnError,
    Plan,
    RouterPlan,
)

__all__ = [
    "ChainPlan",
    "Duration",
    "GraphPlan",
    "MemoryPlan",
    "NodePlan",
    "OnError",
    "Plan",
    "RouterPlan",
    "to_timedelta",
]
