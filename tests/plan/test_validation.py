"""Graph and step declarations are validated before anything runs."""

from __future__ import annotations

from typing import Any

import pytest

from beluga_temporal import Chain, DefinitionError, Graph, step
from tests import graph_examples as ex


def graph_with(*names: str) -> Graph:
    g = Graph("g")
    for name in names:
        g.add_node(name, ex.sleeping_step(f"v-{name}", 0))
    return g


def test_cycle_is_reported_with_its_path() -> None:
    g = graph_with("a", "b", "c", "d")
    g.add_edge("a", "b").add_edge("b", "c").add_edge("c", "d").add_edge("d", "b")
    g.set_entry_point("a")
    with pytest.raises(DefinitionError, match=r"cycle: b -> c -> d -> b"):
        g.compile()


def test_edge_to_unknown_node() -> None:
    g = graph_with("a")
    g.add_edge("a", "ghost").set_entry_point("a")
    with pytest.raises(
        DefinitionError, match=r"'a' -> 'ghost' refers to unknown node\(s\) 'ghost'"
    ):
        g.compile()


def test_duplicate_node_name() -> None:
    g = graph_with("a")
    with pytest.raises(DefinitionError, match="duplicate node name 'a'"):
        g.add_node("a", ex.validate)


def test_missing_entry_point_names_the_roots() -> None:
    g = graph_with("a", "b")
    g.add_edge("a", "b")
    with pytest.raises(DefinitionError, match=r"no entry point.*\(nodes without predecessors: a\)"):
        g.compile()


def test_unreachable_node() -> None:
    g = graph_with("a", "b", "island")
    g.add_edge("a", "b").set_entry_point("a")
    with pytest.raises(DefinitionError, match="island not reachable from any entry point"):
        g.compile()


def test_unknown_finish_point() -> None:
    g = graph_with("a")
    g.set_entry_point("a").set_finish_point("nowhere")
    with pytest.raises(DefinitionError, match=r"finish point.*'nowhere'"):
        g.compile()


def test_conditional_edge_to_unknown_node() -> None:
    g = graph_with("a")
    g.add_conditional_edges("a", lambda s: "x", {"x": "missing"}).set_entry_point("a")
    with pytest.raises(DefinitionError, match="'a' -> 'missing' refers to unknown"):
        g.compile()


def test_entry_point_with_predecessors() -> None:
    g = graph_with("a", "b")
    g.add_edge("a", "b").set_entry_point(["a", "b"])
    with pytest.raises(DefinitionError, match=r"entry point.*b have predecessors"):
        g.compile()


def test_edges_accept_step_references() -> None:
    g = Graph("refs")
    g.add_node("validate", ex.validate).add_node("inventory", ex.check_inventory)
    g.add_edge(ex.validate, ex.check_inventory).set_entry_point(ex.validate)
    assert g.compile().node("inventory").deps == ("validate",)
    with pytest.raises(DefinitionError, match="'notify' is not a node"):
        g.add_edge(ex.validate, ex.notify)


def test_decorator_form_declares_step_node_and_edges() -> None:
    g = Graph("decorated")

    @g.node(entry=True)
    async def start(state: dict[str, Any]) -> dict[str, Any]:
        return {}

    @g.node(after=[start], timeout=5)
    async def end(state: dict[str, Any]) -> dict[str, Any]:
        return {}

    plan = g.compile()
    assert [n.name for n in plan.nodes] == ["start", "end"]
    assert plan.node("end").deps == ("start",)
    options = plan.node("end").step
    assert options is not None
    assert options.start_to_close is not None
    assert options.start_to_close.total_seconds() == 5
    assert {s.name for s in g.activities} == {"start", "end"}


def test_step_with_two_arguments_is_rejected() -> None:
    with pytest.raises(DefinitionError, match="takes 2 arguments"):
        # Typed for one input, so mypy rejects it too: this checks the run-time error.
        @step  # type: ignore[arg-type]
        async def two(a: int, b: int) -> int:
            return a + b


def test_chain_without_steps_and_non_steps() -> None:
    with pytest.raises(DefinitionError, match="has no steps"):
        Chain("empty").compile()
    with pytest.raises(DefinitionError, match="decorate it with @step"):
        # Not a step: mypy rejects it too; the run-time error is tested.
        Chain("plain", steps=[print])  # type: ignore[list-item]


def test_two_functions_under_one_step_name() -> None:
    @step(name="same")
    async def one(x: int) -> int:
        return x

    @step(name="same")
    async def other(x: int) -> int:
        return x

    with pytest.raises(
        DefinitionError, match="two different functions are declared as step 'same'"
    ):
        _ = Chain("clash", steps=[one, other]).activities


def test_mermaid_shows_nodes_conditional_labels_entry_and_finish() -> None:
    text = ex.ROUTED_GRAPH.to_mermaid()
    assert text.startswith("flowchart TD")
    assert "START --> decide" in text
    assert "decide -. express .-> express" in text
    assert "decide -. standard .-> standard" in text
    assert "standard --> label" in text
    assert "finish --> END" in text
    dot = ex.ORDER_GRAPH.to_dot()
    assert '"validate" -> "check_inventory";' in dot
    assert '"notify" -> "__end__";' in dot
