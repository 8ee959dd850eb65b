"""Workflow side: run a chain plan step after step."""

from __future__ import annotations

import asyncio
from typing import Any

from temporalio.exceptions import ActivityError, ApplicationError, CancelledError

from beluga_temporal.plan import ChainPlan
from beluga_temporal.runtime._calls import call_step
from beluga_temporal.runtime._failures import ErrorInfo, describe, step_failed
from beluga_temporal.runtime._progress import NodeProgress, NodeStatus, RunProgress, RunStatus
from beluga_temporal.runtime._tracing import node_span, run_span


class ChainRun:
    """One execution of a chain inside its workflow."""

    def __init__(self, plan: ChainPlan) -> None:
        self.plan = plan
        self.progress = RunProgress(
            name=plan.name,
            kind="chain",
            nodes={
                label: NodeProgress(step=opts.name)
                for label, opts in zip(plan.labels, plan.steps, strict=True)
            },
        )

    async def execute(self, value: Any) -> Any:
        """Feed `value` through every step; the last output is the result."""
        try:
            result = await self._run_steps(value)
        except BaseException:
            self._finish("failed")
            raise
        self._finish("completed")
        return result

    async def run_turn(self, value: Any) -> Any:
        """Run the steps once more (a session turn), resetting per-step progress."""
        for node in self.progress.nodes.values():
            node.status, node.error, node.attempts = "pending", None, 0
        return await self._run_steps(value, new_input=True)

    async def _run_steps(self, value: Any, *, new_input: bool = False) -> Any:
        # Only a turn's memory-merged input is new to the server; the run input and each
        # step's result were size-checked when they were accepted.
        check_input = new_input
        for label, options in zip(self.plan.labels, self.plan.steps, strict=True):
            self._mark(label, "running")
            try:
                output = await call_step(
                    options,
                    value,
                    usage=self.progress.usage,
                    node=self.progress.nodes[label],
                    check_input=check_input,
                )
            except (ActivityError, ApplicationError) as error:
                # ApplicationError: the step could not even be scheduled (oversized input).
                if isinstance(error, ActivityError) and isinstance(error.cause, CancelledError):
                    # The run itself was cancelled: end it as cancelled, not as a failure.
                    self._mark(label, "cancelled")
                    raise asyncio.CancelledError() from error
                error_type, message = describe(error)
                self._mark(label, "failed", f"{error_type}: {message}")
                return await self._handle_failure(options.name, value, error)
            self._mark(label, "succeeded")
            value, check_input = output, False
        return value

    def _mark(self, label: str, status: NodeStatus, error: str | None = None) -> None:
        self.progress.mark(label, status, error)
        node_span("chain", self.plan.name, label, self.progress.nodes[label].step, status, error)

    def _finish(self, status: RunStatus) -> None:
        self.progress.status = status
        run_span("chain", self.plan.name, len(self.plan.steps), status)

    async def _handle_failure(
        self, step: str, value: Any, error: ActivityError | ApplicationError
    ) -> Any:
        if self.plan.on_error is None:
            raise step_failed(self.plan.name, step, error) from error
        error_type, message = describe(error)
        info = ErrorInfo(step=step, error_type=error_type, message=message, input=value)
        try:
            return await call_step(self.plan.on_error, info, usage=self.progress.usage)
        except (ActivityError, ApplicationError) as handler_error:
            raise step_failed(self.plan.name, self.plan.on_error.name, handler_error) from error
