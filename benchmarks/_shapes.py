"""The shapes the scaling benchmark sweeps: fan-out graphs and long chains, both modes.

Every builder takes `local`, passed to `Graph(..., local=)` / `Chain(..., local=)`.
"""

from __future__ import annotations

from typing import Any

from beluga_temporal import Chain, Graph, Step, step


@step(name="bench_noop")
async def noop(state: dict[str, Any]) -> None:
    """A fan-out node doing no work (no state update)."""
    return None


@step(name="bench_increment")
async def increment(value: int) -> int:
    """A chain step doing no work beyond passing its input on."""
    return value + 1


STEPS: list[Step[Any, Any]] = [noop, increment]


def mode_name(local: bool) -> str:
    return "local" if local else "remote"


def fanout_graph(width: int, *, local: bool) -> Graph:
    """source -> `width` parallel no-op nodes -> sink, all of them in flight at once."""
    graph = Graph(f"bench-fanout-{width}-{mode_name(local)}", max_workers=width, local=local)
    graph.add_node("source", noop)
    graph.add_node("sink", noop)
    for i in range(width):
        graph.add_node(f"n{i}", noop)
        graph.add_edge("source", f"n{i}")
        graph.add_edge(f"n{i}", "sink")
    graph.set_entry_point(["source"])
    graph.set_finish_point(["sink"])
    return graph


def long_chain(length: int, *, local: bool) -> Chain:
    """`length` increment steps one after another; returns its input + `length`."""
    return Chain(
        f"bench-chain-{length}-{mode_name(local)}", steps=[increment] * length, local=local
    )


# The three-step chains the worker-process sweep runs, hosted by `beluga worker` children:
#   beluga worker benchmarks._shapes:three_chain_local -q QUEUE
three_chain = long_chain(3, local=False)
three_chain_local = long_chain(3, local=True)
