"""`beluga graph diff`: what changed between two versions of a chain or graph.

Compares the plans' identities (`beluga_temporal.plan.identity`, what fingerprints
hash): nodes, edges, steps (activities and their options) and plan options added,
removed or changed, and says whether runs in flight need `previous=`: they do whenever
the fingerprints differ, since a worker runs each run on the plan it started with.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from typing import Any

from beluga_temporal.engine import WorkflowTarget
from beluga_temporal.plan import GraphPlan, identity

Identity = Mapping[str, Any]
_NODE_OPTIONS = ("child", "map", "reads", "fallback_reads", "compensate_reads")
_STEP_ROLES = ("step", "fallback", "compensate")
_NOT_OPTIONS = ("name", "nodes")


@dataclasses.dataclass
class PlanDiff:
    """The differences between an old and a new plan."""

    old: WorkflowTarget
    new: WorkflowTarget
    sections: dict[str, list[str]]
    """Non-empty sections (`nodes`, `edges`, `steps`, `options`), one line per change."""

    @property
    def identical(self) -> bool:
        """Whether both plans have the same fingerprint."""
        return self.old.fingerprint == self.new.fingerprint

    def lines(self) -> Iterator[str]:
        """The report."""
        for label, target in (("old", self.old), ("new", self.new)):
            plan = target.compile()
            yield f"{label}: {plan.kind} '{plan.name}' plan {target.fingerprint}"
        for section, changes in self.sections.items():
            yield f"{section}:"
            yield from (f"  {change}" for change in changes)
        yield self.verdict()

    def verdict(self) -> str:
        """Whether runs in flight need `previous=`."""
        old, new = self.old, self.new
        if self.identical:
            plan = new.compile()
            routed = isinstance(plan, GraphPlan) and plan.routers
            note = " (routes are compared by name: `beluga replay` catches an edited body)"
            return f"identical: runs in flight need nothing (plan {new.fingerprint})" + (
                note if routed else ""
            )
        if old.name != new.name:
            return (
                f"different workflow types ('{old.name}', '{new.name}'): previous= relates "
                "versions of one workflow type; runs of one never run on the other"
            )
        if old.fingerprint in new.versions.by_fingerprint:
            return (
                f"runs in flight need previous=: yes, and the new declaration has it "
                f"(it knows plan {old.fingerprint})"
            )
        kind = new.compile().kind.title()
        return (
            f"runs in flight need previous=: yes (the fingerprints differ): declare "
            f"{kind}('{new.name}', ..., previous=[<the old declaration>]) so runs started on "
            f"plan {old.fingerprint} keep their shape, or keep a worker with the old code "
            "until they finish"
        )


def diff_targets(old: WorkflowTarget, new: WorkflowTarget) -> PlanDiff:
    """Compare two declarations (compiled, so invalid ones raise `DefinitionError`)."""
    before, after = identity(old.compile()), identity(new.compile())
    sections = {
        "nodes": list(_nodes(before, after)),
        "edges": _added_removed(_edges(before), _edges(after)),
        "steps": _added_removed(set(_steps(before)), set(_steps(after)))
        + list(_step_options(before, after)),
        "options": list(_changes(_options(before), _options(after))),
    }
    return PlanDiff(old, new, {name: lines for name, lines in sections.items() if lines})


def _nodes(before: Identity, after: Identity) -> Iterator[str]:
    old = {node["name"]: node for node in before["nodes"]}
    new = {node["name"]: node for node in after["nodes"]}
    for name in sorted(new.keys() - old.keys()):
        yield f"+ {name} (runs {_runs(new[name])})"
    for name in sorted(old.keys() - new.keys()):
        yield f"- {name} (runs {_runs(old[name])})"
    for name in sorted(old.keys() & new.keys()):
        changes = []
        if _runs(old[name]) != _runs(new[name]):
            changes.append(f"runs {_runs(old[name])} -> {_runs(new[name])}")
        for role in ("fallback", "compensate"):
            was, now = _step_name(old[name][role]), _step_name(new[name][role])
            if was != now:
                changes.append(f"{role} {was} -> {now}")
        before_options = {key: old[name][key] for key in _NODE_OPTIONS}
        after_options = {key: new[name][key] for key in _NODE_OPTIONS}
        changes.extend(change[2:] for change in _changes(before_options, after_options))
        if changes:
            yield f"~ {name}: {'; '.join(changes)}"


def _runs(node: Identity) -> str:
    if node["step"] is not None:
        return str(node["step"]["name"])
    return f"child plan {node['child']}"


def _step_name(options: Identity | None) -> str | None:
    return None if options is None else str(options["name"])


def _edges(plan: Identity) -> set[str]:
    routers = plan.get("routers", {})
    edges = set()
    for node in plan["nodes"]:
        for dep in node["deps"]:
            mapping = routers.get(dep, {}).get("mapping", {})
            labels = sorted(label for label, target in mapping.items() if target == node["name"])
            edges.add(
                f"{dep} -[{'|'.join(labels)}]-> {node['name']}"
                if labels
                else f"{dep} -> {node['name']}"
            )
    return edges


def _steps(plan: Identity) -> Iterator[str]:
    for node in plan["nodes"]:
        for role in _STEP_ROLES:
            if node[role] is not None:
                yield str(node[role]["name"])


def _step_options(before: Identity, after: Identity) -> Iterator[str]:
    """Changed options of the same activity at the same node and role."""
    old = {(node["name"], role): node[role] for node in before["nodes"] for role in _STEP_ROLES}
    for node in after["nodes"]:
        for role in _STEP_ROLES:
            was, now = old.get((node["name"], role)), node[role]
            if was is None or now is None or was["name"] != now["name"] or was == now:
                continue
            where = f"node {node['name']}" + ("" if role == "step" else f", {role}")
            changes = ", ".join(change[2:] for change in _changes(was, now))
            yield f"~ {now['name']} ({where}): {changes}"


def _options(plan: Identity) -> dict[str, Any]:
    return {key: value for key, value in plan.items() if key not in _NOT_OPTIONS}


def _changes(before: Identity, after: Identity, prefix: str = "") -> Iterator[str]:
    """`~ key: old -> new` for each differing leaf (nested mappings use dotted keys)."""
    for key in sorted(before.keys() | after.keys()):
        was, now = before.get(key), after.get(key)
        if was == now:
            continue
        if isinstance(was, Mapping) and isinstance(now, Mapping):
            yield from _changes(was, now, f"{prefix}{key}.")
        else:
            yield f"~ {prefix}{key}: {_show(was)} -> {_show(now)}"


def _show(value: Any) -> str:
    return "-" if value is None else str(value)


def _added_removed(before: set[str], after: set[str]) -> list[str]:
    return [f"+ {item}" for item in sorted(after - before)] + [
        f"- {item}" for item in sorted(before - after)
    ]
