"""Compile a graph declaration into its plan: validate, order, and narrow what nodes read.

Linear in nodes and edges, so a 10,000-node graph compiles in about a second.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from beluga_temporal.declare._defaults import default_timeout
from beluga_temporal.declare._step import Step
from beluga_temporal.declare._target import Target, child_plan
from beluga_temporal.plan import (
    GraphPlan,
    NodePlan,
    RouterPlan,
    StepDefinition,
    ancestor_bits,
    check_edges,
    check_entry_and_finish,
    topological_order,
)

if TYPE_CHECKING:
    from beluga_temporal.declare._graph import Graph

Route = Callable[[dict[str, Any]], str]


@dataclasses.dataclass
class DeclaredNode:
    """A node as declared: what it runs and how it recovers."""

    name: str
    runs: Step[Any, Any] | Target
    fallback: Step[Any, Any] | None
    compensate: Step[Any, Any] | None
    map_items: str | None = None
    map_concurrency: int = 10
    map_batch: int | None = None
    reads: tuple[str, ...] | None = None

    def runs_function(self, step: Step[Any, Any]) -> bool:
        """Whether the node runs `step`'s function."""
        return isinstance(self.runs, Step) and self.runs.fn is step.fn

    def steps(self) -> Iterator[StepDefinition]:
        """The steps the node runs (its own, fallback, compensation)."""
        if isinstance(self.runs, Step):
            yield self.runs
        if self.fallback is not None:
            yield self.fallback
        if self.compensate is not None:
            yield self.compensate

    def plan(self, graph: str, deps: Sequence[str]) -> NodePlan:
        """The node's plan."""
        step = self.runs if isinstance(self.runs, Step) else None
        reads = self._reads(step)
        return NodePlan(
            name=self.name,
            step=None if step is None else step.options,
            child=None
            if isinstance(self.runs, Step)
            else child_plan(self.runs, f"node {self.name!r} of graph {graph!r}"),
            deps=tuple(deps),
            fallback=None if self.fallback is None else self.fallback.options,
            compensate=None if self.compensate is None else self.compensate.options,
            map_items=self.map_items,
            map_concurrency=self.map_concurrency,
            map_batch=self.map_batch,
            reads=reads,
            fallback_reads=None if self.fallback is None else self.fallback.reads() or reads,
            compensate_reads=None if self.compensate is None else self.compensate.reads(),
        )

    def _reads(self, step: StepDefinition | None) -> tuple[str, ...] | None:
        if self.map_items is not None:
            return (self.map_items,)
        if self.reads is not None:
            return self.reads
        return None if step is None else step.reads()


def compile_graph(
    graph: Graph,
    nodes: list[DeclaredNode],
    edges: list[tuple[str, str]],
    routers: Mapping[str, tuple[Route, dict[str, str]]],
    entry: list[str],
    finish: list[str],
) -> GraphPlan:
    """Validate the declaration and build its plan.

    Raises:
        DefinitionError: Naming the offending nodes.
    """
    names = [node.name for node in nodes]
    by_name = {node.name: node for node in nodes}
    preds = check_edges(graph.name, names, edges)
    order = topological_order(graph.name, names, preds)
    check_entry_and_finish(graph.name, order, preds, entry, finish)
    has_successor = {pred for ps in preds.values() for pred in ps}
    return GraphPlan(
        name=graph.name,
        nodes=tuple(by_name[name].plan(graph.name, preds[name]) for name in order),
        entry_points=tuple(entry),
        finish_points=tuple(finish) or tuple(n for n in order if n not in has_successor),
        routers={
            src: RouterPlan(source=src, route=route, mapping=mapping)
            for src, (route, mapping) in routers.items()
        },
        ancestors=ancestor_bits(order, preds),
        max_workers=graph.max_workers,
        parallel=graph.parallel,
        on_error=graph.on_error,
        timeout=graph.timeout or default_timeout("graph"),
        state_model=graph.state,
        local=graph.local,
    )
