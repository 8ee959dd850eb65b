"""`beluga graph show`: draw a graph (or chain) as Mermaid or Graphviz DOT."""

from __future__ import annotations

import click

from beluga_temporal.cli._targets import load_graph
from beluga_temporal.plan import to_dot, to_mermaid
from beluga_temporal.runtime import WorkflowTarget


def render(target: WorkflowTarget, fmt: str) -> str:
    """Return `target` drawn in `fmt` (`mermaid` or `dot`)."""
    plan = target.compile()
    return to_mermaid(plan) if fmt == "mermaid" else to_dot(plan)


@click.group("graph")
def graph() -> None:
    """Inspect graphs and chains."""


@graph.command("show")
@click.argument("target")
@click.option(
    "--format",
    "-f",
    "fmt",
    type=click.Choice(["mermaid", "dot"]),
    default="mermaid",
    show_default=True,
)
def show(target: str, fmt: str) -> None:
    """Print TARGET (module:attribute, a Graph or Chain) as Mermaid or DOT."""
    click.echo(render(load_graph(target), fmt), nl=False)
