"""Draw plans as Mermaid or Graphviz DOT.

Routing nodes are diamonds, map nodes have a double border, finish points (the nodes
that decide a run's outcome) are highlighted, and a nested chain or graph (a child
workflow) is drawn as a subgraph of its own nodes.
"""

from __future__ import annotations

import re

from beluga_temporal.plan._plan import GraphPlan, NodePlan, Plan


def _edges(plan: Plan) -> list[tuple[str, str, str | None]]:
    routers = plan.routers if isinstance(plan, GraphPlan) else {}
    edges: list[tuple[str, str, str | None]] = []
    for node in plan.nodes:
        for dep in node.deps:
            router = routers.get(dep)
            labels = (
                [] if router is None else [k for k, v in router.mapping.items() if v == node.name]
            )
            edges.append((dep, node.name, " / ".join(labels) or None))
    return edges


def _entries(plan: Plan) -> tuple[str, ...]:
    return plan.entry_points if isinstance(plan, GraphPlan) else (plan.nodes[0].name,)


def _ident(prefix: str, name: str) -> str:
    return prefix + re.sub(r"\W", "_", name)


def _is_router(plan: Plan, name: str) -> bool:
    return isinstance(plan, GraphPlan) and name in plan.routers


def to_mermaid(plan: Plan) -> str:
    """Return a Mermaid flowchart of the plan."""
    lines = ["flowchart TD", "    START((start))", "    END((end))"]
    lines += _mermaid_body(plan, "", "    ")
    lines += [f"    START --> {_ident('', name)}" for name in _entries(plan)]
    lines += [f"    {_ident('', name)} --> END" for name in plan.finish_points]
    finish = ",".join(_ident("", name) for name in plan.finish_points)
    lines += ["    classDef finish stroke-width:3px", f"    class {finish} finish"]
    return "\n".join(lines) + "\n"


def _mermaid_body(plan: Plan, prefix: str, indent: str) -> list[str]:
    lines: list[str] = []
    for node in plan.nodes:
        lines += _mermaid_node(plan, node, prefix, indent)
    for src, dst, label in _edges(plan):
        arrow = f"-. {label} .->" if label else "-->"
        lines.append(f"{indent}{_ident(prefix, src)} {arrow} {_ident(prefix, dst)}")
    return lines


def _mermaid_node(plan: Plan, node: NodePlan, prefix: str, indent: str) -> list[str]:
    ident = _ident(prefix, node.name)
    if node.child is not None:
        child = node.child
        inner = f"{ident}__"
        lines = [f'{indent}subgraph {ident}["{node.name}: {child.kind} {child.name}"]']
        lines += _mermaid_body(child, inner, indent + "    ")
        lines.append(f"{indent}end")
        return lines
    if _is_router(plan, node.name):
        return [f"{indent}{ident}{{{node.name}}}"]
    shape = f"[[{node.name}]]" if node.map_items else f"[{node.name}]"
    return [f"{indent}{ident}{shape}"]


def to_dot(plan: Plan) -> str:
    """Return a Graphviz DOT digraph of the plan."""
    lines = [f'digraph "{plan.name}" {{', "    rankdir=TB;", "    compound=true;"]
    lines += ['    "__start__" [shape=circle];', '    "__end__" [shape=doublecircle];']
    lines += _dot_body(plan, "", "    ")
    lines += [_dot_edge(("__start__", None), _inward(plan, n, ""), None) for n in _entries(plan)]
    lines += [_dot_edge(_outward(plan, n, ""), ("__end__", None), None) for n in plan.finish_points]
    return "\n".join([*lines, "}"]) + "\n"


Anchor = tuple[str, str | None]
"""A DOT node an edge attaches to, and the cluster it clips at (a nested run's border)."""


def _dot_body(plan: Plan, prefix: str, indent: str) -> list[str]:
    lines: list[str] = []
    for node in plan.nodes:
        name = prefix + node.name
        if node.child is not None:
            lines.append(f'{indent}subgraph "cluster_{name}" {{')
            lines.append(f'{indent}    label="{node.name}: {node.child.kind} {node.child.name}";')
            lines += _dot_body(node.child, f"{name}/", indent + "    ")
            lines.append(f"{indent}}}")
            continue
        shape = "diamond" if _is_router(plan, node.name) else "box"
        extra = ", peripheries=2" if node.name in plan.finish_points else ""
        short = f', label="{node.name}"' if prefix else ""  # ids are paths, labels not
        lines.append(f'{indent}"{name}" [shape={shape}{short}{extra}];')
    for src, dst, label in _edges(plan):
        edge = _dot_edge(_outward(plan, src, prefix), _inward(plan, dst, prefix), label)
        lines.append(indent + edge.strip())
    return lines


def _inward(plan: Plan, name: str, prefix: str) -> Anchor:
    """Where an edge into node `name` ends: the node, or a nested run's first node."""
    node = plan.node(name)
    if node.child is None:
        return prefix + name, None
    inner, _ = _inward(node.child, _entries(node.child)[0], f"{prefix}{name}/")
    return inner, f"cluster_{prefix}{name}"


def _outward(plan: Plan, name: str, prefix: str) -> Anchor:
    """Where an edge out of node `name` starts: the node, or a nested run's last node."""
    node = plan.node(name)
    if node.child is None:
        return prefix + name, None
    inner, _ = _outward(node.child, node.child.finish_points[0], f"{prefix}{name}/")
    return inner, f"cluster_{prefix}{name}"


def _dot_edge(src: Anchor, dst: Anchor, label: str | None) -> str:
    attrs = [f'label="{label}"', "style=dashed"] if label else []
    if src[1] is not None:
        attrs.append(f'ltail="{src[1]}"')
    if dst[1] is not None:
        attrs.append(f'lhead="{dst[1]}"')
    suffix = f" [{', '.join(attrs)}]" if attrs else ""
    return f'    "{src[0]}" -> "{dst[0]}"{suffix};'
