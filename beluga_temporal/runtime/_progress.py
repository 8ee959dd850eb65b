"""Live run progress: node states exposed by every generated workflow's query."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

import pydantic

NodeStatus = Literal["pending", "running", "succeeded", "failed", "skipped", "cancelled"]
RunStatus = Literal["running", "completed", "failed"]
PROGRESS_QUERY = "beluga.progress"
"""Query name (wire format) answered by every generated workflow."""


class NodeProgress(pydantic.BaseModel):
    """The state of one chain step or graph node."""

    status: NodeStatus = "pending"
    step: str
    """The activity type the node runs."""
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
    """Nodes (graph) or step labels (chain) in plan order."""
    usage: Usage = pydantic.Field(default_factory=Usage)

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
