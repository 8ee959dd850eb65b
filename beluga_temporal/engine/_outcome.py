"""Workflow side: whether a finished run succeeded, and the error it fails with.

A chain fails when a step failed (unless its `on_error` handler recovers). A graph with
`on_error="fail_fast"` fails at its first failed node. With `on_error="continue"` its
finish points decide: the run completes when every finish point succeeded or was not
chosen by a route, and at least one succeeded; failed side branches are then listed in
the progress and logged at WARNING.
"""

from __future__ import annotations

import temporalio.workflow
from temporalio.exceptions import ApplicationError

from beluga_temporal.engine._failures import graph_failed, step_failed_error
from beluga_temporal.engine._record import Recorder
from beluga_temporal.plan import ChainPlan, GraphPlan, Plan


class Outcome:
    """Decides how a run that stopped scheduling ends."""

    def __init__(self, plan: Plan, record: Recorder, completed: list[str]) -> None:
        self.plan = plan
        self.record = record
        self.completed = completed

    def failure(self) -> ApplicationError | None:
        """The error the run fails with, or `None` when it succeeded."""
        failures = self.record.failures
        if isinstance(self.plan, ChainPlan):
            if not failures:
                return None
            node, error_type, message = failures[0]
            return step_failed_error(self.plan.name, self.plan.node(node).runs, error_type, message)
        unfinished = self._unfinished_finish_points()
        if self.plan.on_error == "fail_fast" and failures:
            return self._graph_error(self.plan, unfinished=[])
        if not unfinished and (self._some_finish_point_succeeded() or not failures):
            return None
        return self._graph_error(self.plan, unfinished)

    def warn_side_failures(self) -> None:
        """Log the failed side branches of a run that completed anyway."""
        for node, error_type, message in self.record.failures:
            temporalio.workflow.logger.warning(
                "node %s of %s failed (%s: %s); the run completes because its finish "
                "points succeeded",
                node,
                self.plan.name,
                error_type,
                message,
            )

    def _unfinished_finish_points(self) -> list[str]:
        return [
            name
            for name in self.plan.finish_points
            if self.record.status(name) in ("failed", "cancelled", "pending", "running")
            or name in self.record.failed_skips
        ]

    def _some_finish_point_succeeded(self) -> bool:
        return any(self.record.status(name) == "succeeded" for name in self.plan.finish_points)

    def _graph_error(self, plan: GraphPlan, unfinished: list[str]) -> ApplicationError:
        record = self.record
        if record.failures:
            node, error_type, message = record.failures[0]
        else:
            node, error_type, message = unfinished[0], "NotReached", "finish point not reached"
        return graph_failed(
            plan.name,
            node,
            error_type,
            message,
            list(self.completed),
            record.with_status("skipped"),
            record.with_status("cancelled"),
            unfinished,
        )
