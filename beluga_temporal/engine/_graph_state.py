"""Workflow side: the state a graph threads through its nodes.

A node sees the initial state merged with the outputs of its ancestors, in topological
order: for each key, the value written by the latest ancestor that wrote it. Outputs
that are dicts (or models) are updates; anything else is stored under the node's name.
Nodes that may run concurrently and write different values to one key conflict.

Each key keeps a bit set of the positions of the nodes that wrote it, so finding a
key's value for a node, or a conflict, costs one big-integer AND, and a node that
reads a few keys costs little whatever the size of the graph.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pydantic

from beluga_temporal.engine._failures import ROUTING_ERROR, STATE_CONFLICT, NodeFailure
from beluga_temporal.engine._sandbox import RouteRunner
from beluga_temporal.plan import GraphPlan


class GraphStateError(NodeFailure):
    """A state conflict or routing error; it fails the node like a failed step."""


def as_updates(node: str, output: Any) -> dict[str, Any]:
    """Turn a node's output into state updates."""
    if output is None:
        return {}
    if isinstance(output, pydantic.BaseModel):
        return output.model_dump(mode="json")
    if isinstance(output, dict):
        return dict(output)
    return {node: output}


class GraphState:
    """Initial state, node outputs and routing choices of one graph run."""

    def __init__(self, plan: GraphPlan, routes: RouteRunner) -> None:
        self.plan = plan
        self.routes = routes
        self.initial: dict[str, Any] = {}
        self.outputs: dict[str, dict[str, Any]] = {}
        self.chosen: dict[str, str] = {}
        self.completed: list[str] = []
        self._writers: dict[str, int] = {}  # key -> bit set of writer positions

    def restore(
        self,
        initial: dict[str, Any],
        outputs: dict[str, dict[str, Any]],
        chosen: dict[str, str],
        completed: list[str],
    ) -> None:
        """Resume from a snapshot."""
        self.initial, self.chosen, self.completed = initial, dict(chosen), list(completed)
        for node in completed:
            self._store(node, outputs[node])

    def view(self, node: str, keys: Iterable[str] | None = None) -> dict[str, Any]:
        """The state `node` sees (initial state plus its ancestors' outputs).

        Args:
            node: The node whose view it is.
            keys: Only these keys (what the node reads); `None` for the whole state.
        """
        ancestors = self.plan.ancestors[self.plan.positions[node]]
        wanted = self._all_keys() if keys is None else keys
        view: dict[str, Any] = {}
        for key in wanted:
            writers = self._writers.get(key, 0) & ancestors
            if writers:
                writer = self.plan.nodes[writers.bit_length() - 1].name
                view[key] = self.outputs[writer][key]
            elif key in self.initial:
                view[key] = self.initial[key]
        return view

    def after(self, node: str, keys: Iterable[str] | None = None) -> dict[str, Any]:
        """The state right after `node` ran (its view plus its own updates)."""
        own = self.outputs.get(node, {})
        view = self.view(node, keys)
        view.update(own if keys is None else {k: own[k] for k in keys if k in own})
        return view

    def final(self) -> dict[str, Any]:
        """The merged state after every node that succeeded."""
        final: dict[str, Any] = {}
        for key in self._all_keys():
            writers = self._writers.get(key, 0)
            if writers:
                final[key] = self.outputs[self.plan.nodes[writers.bit_length() - 1].name][key]
            else:
                final[key] = self.initial[key]
        return final

    def record(self, node: str, output: Any) -> None:
        """Store a node's output, checking conflicts and evaluating its router."""
        updates = as_updates(node, output)
        self._check_conflicts(node, updates)
        # Route before storing: a node whose route fails has failed, not completed.
        if node in self.plan.routers:
            self.chosen[node] = self._route(node, {**self.view(node), **updates})
        self._store(node, updates)
        self.completed.append(node)

    def edge_taken(self, src: str, dst: str) -> bool:
        """Whether the edge `src -> dst` is active.

        Plain edges of a succeeded node always are; conditional edges only to the
        target its route chose.
        """
        if src not in self.outputs:
            return False
        router = self.plan.routers.get(src)
        if router is None or dst not in router.mapping.values():
            return True
        return self.chosen.get(src) == dst

    def _all_keys(self) -> list[str]:
        # Dict order, never set order: payloads must be identical on every replay.
        return [*self.initial, *(k for k in self._writers if k not in self.initial)]

    def _store(self, node: str, updates: dict[str, Any]) -> None:
        self.outputs[node] = updates
        bit = 1 << self.plan.positions[node]
        for key in updates:
            self._writers[key] = self._writers.get(key, 0) | bit

    def _check_conflicts(self, node: str, updates: dict[str, Any]) -> None:
        position = self.plan.positions[node]
        # Completed nodes that are not ancestors ran concurrently (descendants of
        # `node` cannot have run yet).
        concurrent_mask = ~(self.plan.ancestors[position] | 1 << position)
        for key in updates:
            others = self._writers.get(key, 0) & concurrent_mask
            while others:
                other = self.plan.nodes[others.bit_length() - 1].name
                others &= ~(1 << self.plan.positions[other])
                if self.outputs[other][key] != updates[key]:
                    raise GraphStateError(
                        f"nodes '{other}' and '{node}' may run concurrently and both write "
                        f"state key '{key}' with different values",
                        STATE_CONFLICT,
                    )

    def _route(self, node: str, state: dict[str, Any]) -> str:
        router = self.plan.routers[node]
        try:
            label = self.routes.call(router, state)
        except GraphStateError:
            raise
        except Exception as error:
            raise GraphStateError(
                f"route function of '{node}' raised {type(error).__name__}: {error}",
                ROUTING_ERROR,
            ) from error
        if not isinstance(label, str) or label not in router.mapping:
            raise GraphStateError(
                f"route function of '{node}' returned {label!r}; expected one of "
                f"{sorted(router.mapping)}",
                ROUTING_ERROR,
            )
        return router.mapping[label]
