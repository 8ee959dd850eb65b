"""The shapes the scaling benchmark sweeps: fan-out graphs and long chains, both modes.

Every builder takes `local`. Per-step `local=True` is what the library offers today;
once `Graph(..., local=True)` / `Chain(..., local=True)` exist, `_mode_options` is the one
place to change (it then returns the graph-level option instead of the per-step one).
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


def _mode_options(local: bool) -> tuple[dict[str, Any], dict[str, Any]]:
    """(target options, per-step options) for remote or local mode.

    Switch to the target-level option with: `return ({"local": True} if local else {}), {}`
    """
    return {}, ({"local": True} if local else {})


def mode_name(local: bool) -> str:
    return "local" if local else "remote"


def fanout_graph(width: int, *, local: bool) -> Graph:
    """source -> `width` parallel no-op nodes -> sink, all of them in flight at once."""
    graph_options, node_options = _mode_options(local)
    graph = Graph(
        f"bench-fanout-{width}-{mode_name(local)}",
        max_workers=max(width, 1),
        **graph_options,
    )
    graph.add_node("source", noop, **node_options)
    graph.add_node("sink", noop, **node_options)
    for i in range(width):
        graph.add_node(f"n{i}", noop, **node_options)
        graph.add_edge("source", f"n{i}")
        graph.add_edge(f"n{i}", "sink")
    graph.set_entry_point(["source"])
    graph.set_finish_point(["sink"])
    return graph


def long_chain(length: int, *, local: bool) -> Chain:
    """`length` increment steps one after another; returns its input + `length`."""
    chain_options, step_options = _mode_options(local)
    chain_step = increment.with_options(**step_options) if step_options else increment
    return Chain(
        f"bench-chain-{length}-{mode_name(local)}", steps=[chain_step] * length, **chain_options
    )


# The three-step chains the worker-process sweep runs, hosted by `beluga worker` children:
#   beluga worker benchmarks._shapes:three_chain_local -q QUEUE
three_chain = long_chain(3, local=False)
three_chain_local = long_chain(3, local=True)
