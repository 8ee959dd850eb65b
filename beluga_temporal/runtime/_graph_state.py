"""Workflow side: the state a graph threads through its nodes.

A node sees the initial state merged with the outputs of its ancestors, in topological
order. Node outputs that are dicts (or models) are updates; anything else is stored under
the node's name. Concurrent nodes that write different values to one key conflict.
"""

from __future__ import annotations

from typing import Any

import pydantic

from beluga_temporal.plan import GraphPlan
from beluga_temporal.runtime._failures import ROUTING_ERROR, STATE_CONFLICT, invalid_input


class GraphStateError(Exception):
    """A state conflict or routing error; it fails the graph like a failed node."""

    def __init__(self, message: str, error_type: str) -> None:
        super().__init__(message)
        self.error_type = error_type


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

    def __init__(self, plan: GraphPlan) -> None:
        self.plan = plan
        self.initial: dict[str, Any] = {}
        self.outputs: dict[str, dict[str, Any]] = {}
        self.completed: list[str] = []
        self._order = {node.name: index for index, node in enumerate(plan.nodes)}
        self._chosen: dict[str, str] = {}
        self._inputs: dict[str, dict[str, Any]] = {}

    def start(self, initial: Any) -> None:
        """Validate and store the run's input as the initial state."""
        model = self.plan.state_model
        if model is not None:
            try:
                initial = pydantic.TypeAdapter(model).validate_python(initial)
            except pydantic.ValidationError as error:
                raise invalid_input(self.plan.name, str(error)) from None
            initial = pydantic.TypeAdapter(model).dump_python(initial, mode="json")
        if initial is None:
            initial = {}
        if not isinstance(initial, dict):
            raise invalid_input(
                self.plan.name, f"a graph's input must be an object, got {type(initial).__name__}"
            )
        self.initial = initial

    def _merge(self, nodes: list[str]) -> dict[str, Any]:
        merged = dict(self.initial)
        for name in sorted(nodes, key=self._order.__getitem__):
            merged.update(self.outputs[name])
        return merged

    def input_for(self, node: str) -> dict[str, Any]:
        """The state `node` receives: initial state plus its ancestors' outputs."""
        return self._merge([n for n in self.plan.ancestors[node] if n in self.outputs])

    def after(self, node: str) -> dict[str, Any]:
        """The state right after `node` ran (its input plus its own updates)."""
        return {**self._inputs.get(node, {}), **self.outputs.get(node, {})}

    def final(self) -> dict[str, Any]:
        """The merged state after every node that succeeded."""
        return self._merge(list(self.outputs))

    def record(self, node: str, node_input: dict[str, Any], output: Any) -> None:
        """Store a node's output, checking conflicts and evaluating its router."""
        updates = as_updates(node, output)
        self._check_conflicts(node, updates)
        # Route before storing: a node whose route fails has failed, not completed.
        if node in self.plan.routers:
            self._chosen[node] = self._route(node, {**node_input, **updates})
        self.outputs[node] = updates
        self._inputs[node] = node_input
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
        return self._chosen.get(src) == dst

    def _check_conflicts(self, node: str, updates: dict[str, Any]) -> None:
        for other in self.completed:
            if not self.plan.may_run_concurrently(node, other):
                continue
            for key in sorted(updates.keys() & self.outputs[other].keys()):
                if updates[key] != self.outputs[other][key]:
                    raise GraphStateError(
                        f"nodes '{other}' and '{node}' may run concurrently and both write "
                        f"state key '{key}' with different values",
                        STATE_CONFLICT,
                    )

    def _route(self, node: str, state: dict[str, Any]) -> str:
        router = self.plan.routers[node]
        try:
            label = router.route(state)
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
