"""Compiling a graph costs time and memory linear in its nodes and edges (issue 11.6).

Ancestor sets kept as sets of names grow with the square of a chain's length (50
million entries for one 10,000-node chain); the bounds below fail such a compiler.
"""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Callable
from typing import Any

from beluga_temporal import Graph, step
from beluga_temporal.plan import GraphPlan

CPU_SECONDS = 5.0
"""Generous: about 0.5 s of CPU on this machine. CPU time, not wall time: other
processes on a loaded machine do not count."""
PEAK_BYTES = 100 * 1024 * 1024


@step
async def touch(state: dict[str, Any]) -> dict[str, Any]:
    return {}


def compiled(declare: Callable[[], Graph]) -> GraphPlan:
    """Compile a fresh declaration twice: once timed, once with its memory traced."""
    g = declare()
    started = time.process_time()
    plan = g.compile()
    elapsed = time.process_time() - started
    assert elapsed < CPU_SECONDS, f"compiling took {elapsed:.1f} s of CPU"
    g = declare()  # compile() caches its plan
    tracemalloc.start()
    try:
        g.compile()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < PEAK_BYTES, f"compiling took {peak / 1e6:.0f} MB"
    return plan


def linear(n: int) -> Graph:
    g = Graph("linear")
    for i in range(n):
        g.add_node(f"n{i}", touch)
        if i:
            g.add_edge(f"n{i - 1}", f"n{i}")
    g.set_entry_point("n0")
    return g


def test_one_ten_thousand_node_chain_of_graph_nodes_compiles_in_linear_cost() -> None:
    plan = compiled(lambda: linear(10_000))
    assert len(plan.nodes) == 10_000
    assert plan.is_ancestor("n0", "n9999")
    assert plan.is_ancestor("n4999", "n5000")
    assert not plan.is_ancestor("n9999", "n0")
    assert plan.finish_points == ("n9999",)


def wide_fan_in(width: int, layers: int) -> Graph:
    """`layers` layers of `width` nodes, each after every node of the layer before,
    then one node after all of them."""
    g = Graph("wide-fan-in")
    for layer in range(layers):
        for i in range(width):
            g.add_node(f"l{layer}-{i}", touch)
            for j in range(width if layer else 0):
                g.add_edge(f"l{layer - 1}-{j}", f"l{layer}-{i}")
    g.add_node("sink", touch)
    for layer in range(layers):
        for i in range(width):
            g.add_edge(f"l{layer}-{i}", "sink")
    g.set_entry_point([f"l0-{i}" for i in range(width)])
    return g


def test_a_three_thousand_node_graph_with_wide_fan_in_compiles_in_linear_cost() -> None:
    plan = compiled(lambda: wide_fan_in(20, 150))  # 3,001 nodes, 59,600 edges
    assert len(plan.nodes) == 3_001
    assert len(plan.node("sink").deps) == 3_000
    assert plan.is_ancestor("l0-0", "l149-19")
    assert plan.may_run_concurrently("l75-3", "l75-4")
