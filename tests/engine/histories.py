"""Reading histories in tests: event names, remote activities, workflow tasks."""

from __future__ import annotations

import dataclasses

import temporalio.client
from temporalio.api.enums.v1 import EventType

_COMMAND_EVENTS = {
    "ACTIVITY_TASK_SCHEDULED",
    "ACTIVITY_TASK_CANCEL_REQUESTED",
    "MARKER_RECORDED",
    "TIMER_STARTED",
    "TIMER_CANCELED",
    "START_CHILD_WORKFLOW_EXECUTION_INITIATED",
    "REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED",
    "WORKFLOW_PROPERTIES_MODIFIED",
    "UPSERT_WORKFLOW_SEARCH_ATTRIBUTES",
    "WORKFLOW_EXECUTION_COMPLETED",
    "WORKFLOW_EXECUTION_FAILED",
    "WORKFLOW_EXECUTION_CANCELED",
    "WORKFLOW_EXECUTION_CONTINUED_AS_NEW",
}
"""Events a workflow task's commands write, right after its `WorkflowTaskCompleted`."""


def event_names(history: temporalio.client.WorkflowHistory) -> list[str]:
    """The history's event types, without the `EVENT_TYPE_` prefix."""
    return [EventType.Name(e.event_type).removeprefix("EVENT_TYPE_") for e in history.events]


def scheduled_activities(history: temporalio.client.WorkflowHistory) -> dict[str, str]:
    """Remote activities the run scheduled: activity type -> task queue."""
    found = {}
    for event in history.events:
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            attributes = event.activity_task_scheduled_event_attributes
            found[attributes.activity_type.name] = attributes.task_queue.name
    return found


@dataclasses.dataclass
class WorkflowTask:
    """One completed workflow task: the completions it saw and the commands it issued."""

    completions: list[str] = dataclasses.field(default_factory=list)
    """Activities whose completion the task was the first to see."""
    commands: list[str] = dataclasses.field(default_factory=list)
    """`ACTIVITY_TASK_SCHEDULED(name)`, `MARKER_RECORDED`, `WORKFLOW_EXECUTION_COMPLETED`, ..."""


def workflow_tasks(history: temporalio.client.WorkflowHistory) -> list[WorkflowTask]:
    """Split a history into its completed workflow tasks."""
    names = event_names(history)
    activities: dict[int, str] = {}
    tasks: list[WorkflowTask] = []
    seen: list[str] = []  # completions since the last task started
    started: list[str] = []
    in_commands = False
    for event, name in zip(history.events, names, strict=True):
        if name == "ACTIVITY_TASK_SCHEDULED":
            activities[event.event_id] = (
                event.activity_task_scheduled_event_attributes.activity_type.name
            )
        if in_commands and name in _COMMAND_EVENTS:
            label = name
            if name == "ACTIVITY_TASK_SCHEDULED":
                label = f"{name}({activities[event.event_id]})"
            tasks[-1].commands.append(label)
            continue
        in_commands = False
        if name == "ACTIVITY_TASK_COMPLETED":
            seen.append(
                activities[event.activity_task_completed_event_attributes.scheduled_event_id]
            )
        elif name == "WORKFLOW_TASK_STARTED":
            started, seen = seen, []
        elif name == "WORKFLOW_TASK_COMPLETED":
            tasks.append(WorkflowTask(completions=started))
            in_commands = True
    return tasks
