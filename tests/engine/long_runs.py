"""Steps and helpers for the long-run tests (module level so histories replay)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pydantic
import temporalio.activity
import temporalio.client
from temporalio.api.enums.v1 import EventType

from beluga_temporal import RetryPolicy, step

CALLS: Counter[str] = Counter()


@step
async def inc(x: int) -> int:
    return x + 1


@step
async def square(x: int) -> int:
    CALLS[f"square-{x}"] += 1
    return x * x


@step(retry=RetryPolicy(max_attempts=1))
async def square_but_seven(x: int) -> int:
    if x == 7:
        raise ValueError("seven is not allowed")
    return x * x


@step
async def add_kilobyte(state: dict[str, Any]) -> dict[str, Any]:
    """Add one 1 KB key: the state grows by a kilobyte per node."""
    count = sum(1 for key in state if key.startswith("k"))
    return {f"k{count:04d}": "x" * 1024}


class Counted(pydantic.BaseModel):
    count: int = 0


@step
async def count_up(state: Counted) -> dict[str, Any]:
    """Reads only `count` (its model's field), whatever else the state holds."""
    CALLS["count_up"] += 1
    return {"count": state.count + 1, f"blob{state.count}": "y" * 1024}


@step
async def count_to_five(state: Counted) -> dict[str, Any]:
    return {"count": 5}


@step
async def input_size(state: dict[str, Any]) -> dict[str, Any]:
    return {"seen_keys": sorted(state)}


async def run_histories(
    client: temporalio.client.Client, workflow_id: str, first_run_id: str
) -> list[temporalio.client.WorkflowHistory]:
    """The histories of every Temporal run of one beluga run, following continue-as-new."""
    histories = []
    run_id: str | None = first_run_id
    while run_id:
        history = await client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history()
        histories.append(history)
        last = history.events[-1]
        run_id = None
        if last.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW:
            run_id = last.workflow_execution_continued_as_new_event_attributes.new_execution_run_id
    return histories


def scheduled_inputs(history: temporalio.client.WorkflowHistory) -> Iterator[int]:
    """Size in bytes of every activity input a history scheduled."""
    for event in history.events:
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            yield event.activity_task_scheduled_event_attributes.input.ByteSize()


def attempt() -> int:
    return temporalio.activity.info().attempt
