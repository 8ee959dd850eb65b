"""What a running step can ask Temporal: its identity, heartbeats, resume details."""

from __future__ import annotations

import dataclasses
from typing import Any

import temporalio.activity

from beluga_temporal.errors import ExecutionError


@dataclasses.dataclass(frozen=True)
class StepContext:
    """Who and where the running step is.

    Temporal runs activities at least once: a worker can crash after a payment went out
    and before Temporal heard of it, and the retry charges again. Pass
    `idempotency_key` to the service (or use it as a unique key in your own ledger) so
    the second charge is recognised and skipped.
    """

    step: str
    """The step (activity type) name."""
    workflow_id: str
    """The workflow id of the run that scheduled the step."""
    run_id: str
    """The run id of that run."""
    activity_id: str
    """The id Temporal gave this scheduled step; the same for every retry."""
    attempt: int
    """The attempt number, starting at 1."""
    workflow_type: str
    """The workflow type (chain or graph name) that scheduled the step."""
    task_queue: str
    """The task queue the step was dispatched on."""

    @property
    def idempotency_key(self) -> str:
        """`workflow_id/run_id/activity_id`: one key per scheduled step of one run.

        The same for every attempt of that step: retries, worker crashes and server
        restarts keep it, so a retried side effect is recognised. Different in every
        other run: activity ids are sequence numbers that restart with each run, so the
        run id keeps a new run under a reused workflow id (re-running an order under its
        id, a workflow retry, a reset) and each continue-as-new continuation from
        reusing the keys of an earlier run and having a different charge deduplicated
        away. To do something once per business entity whatever the runs (charge an
        order once, ever), key it by the entity (the order id) as well.
        """
        return f"{self.workflow_id}/{self.run_id}/{self.activity_id}"


def step_context() -> StepContext:
    """Return the running step's identity, attempt and idempotency key.

    Raises:
        ExecutionError: Not called from a step running as a Temporal activity (e.g. a
            direct call in a unit test).
    """
    if not temporalio.activity.in_activity():
        raise ExecutionError(
            "step_context() is only available while a step runs as a Temporal activity"
        )
    info = temporalio.activity.info()
    return StepContext(
        step=info.activity_type,
        workflow_id=info.workflow_id or "",
        run_id=info.workflow_run_id or "",
        activity_id=info.activity_id,
        attempt=info.attempt,
        workflow_type=info.workflow_type or "",
        task_queue=info.task_queue,
    )


def heartbeat(*details: Any) -> None:
    """Tell Temporal the step is alive, recording progress `details` for a retry.

    Needed for `heartbeat_timeout` and for cancellation to reach a remote step. Cheap
    to call often: the SDK throttles what it sends. Outside an activity it does nothing.

    Args:
        *details: JSON-able progress (e.g. the index of the last item done) that the
            next attempt reads with `last_heartbeat_details()`.
    """
    if temporalio.activity.in_activity():
        temporalio.activity.heartbeat(*details)


def last_heartbeat_details() -> tuple[Any, ...]:
    """Return the details of the previous attempt's last heartbeat, to resume from.

    Empty on a first attempt, when the previous attempt never heartbeated, and outside
    activities. Models come back as plain JSON values (dicts, lists).
    """
    if not temporalio.activity.in_activity():
        return ()
    return tuple(temporalio.activity.info().heartbeat_details)
