"""Graph validation: every structural mistake becomes a `DefinitionError` naming nodes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from beluga_temporal.errors import DefinitionError


def check_edges(
    graph: str, names: Sequence[str], edges: Sequence[tuple[str, str]]
) -> dict[str, list[str]]:
    """Check every edge joins known nodes; return predecessors per node."""
    known = set(names)
    preds: dict[str, list[str]] = {name: [] for name in names}
    for src, dst in edges:
        unknown = [n for n in (src, dst) if n not in known]
        if unknown:
            raise DefinitionError(
                f"graph '{graph}': edge {src!r} -> {dst!r} refers to unknown node(s) "
                f"{', '.join(map(repr, unknown))}; known nodes: {', '.join(names) or 'none'}"
            )
        if src == dst:
            raise DefinitionError(f"graph '{graph}': cycle: {src} -> {dst}")
        if src not in preds[dst]:
            preds[dst].append(src)
    return preds


def topological_order(
    graph: str, names: Sequence[str], preds: Mapping[str, Sequence[str]]
) -> list[str]:
    """Order nodes so each comes after its predecessors; ties keep declaration order."""
    remaining = {name: len(preds[name]) for name in names}
    succs: dict[str, list[str]] = {name: [] for name in names}
    for name in names:
        for pred in preds[name]:
            succs[pred].append(name)
    order: list[str] = []
    ready = [name for name in names if remaining[name] == 0]
    while ready:
        # Declaration order, not set order: the schedule must be identical on replay.
        ready.sort(key=names.index)
        current = ready.pop(0)
        order.append(current)
        for succ in succs[current]:
            remaining[succ] -= 1
            if remaining[succ] == 0:
                ready.append(succ)
    if len(order) != len(names):
        raise DefinitionError(f"graph '{graph}': cycle: {' -> '.join(find_cycle(preds))}")
    return order


def find_cycle(preds: Mapping[str, Sequence[str]]) -> list[str]:
    """Return one cycle as a path that starts and ends on the same node."""
    succs: dict[str, list[str]] = {name: [] for name in preds}
    for name, ps in preds.items():
        for pred in ps:
            succs[pred].append(name)
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in succs[node]:
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for start in preds:
        if start not in state and (cycle := visit(start)):
            return cycle
    return []  # pragma: no cover - only called when a cycle exists


def ancestors_of(
    order: Sequence[str], preds: Mapping[str, Sequence[str]]
) -> dict[str, frozenset[str]]:
    """Return the transitive predecessors of every node."""
    result: dict[str, frozenset[str]] = {}
    for name in order:
        found: set[str] = set()
        for pred in preds[name]:
            found.add(pred)
            found |= result[pred]
        result[name] = frozenset(found)
    return result


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
            f"(nodes without predecessors: {', '.join(roots)})"
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
            f"graph '{graph}': node(s) {', '.join(unreachable)} not reachable from any entry "
            f"point ({', '.join(entry)})"
        )
