"""Workflow side: the one interpreter of chains and graphs.

A node starts as soon as every predecessor has finished: no rounds, no barriers. Nodes
that become ready in the same activation are scheduled in the same workflow task.
Everything is deterministic: ready nodes are taken in topological order and completions
are handled in the order the workflow's event loop delivers them, which replay
reproduces exactly. The run's whole state fits in one `Snapshot`, which it carries into
a new run when its history grows long (continue-as-new, at a quiet point).
"""

from __future__ import annotations

import asyncio
import functools
import heapq
from typing import Any

import temporalio.workflow
from temporalio.exceptions import ActivityError, ApplicationError, ChildWorkflowError

from beluga_temporal.engine._batch import BatchPlan, run_batch
from beluga_temporal.engine._failures import NodeFailure, describe, is_cancellation
from beluga_temporal.engine._flow import ChainFlow, Flow, GraphFlow
from beluga_temporal.engine._map import SUSPENDED, MapRun, items_of
from beluga_temporal.engine._nodes import NodeCalls
from beluga_temporal.engine._outcome import Outcome
from beluga_temporal.engine._progress import NodeStatus, RunProgress
from beluga_temporal.engine._record import Recorder
from beluga_temporal.engine._snapshot import CONTINUE_KEY, Snapshot
from beluga_temporal.plan import ChainPlan, NodePlan, Plan, StartContext

Completion = tuple[str, "asyncio.Task[Any]"]
FAILURES = (ActivityError, ApplicationError, ChildWorkflowError, NodeFailure)
"""What a node fails with (anything else is a bug in the workflow: its task fails)."""


def new_flow(plan: Plan, *, new_input: bool = False) -> Flow:
    """The data flow for `plan`."""
    return ChainFlow(new_input=new_input) if isinstance(plan, ChainPlan) else GraphFlow(plan)


class Run:
    """One run of a chain or graph plan inside its workflow (possibly continued)."""

    def __init__(
        self,
        plan: Plan,
        context: StartContext,
        flow: Flow,
        *,
        snapshot: Snapshot | None = None,
        continues: bool = True,
    ) -> None:
        """Prepare a run.

        Args:
            plan: The plan version the run executes.
            context: The plan fingerprint and defaults fixed when the run started.
            flow: How data moves between nodes (`new_flow(plan)`).
            snapshot: Resume from this continue-as-new snapshot.
            continues: Whether the run may continue as new (not for session turns).
        """
        self.plan = plan
        self.context = context
        self.flow = flow
        # A session turn's run starts now; a whole run when its workflow started.
        since = None if continues else temporalio.workflow.now()
        self.record = Recorder(plan, context, since=since)
        self.calls = NodeCalls(plan, context, self.record)
        self._continues = continues
        self._running: dict[str, asyncio.Task[Any]] = {}
        self._done: asyncio.Queue[Completion] = asyncio.Queue()
        self._ready: list[int] = []
        self._pending: dict[str, int] = {}
        self._stopped = False  # a failure stopped the run from starting more nodes
        self._draining = False  # the run will continue as new once quiet
        self._maps: dict[str, list[Any]] = {}
        self._cancelled: set[str] = set()  # nodes the run itself cancelled
        self._resumed = snapshot is not None
        if snapshot is None:
            self._pending = {node.name: len(node.deps) for node in plan.nodes}
            self._ready = [i for i, node in enumerate(plan.nodes) if not node.deps]
        else:
            self._restore(snapshot)

    @property
    def progress(self) -> RunProgress:
        """The live progress (cumulative across continue-as-new)."""
        return self.record.progress

    async def drive(self, run_input: Any) -> Any:
        """Run every node and return the result (or continue as new)."""
        with self.record.tracing():
            return await self._drive(run_input)

    async def _drive(self, run_input: Any) -> Any:
        if not self._resumed:
            self.flow.start(run_input)
        try:
            await self._loop()
        except asyncio.CancelledError:
            if temporalio.workflow.cancellation_reason() is None:
                # Not a cancel request: the worker is evicting this run from its cache
                # (it goes on elsewhere, by replay). Scheduling work here would keep
                # this coroutine waiting for ever.
                raise
            # The run itself was cancelled: stop the nodes, wait for them to settle,
            # undo what completed, then end as cancelled.
            await self._cancel_running()
            self.record.finish("cancelled")
            await self.calls.compensate(self.flow)
            raise
        if self._draining and not self._stopped and self.record.unfinished():
            self._continue_as_new()
        return await self._conclude()

    async def _loop(self) -> None:
        while True:
            if not self._running and self.calls.checkpoints.pause_before(bool(self._ready)):
                await self.calls.checkpoints.take()
            self._launch_ready()
            if not self._running:
                return
            name, task = await self._done.get()
            del self._running[name]
            self._settle(name, task)
            self._check_continue()

    def _launch_ready(self) -> None:
        while self._ready and len(self._running) < self.calls.concurrency:
            if self._stopped or self._draining or self.calls.checkpoints.due:
                return
            node = self.plan.nodes[heapq.heappop(self._ready)]
            self.record.mark(node.name, "running")
            task = asyncio.create_task(self._run_node(node))
            # Reported by a callback, not by the coroutine: a task cancelled before it
            # first ran never enters its body, and would otherwise never report.
            task.add_done_callback(functools.partial(self._report, node.name))
            self._running[node.name] = task

    def _report(self, name: str, task: asyncio.Task[Any]) -> None:
        self._done.put_nowait((name, task))

    async def _run_node(self, node: NodePlan) -> Any:
        with self.record.trace.node_active(node.name):  # its activities are its children
            if node.map_items is not None:
                return await self._run_map(node)
            output = await self.calls.run(node, self.flow)
            self.flow.record(node.name, output)
            return output

    async def _run_map(self, node: NodePlan) -> Any:
        items = items_of(node, self.flow.input_for(node, (node.map_items or "",)))
        results = self._maps.pop(node.name, [])
        if node.map_batch is not None:
            return await self._run_batches(node, items, results)
        mapped = MapRun(
            node,
            items,
            results,
            functools.partial(self.calls.map_item, node),
            draining=self._map_draining,
            on_item=functools.partial(self.record.items_done, node.name),
            checkpoints=self.calls.checkpoints,
        )
        outcome = await mapped.drive()
        if outcome is SUSPENDED:
            self._maps[node.name] = results
            return SUSPENDED
        self.flow.record(node.name, outcome)
        return outcome

    async def _run_batches(self, node: NodePlan, items: list[Any], done: list[Any]) -> Any:
        # Batches run like map items: bounded, in order, resumable across continue-as-new.
        split = BatchPlan.of(node, items)

        async def one(index: int, batch: Any) -> Any:
            return await run_batch(self.plan, node, self.context, index, split)

        def finished(batches: int) -> None:
            self.record.items_done(node.name, sum(len(b) for b in split.batches[:batches]))

        mapped = MapRun(
            node,
            split.batches,
            done,
            one,
            draining=self._map_draining,
            on_item=finished,
            checkpoints=self.calls.checkpoints,
            concurrency=split.children,
        )
        outcome = await mapped.drive()
        if outcome is SUSPENDED:
            self._maps[node.name] = done
            return SUSPENDED
        results = [result for batch in outcome for result in batch]
        self.flow.record(node.name, results)
        return results

    def _map_draining(self) -> bool:
        self._check_continue()
        return self._draining or self._stopped

    def _settle(self, name: str, task: asyncio.Task[Any]) -> None:
        if task.cancelled():
            self._finished(name, "cancelled")
            return
        error = task.exception()
        if error is None:
            if task.result() is not SUSPENDED:  # a suspended map node stays running
                self.record.choice(name, self.flow.choice(name))
                self._finished(name, "succeeded")
            return
        if is_cancellation(error) and name in self._cancelled:
            self._finished(name, "cancelled")
            return
        if isinstance(error, ChildWorkflowError) and is_cancellation(error):
            # Cancelled by someone else (a client cancelled the child): the node failed.
            cancelled = f"child workflow '{error.workflow_id}' was cancelled"
            error = NodeFailure(cancelled, "CancelledError")
        if not isinstance(error, FAILURES):
            raise error  # a bug in the workflow itself: let the workflow task fail
        error_type, message = describe(error)
        self.record.failure(name, error_type, message)
        self._finished(name, "failed", f"{error_type}: {message}")
        if self.plan.kind == "chain" or getattr(self.plan, "on_error", None) == "fail_fast":
            self._stop()

    def _finished(self, name: str, status: NodeStatus, error: str | None = None) -> None:
        self.record.mark(name, status, error)
        # Iterative, not recursive: a skip can run down a 10,000-node chain.
        stack = [name]
        while stack:
            for succ in self.plan.successors[stack.pop()]:
                self._pending[succ] -= 1
                if self._pending[succ] == 0 and self._decide(succ):
                    stack.append(succ)

    def _decide(self, name: str) -> bool:
        """Queue `name` to run, or mark it skipped; return whether it was skipped."""
        node = self.plan.node(name)
        if any(self.record.blocks(dep) for dep in node.deps):
            self.record.skip(name, failed_branch=True)
            return True
        if not node.deps or any(self.flow.edge_taken(dep, name) for dep in node.deps):
            heapq.heappush(self._ready, self.plan.positions[name])
            return False
        self.record.skip(name, failed_branch=False)
        return True

    def _stop(self) -> None:
        self._stopped = True
        self._cancel_all()

    def _cancel_all(self) -> None:
        for name, task in self._running.items():
            self._cancelled.add(name)
            task.cancel()

    async def _cancel_running(self) -> None:
        self._cancel_all()
        while self._running:
            name, task = await self._done.get()
            del self._running[name]
            self._settle(name, task)

    def _check_continue(self) -> None:
        if not self._continues or self._draining:
            return
        info = temporalio.workflow.info()
        defaults = self.context.defaults
        if (
            info.is_continue_as_new_suggested()
            or info.get_current_history_length() >= defaults.history_events
            or info.get_current_history_size() >= defaults.history_bytes
        ):
            self._draining = True

    def _continue_as_new(self) -> None:
        snapshot = self.record.snapshot()
        self.flow.save(snapshot)
        snapshot.maps = self._maps
        arg = {CONTINUE_KEY: snapshot.model_dump(mode="json")}
        self.record.check_snapshot(arg)
        temporalio.workflow.continue_as_new(arg, memo=self.record.memo())

    def _restore(self, snapshot: Snapshot) -> None:
        self.record.restore(snapshot)
        self.flow.restore(snapshot)
        self._maps = {name: list(items) for name, items in snapshot.maps.items()}
        for index, node in enumerate(self.plan.nodes):
            status = self.record.status(node.name)
            remaining = sum(1 for dep in node.deps if not self.record.terminal(dep))
            self._pending[node.name] = remaining
            # Quiet point: a pending node whose predecessors all finished had been
            # queued to run, and a running one is a map node that stopped mid-way.
            if status == "running" or (status == "pending" and remaining == 0):
                self._ready.append(index)
        heapq.heapify(self._ready)

    async def _conclude(self) -> Any:
        outcome = Outcome(self.plan, self.record, self.flow.completed)
        failure = outcome.failure()
        if failure is None:
            outcome.warn_side_failures()
            self.record.finish("completed")
            return self.flow.result()
        if isinstance(self.plan, ChainPlan) and self.plan.on_error is not None:
            return await self._handle_chain_failure()
        self.record.finish("failed")
        await self.calls.compensate(self.flow)
        raise failure

    async def _handle_chain_failure(self) -> Any:
        assert isinstance(self.plan, ChainPlan)
        assert self.plan.on_error is not None
        recovered = await self.calls.on_error(self.plan.on_error, self.flow, self.record)
        self.record.finish("completed")
        return recovered
