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
from beluga_temporal.client._session import ChainSession

__all__ = [
    "DEFAULT_TASK_QUEUE",
    "ChainSession",
    "Handler",
    "Orchestrator",
    "RunControl",
    "RunDescription",
    "StartTarget",
    "WorkflowRun",
    "WorkflowStarter",
    "translate",
    "workflow_type_of",
]
