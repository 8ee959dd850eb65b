"""Clients: `Orchestrator` starts runs, waits for results, follows and controls them."""

from beluga_temporal.client._control import Handler, RunControl, RunDescription
from beluga_temporal.client._errors import translate
from beluga_temporal.client._orchestrator import (
    DEFAULT_TASK_QUEUE,
    Orchestrator,
    StartTarget,
    WorkflowRun,
    WorkflowStarter,
    workflow_type_of,
)
from beluga_temporal.client._pollers import (
    QueueNeed,
    annotate_waiting,
    check_pollers_soon,
    needed_queues,
    poller_checks_done,
    pollers,
    step_queue,
    warn_unpolled,
)
from beluga_temporal.client._session import ChainSession
from beluga_temporal.client._stalls import (
    WorkflowTaskFailure,
    failing_workflow_task,
    last_workflow_task_failure,
    unless_stalled,
)

__all__ = [
    "DEFAULT_TASK_QUEUE",
    "ChainSession",
    "Handler",
    "Orchestrator",
    "QueueNeed",
    "RunControl",
    "RunDescription",
    "StartTarget",
    "WorkflowRun",
    "WorkflowStarter",
    "WorkflowTaskFailure",
    "annotate_waiting",
    "check_pollers_soon",
    "failing_workflow_task",
    "last_workflow_task_failure",
    "needed_queues",
    "poller_checks_done",
    "pollers",
    "step_queue",
    "translate",
    "unless_stalled",
    "warn_unpolled",
    "workflow_type_of",
]
