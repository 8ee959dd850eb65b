"""Workflow side: which plan version a run executes, and with which settings.

A run records, when it starts, the fingerprint of its plan and the defaults it runs
with (see `plan.StartContext`). beluga's starters put them in the start memo; a run
started by another client (`temporal workflow start`) or by a parent asks the worker in
a local activity, whose result history keeps. A continued run reads them from its
snapshot. The worker then runs the plan with that fingerprint among the versions it
knows (the newest declaration and its `previous=`), and never reshapes a run silently:
a run on an unknown plan fails its workflow task with a message saying how to fix it,
and continues once a worker that knows its plan picks it up.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import temporalio.common
import temporalio.workflow
from temporalio.exceptions import ActivityError, ApplicationError

from beluga_temporal.engine._failures import INVALID_RUN_INPUT, describe, invalid_input
from beluga_temporal.engine._snapshot import CONTINUE_KEY, Snapshot, is_snapshot
from beluga_temporal.errors import UnknownPlanError
from beluga_temporal.plan import MEMO_KEY, Plan, StartContext, fingerprint

START_ACTIVITY = "beluga.start"
"""Local activity (wire format) a worker runs to start a run no beluga starter set up."""
START_TIMEOUT = timedelta(seconds=30)


class PlanVersions:
    """The plan versions one workflow type can run: the newest and the previous ones."""

    def __init__(self, newest: Plan, previous: Sequence[Plan] = ()) -> None:
        self.newest = newest
        self.newest_fingerprint = fingerprint(newest)
        self.by_fingerprint: dict[str, Plan] = {}
        for plan in [*reversed(previous), newest]:  # the newest wins a (harmless) tie
            self.by_fingerprint[fingerprint(plan)] = plan

    @property
    def name(self) -> str:
        """The workflow type name."""
        return self.newest.name

    def plan(self, started: str, workflow_id: str) -> Plan:
        """The plan a run started on.

        Raises:
            UnknownPlanError: This process does not know that version.
        """
        plan = self.by_fingerprint.get(started)
        if plan is not None:
            return plan
        newest = self.newest_fingerprint
        known = [newest, *(f for f in self.by_fingerprint if f != newest)]
        kind = self.newest.kind.title()
        raise UnknownPlanError(
            f"workflow '{workflow_id}' ({self.name}) started on plan {started}, which this "
            f"worker does not know (it knows {', '.join(known)}; newest {known[0]}). Deploy "
            f"a worker that knows it: add the old declaration to "
            f"{kind}('{self.name}', ..., previous=[...]), or keep a worker with the old "
            "code running until the run finishes",
            workflow_id=workflow_id,
            started=started,
            known=known,
        )


@dataclasses.dataclass
class Start:
    """How a run begins: its plan, context, input, and snapshot when it continues."""

    plan: Plan
    context: StartContext
    input: Any
    snapshot: Snapshot | None = None


async def begin(versions: PlanVersions, arg: Any) -> Start:
    """Resolve a run's plan version and settings (recorded in history, replay-safe)."""
    workflow_id = temporalio.workflow.info().workflow_id
    if is_snapshot(arg):
        snapshot = Snapshot.model_validate(arg[CONTINUE_KEY])
        context = StartContext.from_json(snapshot.context)
        assert context is not None  # written by `Recorder.snapshot`
        return Start(versions.plan(context.plan, workflow_id), context, None, snapshot)
    context = StartContext.from_json(temporalio.workflow.memo_value(MEMO_KEY, None))
    if context is not None and context.validated:
        return Start(versions.plan(context.plan, workflow_id), context, arg)
    context, arg = await _ask_worker(versions, context, arg)
    return Start(versions.plan(context.plan, workflow_id), context, arg)


async def _ask_worker(
    versions: PlanVersions, context: StartContext | None, arg: Any
) -> tuple[StartContext, Any]:
    request = {
        "workflow_type": versions.name,
        "plan": None if context is None else context.plan,
        "input": arg,
    }
    try:
        answer = await temporalio.workflow.execute_local_activity(
            START_ACTIVITY,
            request,
            start_to_close_timeout=START_TIMEOUT,
            retry_policy=temporalio.common.RetryPolicy(
                maximum_attempts=3, non_retryable_error_types=[INVALID_RUN_INPUT]
            ),
        )
    except ActivityError as error:
        error_type, message = describe(error)
        if error_type == INVALID_RUN_INPUT:
            raise invalid_input(versions.name, message) from None
        raise ApplicationError(
            f"the worker could not start '{versions.name}': {error_type}: {message}",
            type="StartFailed",
            non_retryable=True,
        ) from None
    if context is not None:  # a parent chose the plan and defaults; only validation was asked
        return dataclasses.replace(context, validated=True), answer["input"]
    started = StartContext.from_json(answer["context"])
    assert started is not None
    # Shown by `beluga describe` and the Web UI, like runs beluga started.
    temporalio.workflow.upsert_memo({MEMO_KEY: started.to_json()})
    return started, answer["input"]
