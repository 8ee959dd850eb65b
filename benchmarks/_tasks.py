"""Workflow tasks of a run, read from its history: what triggered each, what it did.

A workflow task (WFT) is one round trip between the server and the worker: the server
schedules it because something happened (the run started, an activity completed, ...),
a worker runs the workflow code up to its next wait, and completes the task with
commands (schedule activities, record local-activity markers, complete the run).
"""

from __future__ import annotations

import dataclasses
import json
import re
from typing import Any

import temporalio.client
from temporalio.api.enums.v1 import EventType

# Events a workflow task's commands produce (written with its completion).
_COMMAND_EVENTS = {
    EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED,
    EventType.EVENT_TYPE_MARKER_RECORDED,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW,
    EventType.EVENT_TYPE_TIMER_STARTED,
    EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED,
    EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES,
    EventType.EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED,
}
# Events that only accompany another one (an activity's start is written with its end).
_QUIET_EVENTS = {EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED}


@dataclasses.dataclass
class WorkflowTask:
    """One workflow task: its triggers, its commands and its timings (ms from start)."""

    triggers: list[str] = dataclasses.field(default_factory=list)
    commands: list[str] = dataclasses.field(default_factory=list)
    scheduled_at: float = 0.0
    dispatch_ms: float = 0.0
    worker_ms: float = 0.0

    def render(self, number: int) -> str:
        return (
            f"  WFT {number}: scheduled at {self.scheduled_at:.1f} ms, dispatch "
            f"{self.dispatch_ms:.1f} ms, in worker {self.worker_ms:.1f} ms\n"
            f"    triggered by: {_grouped(self.triggers) or '-'}\n"
            f"    commands:     {_grouped(self.commands) or '-'}"
        )


def _event_name(event: Any) -> str:
    name = EventType.Name(event.event_type).removeprefix("EVENT_TYPE_").lower()
    return "".join(part.title() for part in name.split("_"))


def _describe(event: Any, activity_names: dict[int, str]) -> str:
    """The event's type, with the activity it concerns where there is one."""
    name = _event_name(event)
    if event.HasField("activity_task_scheduled_event_attributes"):
        activity = event.activity_task_scheduled_event_attributes.activity_type.name
        activity_names[event.event_id] = activity
        return f"{name}({activity})"
    if event.HasField("activity_task_completed_event_attributes"):
        scheduled = event.activity_task_completed_event_attributes.scheduled_event_id
        return f"{name}({activity_names.get(scheduled, '?')})"
    if event.HasField("marker_recorded_event_attributes"):
        marker = event.marker_recorded_event_attributes.marker_name
        return f"{name}({_local_activity_type(event) or marker})"
    return name


def _local_activity_type(event: Any) -> str | None:
    """A local-activity marker's activity type (its `data` detail is JSON)."""
    details = event.marker_recorded_event_attributes.details
    if "data" not in details:
        return None
    for payload in details["data"].payloads:
        with_type = re.search(rb'"activity_type"\s*:\s*"([^"]+)"', payload.data)
        if with_type:
            return with_type.group(1).decode()
        try:
            decoded = json.loads(payload.data)
        except ValueError:
            continue
        if isinstance(decoded, dict) and "activity_type" in decoded:
            return str(decoded["activity_type"])
    return None


def _grouped(names: list[str]) -> str:
    """`a, a, b` -> `2 x a, b` (order of first appearance)."""
    counts: dict[str, int] = {}
    for name in names:
        counts[name] = counts.get(name, 0) + 1
    return ", ".join(name if n == 1 else f"{n} x {name}" for name, n in counts.items())


async def workflow_tasks(client: temporalio.client.Client, workflow_id: str) -> list[WorkflowTask]:
    """Split a run's history into its workflow tasks."""
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    events = history.events
    start = events[0].event_time.ToDatetime()

    def at(event: Any) -> float:
        return (event.event_time.ToDatetime() - start).total_seconds() * 1000

    tasks: list[WorkflowTask] = []
    pending: list[str] = []  # what happened since the last task was scheduled
    activity_names: dict[int, str] = {}
    current: WorkflowTask | None = None
    started = 0.0
    after_completion = False
    for event in events:
        kind = event.event_type
        if kind == EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED:
            current = WorkflowTask(triggers=pending, scheduled_at=at(event))
            after_completion = False
        elif kind == EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED and current is not None:
            # What arrived between scheduled and started is in the task's history too.
            current.dispatch_ms = at(event) - current.scheduled_at
            started = at(event)
            pending = []
        elif kind == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED and current is not None:
            current.worker_ms = at(event) - started
            tasks.append(current)
            after_completion = True
        elif kind in _QUIET_EVENTS:
            continue
        elif after_completion and kind in _COMMAND_EVENTS:
            tasks[-1].commands.append(_describe(event, activity_names))
        else:
            after_completion = False
            pending.append(_describe(event, activity_names))
    return tasks


def render(label: str, workflow_id: str, tasks: list[WorkflowTask], eager: bool) -> str:
    """A run's workflow tasks as an indented text block."""
    head = (
        f"{label}: {len(tasks)} workflow task(s); started "
        f"{'eagerly (first task handed to the in-process worker)' if eager else 'normally'}"
        f" [{workflow_id}]"
    )
    return "\n".join([head, *(task.render(i) for i, task in enumerate(tasks, 1))])
