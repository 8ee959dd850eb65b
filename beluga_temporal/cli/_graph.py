"""`beluga graph show` and `graph diff`: draw a graph (or chain), compare two versions."""

from __future__ import annotations

import click

from beluga_temporal.cli._diff import diff_targets
from beluga_temporal.cli._errors import EXIT_FAILURE
from beluga_temporal.cli._targets import load_graph
from beluga_temporal.engine import WorkflowTarget
from beluga_temporal.plan import to_dot, to_mermaid


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


@graph.command("diff")
@click.argument("old")
@click.argument("new")
def diff(old: str, new: str) -> None:
    """Compare two versions of a chain or graph (OLD and NEW are module:attribute).

    Lists the nodes, edges, steps and options added (+), removed (-) or changed (~),
    both plan fingerprints, and whether runs in flight need `previous=` (whenever the
    fingerprints differ). Exits 0 when the plans are identical, 1 when they differ,
    2 on bad usage.
    """
    found = diff_targets(load_graph(old), load_graph(new))
    for line in found.lines():
        click.echo(line)
    if not found.identical:
        raise click.exceptions.Exit(EXIT_FAILURE)
