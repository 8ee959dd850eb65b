"""Inside Temporal workflows: generated workflow classes and the one interpreter.

Everything here runs on the workflow side (except `WorkflowTarget`'s bookkeeping): it
never does I/O, reads clocks or randomness, or imports anything non-deterministic (no
`openai`, no `structlog`, no HTTP clients).
"""

from beluga_temporal.engine._batch import MAP_BATCH_WORKFLOW, MapBatch, uses_batches
from beluga_temporal.engine._calls import STEP_METADATA, call_step
from beluga_temporal.engine._failures import (
    GRAPH_FAILED,
    INVALID_RUN_INPUT,
    STEP_FAILED,
    ErrorInfo,
    describe,
    details_of,
)
from beluga_temporal.engine._generated import versions_of
from beluga_temporal.engine._progress import (
    PROGRESS_QUERY,
    NodeProgress,
    NodeStatus,
    RunProgress,
    RunStatus,
    Usage,
)
from beluga_temporal.engine._session import CLOSE_SIGNAL, MEMORY_QUERY, TURN_UPDATE
from beluga_temporal.engine._snapshot import CONTINUE_KEY
from beluga_temporal.engine._target import WorkflowTarget, unique_steps, workflow_classes
from beluga_temporal.engine._versions import START_ACTIVITY, PlanVersions

__all__ = [
    "CLOSE_SIGNAL",
    "CONTINUE_KEY",
    "GRAPH_FAILED",
    "INVALID_RUN_INPUT",
    "MAP_BATCH_WORKFLOW",
    "MEMORY_QUERY",
    "PROGRESS_QUERY",
    "START_ACTIVITY",
    "STEP_FAILED",
    "STEP_METADATA",
    "TURN_UPDATE",
    "ErrorInfo",
    "MapBatch",
    "NodeProgress",
    "NodeStatus",
    "PlanVersions",
    "RunProgress",
    "RunStatus",
    "Usage",
    "WorkflowTarget",
    "call_step",
    "describe",
    "details_of",
    "unique_steps",
    "uses_batches",
    "versions_of",
    "workflow_classes",
]
