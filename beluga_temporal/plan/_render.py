"""Draw graph plans as Mermaid or Graphviz DOT."""

from __future__ import annotations

import re

from beluga_temporal.plan._plan import GraphPlan


def _edges(plan: GraphPlan) -> list[tuple[str, str, str | None]]:
    edges: list[tuple[str, str, str | None]] = []
    for node in plan.nodes:
        for dep in node.deps:
            router = plan.routers.get(dep)
            labels = (
                [] if router is None else [k for k, v in router.mapping.items() if v == node.name]
            )
            edges.append((dep, node.name, " / ".join(labels) or None))
    return edges


def _ident(name: str) -> str:
    return re.sub(r"\W", "_", name)


def to_mermaid(plan: GraphPlan) -> str:
    """Return a Mermaid flowchart: nodes, edges, labelled conditional edges, entry/finish."""
    lines = ["flowchart TD", "    START((start))", "    END((end))"]
    for node in plan.nodes:
        shape = f"[[{node.name}]]" if node.map_items else f"[{node.name}]"
        if node.name in plan.routers:
            shape = f"{{{node.name}}}"
        lines.append(f"    {_ident(node.name)}{shape}")
    lines += [f"    START --> {_ident(name)}" for name in plan.entry_points]
    for src, dst, label in _edges(plan):
        arrow = f"-. {label} .->" if label else "-->"
        lines.append(f"    {_ident(src)} {arrow} {_ident(dst)}")
    lines += [f"    {_ident(name)} --> END" for name in plan.finish_points]
    return "\n".join(lines) + "\n"


def to_dot(plan: GraphPlan) -> str:
    """Return a Graphviz DOT digraph of the plan."""
    lines = [f'digraph "{plan.name}" {{', "    rankdir=TB;", '    "__start__" [shape=circle];']
    lines.append('    "__end__" [shape=doublecircle];')
    for node in plan.nodes:
        shape = "diamond" if node.name in plan.routers else "box"
        lines.append(f'    "{node.name}" [shape={shape}];')
    lines += [f'    "__start__" -> "{name}";' for name in plan.entry_points]
    for src, dst, label in _edges(plan):
        attrs = f' [label="{label}", style=dashed]' if label else ""
        lines.append(f'    "{src}" -> "{dst}"{attrs};')
    lines += [f'    "{name}" -> "__end__";' for name in plan.finish_points]
    return "\n".join([*lines, "}"]) + "\n"
