"""Plan fingerprints: a stable identity for each version of a chain or graph.

A fingerprint covers everything that shapes the commands a run issues: nodes, edges,
activity names and options, child plans, route functions and the state model (by
qualified name, without their module: see `_code_name`), memory and the scheduling
settings the declaration fixes. Settings left to `BelugaSettings` are not part of it:
they are fixed per run when it starts.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from beluga_temporal.plan._options import StepOptions, _seconds
from beluga_temporal.plan._plan import ChainPlan, GraphPlan, NodePlan, Plan

FINGERPRINT_LENGTH = 12
"""Hex digits kept: 48 bits, plenty to tell a graph's versions apart."""


def fingerprint(plan: Plan) -> str:
    """Return the plan's fingerprint (12 hex digits, stable across processes)."""
    text = json.dumps(identity(plan), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:FINGERPRINT_LENGTH]


def identity(plan: Plan) -> dict[str, Any]:
    """The JSON-able description a fingerprint hashes (also what `graph diff` compares)."""
    common: dict[str, Any] = {
        "kind": plan.kind,
        "name": plan.name,
        "local": plan.local,
        "nodes": [_node(node) for node in plan.nodes],
    }
    if isinstance(plan, ChainPlan):
        return {**common, **_chain(plan)}
    return {**common, **_graph(plan)}


def _chain(plan: ChainPlan) -> dict[str, Any]:
    memory = plan.memory
    return {
        "on_error": _options(plan.on_error),
        "memory": None
        if memory is None
        else [memory.kind, memory.k, memory.input_key, memory.output_key],
        "retries": plan.retries,
        "retry_delay": _seconds(plan.retry_delay),
    }


def _graph(plan: GraphPlan) -> dict[str, Any]:
    return {
        "entry": list(plan.entry_points),
        "finish": list(plan.finish_points),
        "routers": {
            src: {
                "route": _code_name(router.route),
                "mapping": dict(sorted(router.mapping.items())),
            }
            for src, router in sorted(plan.routers.items())
        },
        "max_workers": plan.max_workers,
        "parallel": plan.parallel,
        "on_error": plan.on_error,
        "state_model": None if plan.state_model is None else _code_name(plan.state_model),
    }


def _node(node: NodePlan) -> dict[str, Any]:
    return {
        "name": node.name,
        "step": _options(node.step),
        "child": None if node.child is None else fingerprint(node.child),
        "deps": list(node.deps),
        "fallback": _options(node.fallback),
        "compensate": _options(node.compensate),
        "map": _map(node),
        "reads": _keys(node.reads),
        "fallback_reads": _keys(node.fallback_reads),
        "compensate_reads": _keys(node.compensate_reads),
    }


def _map(node: NodePlan) -> list[Any] | None:
    if node.map_items is None:
        return None
    # Added options only when set: a declaration that does not use them keeps the
    # fingerprint it had before they existed (runs in flight stay known).
    batch = [] if node.map_batch is None else [node.map_batch]
    return [node.map_items, node.map_concurrency, *batch]


def _options(options: StepOptions | None) -> dict[str, Any] | None:
    return None if options is None else options.identity()


def _keys(keys: tuple[str, ...] | None) -> list[str] | None:
    return None if keys is None else list(keys)


def run_summary(plan: Plan, plan_fingerprint: str | None = None) -> str:
    """One line describing a run of `plan`: the Web UI's summary of its workflow.

    Example: `graph order-processing: 6 nodes, plan 3f2a9c0d1b7e`.
    """
    printed = plan_fingerprint or fingerprint(plan)
    count = len(plan.nodes)
    return f"{plan.kind} {plan.name}: {count} node{'' if count == 1 else 's'}, plan {printed}"


def _code_name(obj: Any) -> str:
    """A route function's or state model's name as fingerprints record it: its qualname.

    Not its module: the same declaration is `__main__` in a script run as `python
    app.py` and `app` (or `pkg.app`) in the worker that imports it, and the two
    processes must agree on the plan. A route's body is not part of the fingerprint
    either; its name is what a reviewer sees change.
    """
    return str(getattr(obj, "__qualname__", None) or getattr(obj, "__name__", None) or obj)
