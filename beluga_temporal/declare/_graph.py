"""`Graph`: a DAG of steps with dependencies, parallel branches and routing."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from beluga_temporal.declare._graph_compile import DeclaredNode, compile_graph
from beluga_temporal.declare._step import Step, step
from beluga_temporal.declare._target import Runnable, Target, as_runnable, as_step
from beluga_temporal.engine import WorkflowTarget
from beluga_temporal.errors import DefinitionError
from beluga_temporal.plan import (
    Duration,
    GraphPlan,
    OnError,
    StepDefinition,
    positive,
    to_timedelta,
)

NodeRef = str | Step[Any, Any]
"""A node, by name or by the step it runs (a typo in a step reference is a NameError)."""


class Graph(Target):
    """A DAG workflow generated from nodes and edges.

    Example:
        ```python
        g = Graph("order-processing", max_workers=5)
        g.add_node("validate", validate_order)
        g.add_node("check_inventory", check_inventory)
        g.add_edge("validate", "check_inventory")
        g.set_entry_point(["validate"])
        result = await g.invoke({"order_id": "o-1"})
        ```
    """

    def __init__(
        self,
        name: str,
        *,
        max_workers: int | None = None,
        parallel: bool | None = None,
        timeout: Duration | None = None,
        state: type[Any] | None = None,
        on_error: OnError = "fail_fast",
        local: bool = False,
        previous: Sequence[Graph] = (),
    ) -> None:
        """Declare a graph.

        Args:
            name: The workflow type name (wire format: renaming breaks runs in flight).
            max_workers: Most nodes in flight at once (default: settings, fixed when
                each run starts).
            parallel: `False` runs one node at a time in topological order (default:
                settings, fixed when each run starts).
            timeout: Bound on the whole run (default: settings, else none).
            state: A pydantic model the initial state is validated against (when a run
                starts, outside the workflow).
            on_error: `"fail_fast"` cancels running branches when a node fails (and
                waits for them to settle); `"continue"` lets independent branches
                finish, and the finish points decide the outcome.
            local: Run steps without their own task queue as local activities (fewer
                round trips; best for steps under about 10 s).
            previous: Older versions of this graph whose runs may still be in flight;
                workers run each run on the version it started with.
        """
        super().__init__(name, previous)
        if max_workers is not None and max_workers < 1:
            raise DefinitionError(f"graph '{name}': max_workers must be >= 1, got {max_workers}")
        if on_error not in ("fail_fast", "continue"):
            raise DefinitionError(
                f"graph '{name}': on_error must be 'fail_fast' or 'continue', got {on_error!r}"
            )
        self.max_workers = max_workers
        self.parallel = parallel
        self.timeout = positive(to_timedelta(timeout, "timeout"), f"graph '{name}': timeout")
        self.state = state
        self.on_error: OnError = on_error
        self.local = local
        self._nodes: dict[str, DeclaredNode] = {}
        self._edges: list[tuple[str, str]] = []
        self._routers: dict[str, tuple[Callable[[dict[str, Any]], str], dict[str, str]]] = {}
        self._entry: list[str] = []
        self._finish: list[str] = []

    # -- declaring ---------------------------------------------------------------------

    def add_node(
        self,
        name: str,
        step: Runnable,
        *,
        fallback: Step[Any, Any] | None = None,
        compensate: Step[Any, Any] | None = None,
        reads: Sequence[str] | None = None,
        **step_overrides: Any,
    ) -> Graph:
        """Add a node running `step` (or a nested `Chain`/`Graph`, as a child workflow).

        Args:
            name: The node name (unique in the graph).
            step: The `@step` the node runs, or a chain or graph to run as a child
                workflow; its output is merged into the state like a step's.
            fallback: A step whose output replaces the node's if the node fails.
            compensate: A step run (saga) if the graph fails after this node completed.
            reads: The state keys the node receives. Default: a step whose input is a
                pydantic model receives that model's fields; any other node receives
                the whole state.
            **step_overrides: Step options for this node only (`timeout`, `retry`, ...).
        """
        node = self._add(name, step, fallback, compensate, step_overrides)
        if reads is not None:
            if isinstance(reads, str) or not all(isinstance(key, str) for key in reads):
                raise DefinitionError(f"graph '{self.name}': reads of '{name}' must be keys")
            node.reads = tuple(reads)
        return self

    def add_map_node(
        self,
        name: str,
        step: Step[Any, Any],
        *,
        items: str,
        max_concurrency: int = 10,
        batch_size: int | None = None,
        **step_overrides: Any,
    ) -> Graph:
        """Add a node running `step` once per element of the list in `state[items]`.

        The results, in input order, are stored in `state[name]`. At most
        `max_concurrency` element activities run at once. Lists of any length work:
        a long map continues the run as new with its partial results.

        Args:
            name: The node name.
            step: The step run on each item.
            items: The state key holding the list.
            max_concurrency: Most items in flight at once.
            batch_size: Run the items in child workflows of this many items each
                (`beluga.map-batch`), several at once: more throughput for long lists,
                one short history per batch. Default: all in this run.
            **step_overrides: Step options for this node only.
        """
        if max_concurrency < 1:
            raise DefinitionError(f"map node '{name}': max_concurrency must be >= 1")
        if batch_size is not None and batch_size < 1:
            raise DefinitionError(f"map node '{name}': batch_size must be >= 1")
        node = self._add(name, as_step(step, f"map node '{name}'"), None, None, step_overrides)
        node.map_items = items
        node.map_concurrency = max_concurrency
        node.map_batch = batch_size
        return self

    def _add(
        self,
        name: str,
        step: Runnable,
        fallback: Step[Any, Any] | None,
        compensate: Step[Any, Any] | None,
        overrides: dict[str, Any],
    ) -> DeclaredNode:
        if not isinstance(name, str) or not name:
            raise DefinitionError(f"graph '{self.name}': node names are non-empty strings")
        if name in self._nodes:
            raise DefinitionError(f"graph '{self.name}': duplicate node name '{name}'")
        checked = as_runnable(step, f"node '{name}'")
        if isinstance(checked, Target) and overrides:
            raise DefinitionError(
                f"graph '{self.name}': node '{name}' runs {checked.name!r} as a child "
                f"workflow; step options ({', '.join(sorted(overrides))}) do not apply"
            )
        if "circuit_breaker" in overrides:
            # One activity is registered per step name, so its activity-side behaviour
            # cannot differ between nodes: declare another step instead.
            raise DefinitionError(
                f"graph '{self.name}': node '{name}' cannot override circuit_breaker; "
                "declare the step with it (or a copy under another name)"
            )
        node = DeclaredNode(
            name=name,
            runs=checked.with_options(**overrides)
            if overrides and isinstance(checked, Step)
            else checked,
            fallback=None if fallback is None else as_step(fallback, f"fallback of '{name}'"),
            compensate=None
            if compensate is None
            else as_step(compensate, f"compensate of '{name}'"),
        )
        self._nodes[name] = node
        self._changed()
        return node

    def add_edge(self, src: NodeRef, dst: NodeRef) -> Graph:
        """Make `dst` depend on `src`: it starts only after `src` finished."""
        self._edges.append((self._ref(src), self._ref(dst)))
        self._changed()
        return self

    def add_conditional_edges(
        self,
        src: NodeRef,
        route: Callable[[dict[str, Any]], str],
        mapping: Mapping[str, NodeRef] | Sequence[NodeRef],
    ) -> Graph:
        """After `src`, run only the branch `route(state)` picks.

        Args:
            src: The node whose completion triggers the decision.
            route: A pure, deterministic function of the state after `src` returning a
                label (it runs inside the workflow: no I/O, clocks or randomness).
            mapping: Label -> target node, or a list of target nodes whose names are
                the labels. Plain `add_edge` edges from `src` are always taken.
        """
        source = self._ref(src)
        if source in self._routers:
            raise DefinitionError(f"graph '{self.name}': node '{source}' already routes")
        if not callable(route):
            raise DefinitionError(f"graph '{self.name}': route for '{source}' is not callable")
        if isinstance(mapping, str | Step) or not isinstance(mapping, Mapping | Sequence):
            raise DefinitionError(
                f"graph '{self.name}': conditional edges of '{source}' need a mapping "
                "{label: node} or a list of nodes"
            )
        if isinstance(mapping, Mapping):
            targets = dict(mapping)
        else:
            targets = {self._ref(target): target for target in mapping}
        if not targets:
            raise DefinitionError(f"graph '{self.name}': conditional edges of '{source}' are empty")
        resolved = {label: self._ref(target) for label, target in targets.items()}
        self._routers[source] = (route, resolved)
        for target in dict.fromkeys(resolved.values()):
            self._edges.append((source, target))
        self._changed()
        return self

    def set_entry_point(self, nodes: NodeRef | Sequence[NodeRef]) -> Graph:
        """Declare the nodes the run starts with (nodes without predecessors)."""
        self._entry = self._refs(nodes)
        self._changed()
        return self

    def set_finish_point(self, nodes: NodeRef | Sequence[NodeRef]) -> Graph:
        """Declare the nodes that decide the run's outcome (default: nodes without successors).

        With `on_error="continue"`, a run whose finish points all succeeded (or were not
        chosen by a route) completes even if side branches failed; those are listed in
        the progress and logged at WARNING. A run whose finish point failed, or was
        skipped because its branch failed, fails naming it.
        """
        self._finish = self._refs(nodes)
        self._changed()
        return self

    def node(
        self,
        name: str | None = None,
        *,
        after: Sequence[NodeRef] = (),
        entry: bool = False,
        fallback: Step[Any, Any] | None = None,
        compensate: Step[Any, Any] | None = None,
        **step_options: Any,
    ) -> Callable[[Callable[..., Any]], Step[Any, Any]]:
        """Decorate a function to declare a step, its node and its incoming edges at once.

        Args:
            name: Node name (default: the function name; also the step name).
            after: Nodes this one depends on.
            entry: Make it an entry point.
            fallback: As for `add_node`.
            compensate: As for `add_node`.
            **step_options: Options for `@step` (`timeout`, `retry`, ...).
        """

        def decorate(fn: Callable[..., Any]) -> Step[Any, Any]:
            declared: Step[Any, Any] = fn if isinstance(fn, Step) else step(**step_options)(fn)
            node_name = name or declared.name
            self.add_node(node_name, declared, fallback=fallback, compensate=compensate)
            for pred in after:
                self.add_edge(pred, node_name)
            if entry:
                self._entry.append(node_name)
            return declared

        return decorate

    # -- references --------------------------------------------------------------------

    def _ref(self, ref: NodeRef) -> str:
        if isinstance(ref, str):
            return ref
        if isinstance(ref, Step):
            names = [n.name for n in self._nodes.values() if n.runs_function(ref)]
            if len(names) == 1:
                return names[0]
            problem = "is not a node" if not names else f"runs in several nodes ({names})"
            raise DefinitionError(f"graph '{self.name}': step {ref.name!r} {problem}; use a name")
        raise DefinitionError(f"graph '{self.name}': a node is a name or a step, got {ref!r}")

    def _refs(self, nodes: NodeRef | Sequence[NodeRef]) -> list[str]:
        items = [nodes] if isinstance(nodes, str | Step) else list(nodes)
        return [self._ref(item) for item in items]

    # -- compiling ---------------------------------------------------------------------

    def _steps(self) -> Iterable[StepDefinition]:
        for node in self._nodes.values():
            yield from node.steps()

    def _children(self) -> Iterable[WorkflowTarget]:
        return [node.runs for node in self._nodes.values() if isinstance(node.runs, Target)]

    def compile(self) -> GraphPlan:
        """Validate the graph and return its plan (cached until the graph changes).

        Raises:
            DefinitionError: Naming the offending nodes: a cycle (with its path), an edge
                to an unknown node, a missing entry point, an unreachable node, ...
        """
        plan = super().compile()
        assert isinstance(plan, GraphPlan)
        return plan

    def _compile(self) -> GraphPlan:
        return compile_graph(self, list(self._nodes.values()), self._edges, self._routers,
                             self._entry, self._finish)  # fmt: skip
