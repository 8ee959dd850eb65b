"""Workers: `create_worker`, and the activity side of steps (bodies, errors, start)."""

from beluga_temporal.worker._activity import StepBody, report_usage
from beluga_temporal.worker._errors import INPUT_VALIDATION_ERROR, RESULT_TYPE_ERROR
from beluga_temporal.worker._worker import (
    Overrides,
    WorkerTarget,
    create_worker,
    step_activities,
    workflows_of,
)

__all__ = [
    "INPUT_VALIDATION_ERROR",
    "RESULT_TYPE_ERROR",
    "Overrides",
    "StepBody",
    "WorkerTarget",
    "create_worker",
    "report_usage",
    "step_activities",
    "workflows_of",
]
