"""The compiled form of chains and graphs: immutable, validated, ready to interpret.

Plans hold step options (names and Temporal settings), never step functions: the
workflow side touches user code only through route functions, which it runs under the
workflow sandbox's restrictions.
"""

from __future__ import annotations

import dataclasses
import functools
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


def qualified_name(obj: Any) -> str:
    """`module:qualname` of a function or class (how plans name user code)."""
    module = getattr(obj, "__module__", None) or "?"
    name = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", None) or repr(obj)
    return f"{module}:{name}"


@dataclasses.dataclass(frozen=True)
class NodePlan:
    """One chain step or graph node: what it runs, what it waits for, how it recovers."""

    name: str
    """The node name (chains: the step name, `name#2` for a repeat)."""
    step: StepOptions | None = None
    """The step the node runs as an activity (`None` for a child workflow)."""
    child: Plan | None = None
    """A nested chain or graph the node runs as a child workflow."""
    deps: tuple[str, ...] = ()
    """Predecessor node names, in declaration order."""
    fallback: StepOptions | None = None
    """Step whose output replaces the node's when the node fails."""
    compensate: StepOptions | None = None
    """Saga compensation run (in reverse completion order) when the run fails."""
    map_items: str | None = None
    """For map nodes: the state key holding the list to fan out over."""
    map_concurrency: int = 10
    """For map nodes: how many element activities run at once."""
    map_batch: int | None = None
    """For map nodes: run items in child workflows of this many items each."""
    reads: tuple[str, ...] | None = None
    """State keys the node's step receives; `None` means the whole state."""
    fallback_reads: tuple[str, ...] | None = None
    """State keys the fallback step receives."""
    compensate_reads: tuple[str, ...] | None = None
    """State keys the compensation step receives."""

    @property
    def runs(self) -> str:
        """What the node runs: its activity type, or its child workflow type."""
        if self.child is not None:
            return self.child.name
        assert self.step is not None
        return self.step.name


@dataclasses.dataclass(frozen=True)
class RouterPlan:
    """A conditional edge: after `source`, `route(state)` picks one label of `mapping`."""

    source: str
    route: RouteFn
    mapping: Mapping[str, str]
    """Label returned by `route` -> target node."""


@dataclasses.dataclass(frozen=True)
class ChainPlan:
    """A validated chain: steps run one after another, each output the next input."""

    name: str
    """The workflow type name (wire format: renaming breaks runs in flight)."""
    nodes: tuple[NodePlan, ...]
    """The steps in order; each depends on the one before."""
    on_error: StepOptions | None = None
    """Handler step called with an `ErrorInfo` after a step exhausted its retries."""
    timeout: timedelta | None = None
    """Bound on the whole run (workflow execution timeout)."""
    memory: MemoryPlan | None = None
    """Conversation memory, when the chain has one."""
    retries: int | None = None
    """Default attempts for steps without a retry policy (`None`: from settings)."""
    retry_delay: timedelta | None = None
    """Default initial backoff for those steps (`None`: from settings)."""
    local: bool = False
    """Run steps without their own task queue as local activities."""

    kind: Literal["chain"] = "chain"

    @functools.cached_property
    def positions(self) -> Mapping[str, int]:
        """Index of each node in `nodes`."""
        return {node.name: index for index, node in enumerate(self.nodes)}

    @functools.cached_property
    def successors(self) -> Mapping[str, tuple[str, ...]]:
        """The step after each step."""
        names = [node.name for node in self.nodes]
        return {name: tuple(names[i + 1 : i + 2]) for i, name in enumerate(names)}

    def node(self, name: str) -> NodePlan:
        """Return the node called `name`."""
        return self.nodes[self.positions[name]]

    @property
    def finish_points(self) -> tuple[str, ...]:
        """The last step decides a chain's outcome."""
        return (self.nodes[-1].name,)

    @property
    def concurrency(self) -> int:
        """Steps in flight at once: one."""
        return 1


@dataclasses.dataclass(frozen=True)
class GraphPlan:
    """A validated graph, its nodes in a deterministic topological order."""

    name: str
    nodes: tuple[NodePlan, ...]
    """Every node, in topological order (ties broken by declaration order)."""
    entry_points: tuple[str, ...]
    finish_points: tuple[str, ...]
    """Nodes that decide the outcome (declared, else every node without successors)."""
    routers: Mapping[str, RouterPlan]
    """Conditional edges by source node."""
    ancestors: tuple[int, ...]
    """Transitive predecessors of each node (by position in `nodes`), as bit sets."""
    max_workers: int | None = None
    """Most nodes in flight (`None`: from settings when the run starts)."""
    parallel: bool | None = None
    """`False` runs one node at a time (`None`: from settings when the run starts)."""
    on_error: OnError = "fail_fast"
    timeout: timedelta | None = None
    state_model: type[Any] | None = None
    """Pydantic model the initial state is validated against, if any."""
    local: bool = False
    """Run steps without their own task queue as local activities."""

    kind: Literal["graph"] = "graph"

    @functools.cached_property
    def positions(self) -> Mapping[str, int]:
        """Index of each node in `nodes` (its topological position)."""
        return {node.name: index for index, node in enumerate(self.nodes)}

    @functools.cached_property
    def successors(self) -> Mapping[str, tuple[str, ...]]:
        """Direct successors of each node, in topological order."""
        found: dict[str, list[str]] = {node.name: [] for node in self.nodes}
        for node in self.nodes:
            for dep in node.deps:
                found[dep].append(node.name)
        return {name: tuple(succs) for name, succs in found.items()}

    def node(self, name: str) -> NodePlan:
        """Return the node called `name`."""
        return self.nodes[self.positions[name]]

    def is_ancestor(self, ancestor: str, node: str) -> bool:
        """Tell whether `ancestor` must finish before `node` can start."""
        return bool(self.ancestors[self.positions[node]] >> self.positions[ancestor] & 1)

    def may_run_concurrently(self, a: str, b: str) -> bool:
        """Tell whether neither node is an ancestor of the other."""
        return a != b and not self.is_ancestor(a, b) and not self.is_ancestor(b, a)


Plan = ChainPlan | GraphPlan
