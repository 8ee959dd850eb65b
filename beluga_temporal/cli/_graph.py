"""`beluga graph show`: draw a graph (or chain) as Mermaid or Graphviz DOT."""

from __future__ import annotations

import itertools
import re

import click

from beluga_temporal.cli._targets import load_graph
from beluga_temporal.declare import Chain, Graph, Target
from beluga_temporal.plan import ChainPlan


def _ident(name: str) -> str:
    return re.sub(r"\W", "_", name)


def _labels(chain: Chain) -> tuple[str, ...]:
    plan = chain.compile()
    return plan.labels if isinstance(plan, ChainPlan) else ()


def chain_mermaid(chain: Chain) -> str:
    """Draw a chain as a straight Mermaid flowchart."""
    labels = _labels(chain)
    lines = ["flowchart TD", "    START((start))", "    END((end))"]
    lines += [f"    {_ident(label)}[{label}]" for label in labels]
    path = ["START", *(_ident(label) for label in labels), "END"]
    lines += [f"    {a} --> {b}" for a, b in itertools.pairwise(path)]
    return "\n".join(lines) + "\n"


def chain_dot(chain: Chain) -> str:
    """Draw a chain as a straight Graphviz digraph."""
    labels = _labels(chain)
    path = ["__start__", *labels, "__end__"]
    lines = [f'digraph "{chain.name}" {{', "    rankdir=TB;"]
    lines += [f'    "{a}" -> "{b}";' for a, b in itertools.pairwise(path)]
    return "\n".join([*lines, "}"]) + "\n"


def render(target: Target, fmt: str) -> str:
    """Return `target` drawn in `fmt` (`mermaid` or `dot`)."""
    if isinstance(target, Graph):
        return target.to_mermaid() if fmt == "mermaid" else target.to_dot()
    if isinstance(target, Chain):
        return chain_mermaid(target) if fmt == "mermaid" else chain_dot(target)
    raise click.UsageError(f"cannot draw {target!r}")


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
