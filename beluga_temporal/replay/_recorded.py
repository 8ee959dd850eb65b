"""Read, from an exported history, which plan version the run executed.

A run records its `StartContext` (plan fingerprint and defaults) in one of three
places: the memo of its WorkflowExecutionStarted event (runs beluga started), the
result of the `beluga.start` local activity marker (runs started by other clients,
e.g. `temporal workflow start`), or the snapshot argument of a continued run.
"""

from __future__ import annotations

import json
from typing import Any

import temporalio.api.common.v1
import temporalio.api.history.v1
import temporalio.client
import temporalio.converter

from beluga_temporal.engine import CONTINUE_KEY, START_ACTIVITY
from beluga_temporal.plan import MEMO_KEY, StartContext

LOCAL_ACTIVITY_MARKER = "core_local_activity"
"""Marker name (Temporal core's wire format) of a local activity's result."""


def workflow_type(history: temporalio.client.WorkflowHistory) -> str | None:
    """The history's workflow type name, or `None` when it has no start event."""
    started = _started(history)
    return None if started is None else started.workflow_type.name


async def recorded_plan(
    history: temporalio.client.WorkflowHistory, converter: temporalio.converter.DataConverter
) -> str | None:
    """Return the fingerprint of the plan the run executed, `None` if none was recorded.

    `converter` decodes payloads (with the payload codec, so encrypted histories need
    the key); a hand-written workflow records no plan.

    Raises:
        Exception: A payload cannot be decoded (e.g. encrypted with an unknown key).
    """
    started = _started(history)
    if started is None:
        return None
    memo = started.memo.fields.get(MEMO_KEY)
    if memo is not None:
        context = StartContext.from_json(await _decode(converter, memo))
        if context is not None:
            return context.plan
    if started.input.payloads:
        first = await _decode(converter, started.input.payloads[0])
        if isinstance(first, dict) and CONTINUE_KEY in first:
            return _plan_in(first[CONTINUE_KEY])
    for event in history.events:
        answer = await _start_activity_result(event, converter)
        if answer is not None:
            return _plan_in(answer)
    return None


def _started(
    history: temporalio.client.WorkflowHistory,
) -> temporalio.api.history.v1.WorkflowExecutionStartedEventAttributes | None:
    events = list(history.events)
    if not events or not events[0].HasField("workflow_execution_started_event_attributes"):
        return None
    return events[0].workflow_execution_started_event_attributes


async def _start_activity_result(
    event: temporalio.api.history.v1.HistoryEvent, converter: temporalio.converter.DataConverter
) -> Any:
    """The result of the `beluga.start` local activity if `event` records it."""
    if not event.HasField("marker_recorded_event_attributes"):
        return None
    marker = event.marker_recorded_event_attributes
    if marker.marker_name != LOCAL_ACTIVITY_MARKER:
        return None
    data, result = marker.details.get("data"), marker.details.get("result")
    if data is None or result is None or not data.payloads or not result.payloads:
        return None
    # Core writes the marker's own data as plain JSON (never through the codec).
    try:
        activity_type = json.loads(data.payloads[0].data).get("activity_type")
    except (ValueError, AttributeError):
        return None
    if activity_type != START_ACTIVITY:
        return None
    return await _decode(converter, result.payloads[0])


def _plan_in(data: Any) -> str | None:
    context = StartContext.from_json(data.get("context") if isinstance(data, dict) else None)
    return None if context is None else context.plan


async def _decode(
    converter: temporalio.converter.DataConverter, payload: temporalio.api.common.v1.Payload
) -> Any:
    return (await converter.decode([payload]))[0]
