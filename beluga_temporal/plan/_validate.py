"""Graph validation: every structural mistake becomes a `DefinitionError` naming nodes.

Everything here is linear in nodes and edges (ancestor sets are bit sets), so a
10,000-node graph compiles in about a second.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping, Sequence

from beluga_temporal.errors import DefinitionError


def check_edges(
    graph: str, names: Sequence[str], edges: Sequence[tuple[str, str]]
) -> dict[str, list[str]]:
    """Check every edge joins known nodes; return predecessors per node."""
    preds: dict[str, list[str]] = {name: [] for name in names}
    seen: set[tuple[str, str]] = set()
    for src, dst in edges:
        unknown = [n for n in (src, dst) if n not in preds]
        if unknown:
            shown = ", ".join(list(names)[:20]) + (" ..." if len(names) > 20 else "")
            raise DefinitionError(
                f"graph '{graph}': edge {src!r} -> {dst!r} refers to unknown node(s) "
                f"{', '.join(map(repr, unknown))}; known nodes: {shown or 'none'}"
            )
        if src == dst:
            raise DefinitionError(f"graph '{graph}': cycle: {src} -> {dst}")
        if (src, dst) not in seen:
            seen.add((src, dst))
            preds[dst].append(src)
    return preds


def successors_of(preds: Mapping[str, Sequence[str]]) -> dict[str, list[str]]:
    """Invert a predecessor map."""
    succs: dict[str, list[str]] = {name: [] for name in preds}
    for name, ps in preds.items():
        for pred in ps:
            succs[pred].append(name)
    return succs


def topological_order(
    graph: str, names: Sequence[str], preds: Mapping[str, Sequence[str]]
) -> list[str]:
    """Order nodes so each comes after its predecessors; ties keep declaration order."""
    index = {name: i for i, name in enumerate(names)}
    remaining = {name: len(preds[name]) for name in names}
    succs = successors_of(preds)
    # A heap keyed by declaration index, not a set: the order must be identical on replay.
    ready = [index[name] for name in names if remaining[name] == 0]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        current = names[heapq.heappop(ready)]
        order.append(current)
        for succ in succs[current]:
            remaining[succ] -= 1
            if remaining[succ] == 0:
                heapq.heappush(ready, index[succ])
    if len(order) != len(names):
        raise DefinitionError(f"graph '{graph}': cycle: {' -> '.join(find_cycle(preds))}")
    return order


def find_cycle(preds: Mapping[str, Sequence[str]]) -> list[str]:
    """Return one cycle as a path that starts and ends on the same node.

    Iterative, so deep graphs do not hit Python's recursion limit.
    """
    succs = successors_of(preds)
    state: dict[str, int] = {}
    for start in preds:
        if start in state:
            continue
        path: list[str] = [start]
        iters = [iter(succs[start])]
        state[start] = 1
        while iters:
            nxt = next(iters[-1], None)
            if nxt is None:
                state[path.pop()] = 2
                iters.pop()
            elif state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            elif nxt not in state:
                state[nxt] = 1
                path.append(nxt)
                iters.append(iter(succs[nxt]))
    return []  # pragma: no cover - only called when a cycle exists


def ancestor_bits(order: Sequence[str], preds: Mapping[str, Sequence[str]]) -> tuple[int, ...]:
    """Return each node's transitive predecessors as a bit set over positions in `order`."""
    position = {name: i for i, name in enumerate(order)}
    bits: list[int] = []
    for name in order:
        found = 0
        for pred in preds[name]:
            found |= bits[position[pred]] | (1 << position[pred])
        bits.append(found)
    return tuple(bits)


def check_entry_and_finish(
    graph: str,
    order: Sequence[str],
    preds: Mapping[str, Sequence[str]],
    entry: Sequence[str],
    finish: Sequence[str],
) -> None:
    """Check entry points exist and are roots, and every node and finish is reachable."""
    if not order:
        raise DefinitionError(f"graph '{graph}' has no nodes")
    if not entry:
        roots = [n for n in order if not preds[n]]
        raise DefinitionError(
            f"graph '{graph}' has no entry point: call set_entry_point([...]) "
            f"(nodes without predecessors: {', '.join(roots[:20])})"
        )
    for label, points in (("entry", entry), ("finish", finish)):
        unknown = [p for p in points if p not in preds]
        if unknown:
            raise DefinitionError(
                f"graph '{graph}': {label} point(s) {', '.join(map(repr, unknown))} are not nodes"
            )
    with_preds = [p for p in entry if preds[p]]
    if with_preds:
        raise DefinitionError(
            f"graph '{graph}': entry point(s) {', '.join(with_preds)} have predecessors "
            f"({', '.join(f'{p} <- {q}' for p in with_preds for q in preds[p])})"
        )
    reachable = set(entry)
    for name in order:
        if any(p in reachable for p in preds[name]):
            reachable.add(name)
    unreachable = [n for n in order if n not in reachable]
    if unreachable:
        raise DefinitionError(
            f"graph '{graph}': node(s) {', '.join(unreachable[:20])} not reachable from any "
            f"entry point ({', '.join(entry)})"
        )
