"""Clients: `Orchestrator` starts runs, waits for results and follows progress."""

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
    "Orchestrator",
    "StartTarget",
    "WorkflowRun",
    "WorkflowStarter",
    "translate",
    "workflow_type_of",
]
