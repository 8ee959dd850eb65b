"""A chain whose step reports whether its own run was started eagerly.

The server records eager workflow start in the run's first event
(`WorkflowExecutionStarted.eager_execution_accepted`): the first workflow task was
handed to the starter's own worker in the start response, without a round trip
through the task queue. The step reads its run's history to find out, so a test sees
it through any starter, including `beluga run --local` in a process of its own.
"""

from __future__ import annotations

from typing import Any

import temporalio.activity

from beluga_temporal import Chain, step


@step
async def eagerly_started(value: Any) -> dict[str, Any]:
    info = temporalio.activity.info()
    handle = temporalio.activity.client().get_workflow_handle(
        info.workflow_id or "", run_id=info.workflow_run_id
    )
    async for event in handle.fetch_history_events():
        return {"eager": event.workflow_execution_started_event_attributes.eager_execution_accepted}
    raise AssertionError("the run has no history")


probe = Chain("eager-probe", steps=[eagerly_started], local=True)
remote_probe = Chain("eager-probe-remote", steps=[eagerly_started])
