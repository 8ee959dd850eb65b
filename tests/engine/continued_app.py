"""Targets for the tests of continued runs seen whole by every caller (module level).

Other processes import them too (`invoke()` scripts, `beluga run`).
"""

from __future__ import annotations

from typing import Any

from beluga_temporal import Chain, Graph, step
from tests.engine import long_runs as lr

chain = Chain("continued-chain", steps=[lr.inc] * 30)


@step
async def tick(state: dict[str, Any]) -> int:
    """Stored under the node's name: the result names every node that ran."""
    return 1


def fan_graph(name: str = "continued-graph", branches: int = 3, length: int = 6) -> Graph:
    """`branches` parallel chains of `length` nodes after `start`, joined by `join`."""
    g = Graph(name, max_workers=branches)
    g.add_node("start", tick, reads=[]).add_node("join", tick, reads=[])
    for b in range(branches):
        previous = "start"
        for i in range(length):
            g.add_node(f"b{b}-{i}", tick, reads=[]).add_edge(previous, f"b{b}-{i}")
            previous = f"b{b}-{i}"
        g.add_edge(previous, "join")
    return g.set_entry_point("start")


graph = fan_graph()
NODES = ["start", "join", *(f"b{b}-{i}" for b in range(3) for i in range(6))]
