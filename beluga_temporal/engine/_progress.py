"""Live run progress: node states exposed by every generated workflow's query.

Progress is cumulative across continue-as-new: a run carries its node states in its
snapshot, so the query on the latest run shows the whole run.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

import pydantic

NodeStatus = Literal["pending", "running", "succeeded", "failed", "skipped", "cancelled"]
RunStatus = Literal["running", "completed", "failed", "cancelled"]
PROGRESS_QUERY = "beluga.progress"
"""Query name (wire format) answered by every generated workflow."""
LISTED_NODES = 2_000
"""Runs with more nodes list only the interesting ones (see `RunProgress.nodes`)."""


class NodeProgress(pydantic.BaseModel):
    """The state of one chain step or graph node."""

    status: NodeStatus = "pending"
    step: str
    """The activity type the node runs (or the child workflow type)."""
    error: str | None = None
    """`type: message` of the failure, for failed nodes."""
    fallback: bool = False
    """Whether the node's output came from its fallback step."""
    attempts: int = 0
    """Attempts the step took to succeed (0 until it has; the highest for map nodes)."""
    started_at: datetime | None = None
    """Workflow time the node started running."""
    finished_at: datetime | None = None
    """Workflow time the node reached its final status."""
    choice: str | None = None
    """For routing nodes: the node their route function chose."""
    waiting: str | None = None
    """Why a running node makes no progress, e.g. no worker polls its task queue
    (filled in by clients from the server's view, never by the workflow)."""
    items_done: int | None = None
    """For map nodes: how many items have finished."""

    @property
    def duration(self) -> timedelta | None:
        """How long the node ran, once it has finished."""
        if self.started_at is None or self.finished_at is None:
            return None
        return self.finished_at - self.started_at


class Usage(pydantic.BaseModel):
    """Token usage summed over the run's LLM steps."""

    input_tokens: int = 0
    output_tokens: int = 0
    total_tokens: int = 0

    def add(self, other: Usage) -> None:
        """Add `other` into this total."""
        self.input_tokens += other.input_tokens
        self.output_tokens += other.output_tokens
        self.total_tokens += other.total_tokens


class RunProgress(pydantic.BaseModel):
    """A snapshot of a generated workflow run, as returned by its progress query."""

    name: str
    kind: Literal["chain", "graph"]
    status: RunStatus = "running"
    nodes: dict[str, NodeProgress]
    """Nodes (graph) or step labels (chain) in plan order. A run with more than
    `LISTED_NODES` nodes lists only those not pending or succeeded, plus the last ones
    to finish; `counts` always covers every node."""
    usage: Usage = pydantic.Field(default_factory=Usage)
    plan: str | None = None
    """Fingerprint of the plan version the run executes."""
    continuations: int = 0
    """How many times the run continued as new so far."""
    counts: dict[str, int] = pydantic.Field(default_factory=dict)
    """How many nodes are in each status."""
    total: int = 0
    """How many nodes the run has."""

    @property
    def running(self) -> list[str]:
        """Nodes running now."""
        return [name for name, node in self.nodes.items() if node.status == "running"]

    @property
    def done(self) -> bool:
        """Whether the run has finished."""
        return self.status != "running"

    def mark(self, node: str, status: NodeStatus, error: str | None = None) -> None:
        """Record a node's new status."""
        self.nodes[node].status = status
        if error is not None:
            self.nodes[node].error = error
