"""Workflow side: how data moves between nodes, the part chains and graphs do not share.

A chain passes each step's output to the next step; a graph merges outputs into a state
that each node sees through its ancestors. The scheduler in `_core` drives either.
"""

from __future__ import annotations

import abc
from typing import Any

from beluga_temporal.engine._failures import invalid_input
from beluga_temporal.engine._graph_state import GraphState, GraphStateError
from beluga_temporal.engine._sandbox import RouteRunner
from beluga_temporal.engine._snapshot import Snapshot
from beluga_temporal.plan import GraphPlan, NodePlan


class Flow(abc.ABC):
    """The data flow of one run."""

    completed: list[str]
    """Nodes that succeeded, in completion order."""

    @abc.abstractmethod
    def start(self, run_input: Any) -> None:
        """Take the run's input."""

    @abc.abstractmethod
    def input_for(self, node: NodePlan, keys: tuple[str, ...] | None) -> Any:
        """What `node` (or its fallback/compensation, reading `keys`) receives."""

    @abc.abstractmethod
    def input_is_new(self, node: NodePlan) -> bool:
        """Whether `node`'s input was built in the workflow (so it needs a size check)."""

    @abc.abstractmethod
    def record(self, node: str, output: Any) -> None:
        """Store the output of a node that succeeded."""

    @abc.abstractmethod
    def edge_taken(self, src: str, dst: str) -> bool:
        """Whether finishing `src` lets `dst` run."""

    @abc.abstractmethod
    def after(self, node: str, keys: tuple[str, ...] | None) -> Any:
        """The data right after `node` ran (what its compensation receives)."""

    @abc.abstractmethod
    def result(self) -> Any:
        """The run's result."""

    @abc.abstractmethod
    def save(self, snapshot: Snapshot) -> None:
        """Write the flow's data into a continue-as-new snapshot."""

    @abc.abstractmethod
    def restore(self, snapshot: Snapshot) -> None:
        """Resume from a snapshot."""

    def choice(self, node: str) -> str | None:
        """The target a routing node chose, if any."""
        return None


class ChainFlow(Flow):
    """Each step's output is the next step's input; the last output is the result."""

    def __init__(self, *, new_input: bool = False) -> None:
        self.value: Any = None
        self.completed = []
        # A session turn's first input is built in the workflow (memory merged in).
        self._new_input = new_input

    def start(self, run_input: Any) -> None:
        self.value = run_input

    def input_for(self, node: NodePlan, keys: tuple[str, ...] | None) -> Any:
        return self.value

    def input_is_new(self, node: NodePlan) -> bool:
        return self._new_input and not self.completed

    def record(self, node: str, output: Any) -> None:
        self.value = output
        self.completed.append(node)

    def edge_taken(self, src: str, dst: str) -> bool:
        return True

    def after(self, node: str, keys: tuple[str, ...] | None) -> Any:
        return self.value

    def result(self) -> Any:
        return self.value

    def save(self, snapshot: Snapshot) -> None:
        snapshot.value = self.value
        snapshot.completed = list(self.completed)

    def restore(self, snapshot: Snapshot) -> None:
        self.value = snapshot.value
        self.completed = list(snapshot.completed)


class GraphFlow(Flow):
    """Nodes read a state merged from the initial state and their ancestors' outputs."""

    def __init__(self, plan: GraphPlan) -> None:
        self.plan = plan
        self.state = GraphState(plan, RouteRunner(GraphStateError))
        self.completed = self.state.completed

    def start(self, run_input: Any) -> None:
        if run_input is None:
            run_input = {}
        if not isinstance(run_input, dict):
            raise invalid_input(
                self.plan.name, f"a graph's input must be an object, got {type(run_input).__name__}"
            )
        self.state.initial = run_input

    def input_for(self, node: NodePlan, keys: tuple[str, ...] | None) -> Any:
        return self.state.view(node.name, keys)

    def input_is_new(self, node: NodePlan) -> bool:
        return True

    def record(self, node: str, output: Any) -> None:
        self.state.record(node, output)

    def edge_taken(self, src: str, dst: str) -> bool:
        return self.state.edge_taken(src, dst)

    def after(self, node: str, keys: tuple[str, ...] | None) -> Any:
        return self.state.after(node, keys)

    def result(self) -> Any:
        return self.state.final()

    def choice(self, node: str) -> str | None:
        return self.state.chosen.get(node)

    def save(self, snapshot: Snapshot) -> None:
        state = self.state
        snapshot.initial = state.initial
        snapshot.outputs = {node: state.outputs[node] for node in state.completed}
        snapshot.chosen = dict(state.chosen)
        snapshot.completed = list(state.completed)

    def restore(self, snapshot: Snapshot) -> None:
        self.state.restore(snapshot.initial, snapshot.outputs, snapshot.chosen, snapshot.completed)
        self.completed = self.state.completed
