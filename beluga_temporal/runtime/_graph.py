"""Workflow side: run a graph plan with a dependency-driven scheduler.

A node starts as soon as every predecessor is done; there are no rounds or barriers.
Everything here is deterministic: iteration follows the plan's topological order and
completions are processed in the order the workflow's event loop delivers them, which
replay reproduces exactly.
"""

from __future__ import annotations

import asyncio
import functools
from typing import Any

import temporalio.workflow
from temporalio.exceptions import ActivityError, ApplicationError, CancelledError

from beluga_temporal.plan import GraphPlan, NodePlan
from beluga_temporal.runtime._calls import call_step
from beluga_temporal.runtime._failures import describe, graph_failed
from beluga_temporal.runtime._graph_state import GraphState, GraphStateError
from beluga_temporal.runtime._progress import NodeProgress, NodeStatus, RunProgress
from beluga_temporal.runtime._tracing import node_span, run_span

Completion = tuple[str, BaseException | None]


class GraphRun:
    """One execution of a graph inside its workflow."""

    def __init__(self, plan: GraphPlan) -> None:
        self.plan = plan
        self.progress = RunProgress(
            name=plan.name,
            kind="graph",
            nodes={node.name: NodeProgress(step=node.step.name) for node in plan.nodes},
        )
        self.state = GraphState(plan)
        self.failure: tuple[str, str, str] | None = None
        self._running: dict[str, asyncio.Task[None]] = {}
        self._done: asyncio.Queue[Completion] = asyncio.Queue()

    async def execute(self, initial: Any) -> dict[str, Any]:
        """Run every node and return the merged final state."""
        self.state.start(initial)
        try:
            await self._schedule()
        except asyncio.CancelledError:
            # Cancellation of the run: stop the nodes, undo what was done, then give up.
            await self._cancel_running()
            self._finish("failed")
            await self._compensate()
            raise
        if self.failure is not None:
            self._finish("failed")
            await self._compensate()
            node, error_type, message = self.failure
            raise graph_failed(
                self.plan.name,
                node,
                error_type,
                message,
                self.completed,
                self._with_status("skipped"),
                self._with_status("cancelled"),
            )
        self._finish("completed")
        return self.state.final()

    @property
    def completed(self) -> list[str]:
        """Nodes that succeeded, in completion order."""
        return list(self.state.completed)

    def _with_status(self, status: str) -> list[str]:
        return [n for n, p in self.progress.nodes.items() if p.status == status]

    async def _schedule(self) -> None:
        while True:
            if self.failure is None or self.plan.on_error == "continue":
                self._launch_ready()
            if not self._running:
                return
            name, error = await self._done.get()
            del self._running[name]
            if error is not None:
                await self._on_node_error(name, error)

    def _launch_ready(self) -> None:
        for node in self.plan.nodes:
            if len(self._running) >= self.plan.concurrency:
                return
            if self.progress.nodes[node.name].status != "pending":
                continue
            decision = self._readiness(node)
            if decision == "run":
                self._mark(node.name, "running")
                task = asyncio.create_task(self._run_node(node))
                # Reported by a callback, not by the coroutine: a task cancelled before it
                # first ran never enters its body, and would otherwise never report.
                task.add_done_callback(functools.partial(self._report_done, node.name))
                self._running[node.name] = task
            elif decision == "skip":
                self._mark(node.name, "skipped")

    def _readiness(self, node: NodePlan) -> str:
        statuses = [self.progress.nodes[dep].status for dep in node.deps]
        if any(s in ("failed", "cancelled") for s in statuses):
            return "skip"
        if any(s in ("pending", "running") for s in statuses):
            return "wait"
        if not node.deps or any(self.state.edge_taken(dep, node.name) for dep in node.deps):
            return "run"
        return "skip"

    def _report_done(self, name: str, task: asyncio.Task[None]) -> None:
        error = asyncio.CancelledError() if task.cancelled() else task.exception()
        self._done.put_nowait((name, error))

    async def _run_node(self, node: NodePlan) -> None:
        node_input = self.state.input_for(node.name)
        output = await self._call_node(node, node_input)
        self.state.record(node.name, node_input, output)
        self._mark(node.name, "succeeded")

    async def _call_node(self, node: NodePlan, node_input: dict[str, Any]) -> Any:
        try:
            return await self._call_step(node, node_input)
        except ActivityError as error:
            if isinstance(error.cause, CancelledError):
                raise asyncio.CancelledError() from error  # cancelled is not failed
            if node.fallback is None:
                raise
        self.progress.nodes[node.name].fallback = True
        return await call_step(node.fallback, node_input, **self._report(node))

    async def _call_step(self, node: NodePlan, node_input: dict[str, Any]) -> Any:
        if node.map_items is None:
            return await call_step(node.step, node_input, **self._report(node))
        items = node_input.get(node.map_items)
        if not isinstance(items, list):
            raise ApplicationError(
                f"map node '{node.name}' needs a list in state[{node.map_items!r}], "
                f"got {type(items).__name__}",
                type="MapInputError",
                non_retryable=True,
            )
        return await self._map(node, items)

    def _report(self, node: NodePlan) -> dict[str, Any]:
        return {"usage": self.progress.usage, "node": self.progress.nodes[node.name]}

    async def _map(self, node: NodePlan, items: list[Any]) -> list[Any]:
        # A semaphore bounds in-flight activities so 1,000 items do not flood the server.
        limit = asyncio.Semaphore(node.map_concurrency)

        async def one(item: Any) -> Any:
            async with limit:
                # Items are elements of state the server already accepted.
                return await call_step(node.step, item, check_input=False, **self._report(node))

        tasks = [asyncio.create_task(one(item)) for item in items]
        try:
            return [await task for task in tasks]
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _on_node_error(self, name: str, error: BaseException) -> None:
        if isinstance(error, asyncio.CancelledError):
            self._mark(name, "cancelled")
            return
        if isinstance(error, GraphStateError):
            error_type, message = error.error_type, str(error)
        elif isinstance(error, ActivityError | ApplicationError):
            error_type, message = describe(error)
        else:
            raise error  # a bug in the workflow itself: let the workflow task fail and retry
        self._mark(name, "failed", f"{error_type}: {message}")
        if self.failure is None:
            self.failure = (name, error_type, message)
            if self.plan.on_error == "fail_fast":
                await self._cancel_running()

    async def _cancel_running(self) -> None:
        for task in self._running.values():
            task.cancel()
        while self._running:
            name, _ = await self._done.get()
            del self._running[name]
            if self.progress.nodes[name].status == "running":
                self._mark(name, "cancelled")

    async def _compensate(self) -> None:
        for name in reversed(self.state.completed):
            node = self.plan.node(name)
            if node.compensate is None:
                continue
            try:
                await call_step(node.compensate, self.state.after(name))
            except (ActivityError, ApplicationError) as error:
                # A failed compensation must not stop the others from running.
                temporalio.workflow.logger.warning(
                    "compensation of node %s failed: %s", name, describe(error)
                )

    def _mark(self, node: str, status: NodeStatus, error: str | None = None) -> None:
        self.progress.mark(node, status, error)
        step = self.progress.nodes[node].step
        node_span("graph", self.plan.name, node, step, status, error)

    def _finish(self, status: str) -> None:
        for name, node in self.progress.nodes.items():
            if node.status == "pending":  # never reached: the run stopped first
                self._mark(name, "skipped")
        self.progress.status = "completed" if status == "completed" else "failed"
        run_span("graph", self.plan.name, len(self.plan.nodes), self.progress.status)
