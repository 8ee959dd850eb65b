"""The one serialisable state of a run: what it carries across continue-as-new.

A snapshot holds the plan version and defaults the run started with, every node's
status (cumulative, so progress covers the whole run), token usage, and the data flow:
a chain's current value, or a graph's initial state, node outputs, route choices and
completion order, plus the partial results of map nodes that stopped mid-way.
Node states are stored as short lists to keep 10,000-node runs well under Temporal's
payload limit.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pydantic

from beluga_temporal.engine._progress import NodeProgress, Usage

CONTINUE_KEY = "__beluga_continue__"
"""Key (wire format) marking a workflow argument as a continue-as-new snapshot."""

_FIELDS = ("status", "attempts", "started_at", "finished_at", "error", "choice", "fallback",
           "items_done")  # fmt: skip
_DEFAULTS: tuple[Any, ...] = ("pending", 0, None, None, None, None, False, None)


class Snapshot(pydantic.BaseModel):
    """Everything a run needs to carry on in a new Temporal run."""

    context: dict[str, Any]
    """The run's `StartContext` (plan fingerprint, defaults)."""
    nodes: list[list[Any]] = pydantic.Field(default_factory=list)
    """Compact node states, in plan order (see `encode_node`)."""
    usage: Usage = pydantic.Field(default_factory=Usage)
    continuations: int = 0
    """How many times the run has continued as new, this one included."""
    value: Any = None
    """Chains: the output of the last finished step (the next step's input)."""
    initial: dict[str, Any] = pydantic.Field(default_factory=dict)
    """Graphs: the initial state."""
    outputs: dict[str, dict[str, Any]] = pydantic.Field(default_factory=dict)
    """Graphs: each succeeded node's state updates."""
    chosen: dict[str, str] = pydantic.Field(default_factory=dict)
    """Graphs: the target each routing node chose."""
    completed: list[str] = pydantic.Field(default_factory=list)
    """Nodes that succeeded, in completion order (compensation runs in reverse)."""
    failed_skips: list[str] = pydantic.Field(default_factory=list)
    """Skipped nodes whose branch failed (not merely routed away)."""
    failures: list[list[str]] = pydantic.Field(default_factory=list)
    """`[node, error type, message]` of each failed node, in order."""
    maps: dict[str, list[Any]] = pydantic.Field(default_factory=dict)
    """Map nodes that stopped mid-way: the results of their first items."""
    session: dict[str, Any] | None = None
    """Sessions (chains with memory): the remembered exchanges and the last output."""


def is_snapshot(arg: Any) -> bool:
    """Tell whether a workflow argument is a continue-as-new snapshot."""
    return isinstance(arg, dict) and CONTINUE_KEY in arg


def encode_node(node: NodeProgress) -> list[Any]:
    """A node's state as a short list (trailing defaults dropped)."""
    values = [_encode(getattr(node, field)) for field in _FIELDS]
    while values and values[-1] == _DEFAULTS[len(values) - 1]:
        values.pop()
    return values


def decode_node(step: str, values: list[Any]) -> NodeProgress:
    """Rebuild a node's state from `encode_node`'s list."""
    padded = [*values, *_DEFAULTS[len(values) :]]
    fields = dict(zip(_FIELDS, padded, strict=True))
    for key in ("started_at", "finished_at"):
        fields[key] = None if fields[key] is None else _decode_time(fields[key])
    return NodeProgress(step=step, **fields)


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return round(value.timestamp() * 1000)
    return value


def _decode_time(millis: int) -> datetime:
    return datetime.fromtimestamp(millis / 1000, tz=UTC)
