"""Workflow side: what a run knows about its nodes (progress, failures, skips).

The `Recorder` is the one place that changes node states: it stamps times, emits
spans, keeps the failures and the reason of each skip, and turns all of it into (and
back from) a continue-as-new snapshot.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import temporalio.workflow

from beluga_temporal.engine._progress import (
    LISTED_NODES,
    NodeProgress,
    NodeStatus,
    RunProgress,
    RunStatus,
)
from beluga_temporal.engine._snapshot import Snapshot, decode_node, encode_node
from beluga_temporal.engine._tracing import RunTrace
from beluga_temporal.plan import MEMO_KEY, Plan, StartContext
from beluga_temporal.resilience import check_workflow_payload

TERMINAL: frozenset[str] = frozenset({"succeeded", "failed", "skipped", "cancelled"})
RECENT = 50
"""Finished nodes a truncated progress view still lists (the latest ones)."""


class Recorder:
    """Node states and failures of one run."""

    def __init__(self, plan: Plan, context: StartContext, *, since: datetime | None = None) -> None:
        """Start recording a run (and its run span) that began at `since`.

        `since` defaults to the workflow's start time; a session turn passes its own.
        """
        self.plan = plan
        self.context = context
        self.progress = RunProgress(
            name=plan.name,
            kind=plan.kind,
            nodes={node.name: NodeProgress(step=node.runs) for node in plan.nodes},
            plan=context.plan,
            total=len(plan.nodes),
        )
        self.failures: list[tuple[str, str, str]] = []
        self.failed_skips: set[str] = set()
        self._finished_order: list[str] = []
        self.trace = RunTrace(plan.kind, plan.name, len(plan.nodes), since=since)
        """The run's spans (nothing is recorded when the workflow is not traced)."""

    # -- node states -------------------------------------------------------------------

    def mark(self, name: str, status: NodeStatus, error: str | None = None) -> None:
        """Record a node's new status (and when it started or ended)."""
        node = self.progress.nodes[name]
        node.status = status
        if error is not None:
            node.error = error
        if status == "running":
            node.started_at = node.started_at or temporalio.workflow.now()
            self.trace.node_started(name, node)
            return
        node.finished_at = temporalio.workflow.now()
        self._finished_order.append(name)
        self.trace.node_finished(name, node, error)

    def skip(self, name: str, *, failed_branch: bool) -> None:
        """Mark a node skipped: its branch failed, or a route did not choose it."""
        if failed_branch:
            self.failed_skips.add(name)
        self.mark(name, "skipped")

    def failure(self, name: str, error_type: str, message: str) -> None:
        """Remember a node's failure (the first one names the run's failure)."""
        self.failures.append((name, error_type, message))

    def choice(self, name: str, target: str | None) -> None:
        """Record the node a routing node chose."""
        if target is not None:
            self.progress.nodes[name].choice = target

    def items_done(self, name: str, count: int) -> None:
        """Record how many items of a map node have finished."""
        self.progress.nodes[name].items_done = count

    def status(self, name: str) -> NodeStatus:
        """A node's status."""
        return self.progress.nodes[name].status

    def terminal(self, name: str) -> bool:
        """Whether a node reached its final status."""
        return self.progress.nodes[name].status in TERMINAL

    def blocks(self, name: str) -> bool:
        """Whether a finished node stops its successors: it failed, or its branch did."""
        return self.status(name) in ("failed", "cancelled") or name in self.failed_skips

    def with_status(self, status: NodeStatus) -> list[str]:
        """Nodes in `status`, in plan order."""
        return [name for name, node in self.progress.nodes.items() if node.status == status]

    def unfinished(self) -> bool:
        """Whether some node is still to run (or stopped mid-way)."""
        return any(node.status in ("pending", "running") for node in self.progress.nodes.values())

    def finish(self, status: RunStatus) -> None:
        """End the run: nodes never reached are skipped."""
        for name, node in self.progress.nodes.items():
            if node.status == "pending":
                self.mark(name, "skipped")
        self.progress.status = status

    @contextlib.contextmanager
    def tracing(self) -> Iterator[None]:
        """Run the block under the run span, and end the span with the run's outcome.

        The span ends after the block, so compensations and the `on_error` handler
        are inside it. A run that continues as new ends its span as `continued`.
        """
        with self.trace.active():
            try:
                yield
            except temporalio.workflow.ContinueAsNewError:
                self.trace.end("continued", None)
                raise
            except asyncio.CancelledError:
                if temporalio.workflow.cancellation_reason() is not None:
                    self.trace.end("cancelled", None)
                raise  # otherwise evicted from the cache: the run goes on elsewhere
            except Exception as error:
                # A failure ends the run. Anything else is a bug that fails the workflow
                # task, which is retried: the span stays open for the retry to end.
                if temporalio.workflow.is_failure_exception(error):
                    self.trace.end("failed", error)
                raise
            self.trace.end(self.progress.status, None)

    # -- the query ---------------------------------------------------------------------

    def view(self) -> RunProgress:
        """The progress query's answer; large runs list only the interesting nodes."""
        progress = self.progress
        counts: dict[str, int] = {}
        for node in progress.nodes.values():
            counts[node.status] = counts.get(node.status, 0) + 1
        if len(progress.nodes) <= LISTED_NODES:
            return progress.model_copy(update={"counts": counts})
        recent = set(self._finished_order[-RECENT:])
        listed = {
            name: node
            for name, node in progress.nodes.items()
            if node.status not in ("pending", "succeeded") or name in recent
        }
        return progress.model_copy(update={"counts": counts, "nodes": listed})

    # -- continue-as-new ---------------------------------------------------------------

    def snapshot(self) -> Snapshot:
        """Node states, usage and failures (the flow adds its data)."""
        return Snapshot(
            context=self.context.to_json(),
            nodes=[encode_node(self.progress.nodes[node.name]) for node in self.plan.nodes],
            usage=self.progress.usage,
            continuations=self.progress.continuations + 1,
            failed_skips=sorted(self.failed_skips),
            failures=[list(failure) for failure in self.failures],
        )

    def restore(self, snapshot: Snapshot) -> None:
        """Resume the node states of a snapshot."""
        for node, values in zip(self.plan.nodes, snapshot.nodes, strict=True):
            self.progress.nodes[node.name] = decode_node(node.runs, values)
        self.progress.usage = snapshot.usage
        self.progress.continuations = snapshot.continuations
        self.failed_skips = set(snapshot.failed_skips)
        self.failures = [(f[0], f[1], f[2]) for f in snapshot.failures]

    def memo(self) -> dict[str, Any]:
        """The memo every run of this plan carries (plan fingerprint and defaults)."""
        return {MEMO_KEY: self.context.to_json()}

    def check_snapshot(self, arg: Any) -> None:
        """Fail clearly if the state to carry over is over the payload limit."""
        check_workflow_payload(
            f"state of '{self.plan.name}' carried into a new run (continue-as-new); "
            "keep large data out of state (store it and pass a reference)",
            arg,
        )
