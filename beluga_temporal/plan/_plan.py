"""The compiled form of chains and graphs: immutable, validated, ready to interpret.

Plans hold only step options (names and Temporal settings), never the step functions,
so the workflow side never touches user code except pure route functions.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any, Literal

from beluga_temporal.plan._options import StepOptions

OnError = Literal["fail_fast", "continue"]
RouteFn = Callable[[dict[str, Any]], str]


@dataclasses.dataclass(frozen=True)
class MemoryPlan:
    """How a chain threads conversation memory (see `beluga_temporal.memory`)."""

    kind: Literal["buffer", "window"]
    """`buffer` keeps every exchange; `window` keeps the last `k`."""
    k: int | None = None
    """Window size for `window` memory."""
    input_key: str = "input"
    """Key of the chain input saved as the human side of an exchange."""
    output_key: str = "output"
    """Key of the chain result saved as the AI side of an exchange."""


HISTORY_KEY = "history"
"""Input key chain memory merges the history under, and LLM steps read it from."""


@dataclasses.dataclass(frozen=True)
class ChainPlan:
    """A validated chain: steps run one after another, each output the next input."""

    name: str
    """The workflow type name (wire format: renaming breaks runs in flight)."""
    steps: tuple[StepOptions, ...]
    """The steps in order, with chain defaults applied."""
    labels: tuple[str, ...]
    """A unique progress label per step (`name`, `name#2` for repeats)."""
    on_error: StepOptions | None = None
    """Handler step called with an `ErrorInfo` after a step exhausted its retries."""
    timeout: timedelta | None = None
    """Bound on the whole run (workflow execution timeout)."""
    memory: MemoryPlan | None = None
    """Conversation memory, when the chain has one."""

    kind: Literal["chain"] = "chain"


@dataclasses.dataclass(frozen=True)
class NodePlan:
    """One graph node: a step, its dependencies and its recovery options."""

    name: str
    step: StepOptions
    deps: tuple[str, ...]
    """Predecessor node names, in declaration order."""
    fallback: StepOptions | None = None
    """Step whose output replaces the node's when the node fails."""
    compensate: StepOptions | None = None
    """Saga compensation run (in reverse completion order) when the graph fails."""
    map_items: str | None = None
    """For map nodes: the state key holding the list to fan out over."""
    map_concurrency: int = 10
    """For map nodes: how many element activities run at once."""


@dataclasses.dataclass(frozen=True)
class RouterPlan:
    """A conditional edge: after `source`, `route(state)` picks one label of `mapping`."""

    source: str
    route: RouteFn
    mapping: Mapping[str, str]
    """Label returned by `route` -> target node."""


@dataclasses.dataclass(frozen=True)
class GraphPlan:
    """A validated graph, its nodes in a deterministic topological order."""

    name: str
    nodes: tuple[NodePlan, ...]
    """Every node, in topological order (ties broken by declaration order)."""
    entry_points: tuple[str, ...]
    finish_points: tuple[str, ...]
    routers: Mapping[str, RouterPlan]
    """Conditional edges by source node."""
    ancestors: Mapping[str, frozenset[str]]
    """Transitive predecessors of every node."""
    max_workers: int = 10
    parallel: bool = True
    on_error: OnError = "fail_fast"
    timeout: timedelta | None = None
    state_model: type[Any] | None = None
    """Pydantic model the initial state is validated against, if any."""

    kind: Literal["graph"] = "graph"

    def node(self, name: str) -> NodePlan:
        """Return the node called `name`."""
        for node in self.nodes:
            if node.name == name:
                return node
        raise KeyError(name)

    def may_run_concurrently(self, a: str, b: str) -> bool:
        """Tell whether neither node is an ancestor of the other."""
        return a != b and a not in self.ancestors[b] and b not in self.ancestors[a]

    @property
    def concurrency(self) -> int:
        """How many nodes may be in flight at once."""
        return self.max_workers if self.parallel else 1


Plan = ChainPlan | GraphPlan
