"""`LocalRuntime.start(target, input, overrides={step: fake})` (issue 14.6).

`execute` and `invoke` with overrides are tested in `tests/testing/test_toolkit.py`;
`start` hands back a handle while the run goes on, so a faked run and a real one can
be in flight at once: each must run its own step. That test runs on the dev server: on
the time-skipping server, two results awaited at once can let time skip past a workflow
task's timeout (temporalio/sdk-java#1291), which fails a run for no fault of its own.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from temporalio.api.enums.v1 import EventType

from beluga_temporal import DefinitionError, Graph, LocalRuntime, step


@step
async def prepare(state: dict[str, Any]) -> dict[str, Any]:
    return {"prepared": True}


@step
async def charge(state: dict[str, Any]) -> dict[str, Any]:
    return {"charged": "for real"}


@step
async def fake_charge(state: dict[str, Any]) -> dict[str, Any]:
    return {"charged": "faked"}


def payment() -> Graph:
    g = Graph("start-overrides")
    g.add_node("prepare", prepare).add_node("charge", charge).add_edge("prepare", "charge")
    return g.set_entry_point("prepare")


async def scheduled_activities(handle: Any) -> list[str]:
    history = await handle.fetch_history()
    return [
        event.activity_task_scheduled_event_attributes.activity_type.name
        for event in history.events
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
    ]


async def test_start_runs_the_replacement_for_that_run_only(dev_runtime: LocalRuntime) -> None:
    g = payment()
    faked = await dev_runtime.start(g, {}, overrides={charge: fake_charge})
    real = await dev_runtime.start(g, {})
    faked_result, real_result = await asyncio.gather(faked.result(), real.result())
    assert faked_result == {"prepared": True, "charged": "faked"}
    assert real_result == {"prepared": True, "charged": "for real"}
    # Under the step's own activity name, on a queue of the faked run's own.
    assert await scheduled_activities(faked) == ["prepare", "charge"]
    faked_queue = (await faked.describe()).task_queue
    assert faked_queue != (await real.describe()).task_queue
    assert faked_queue in dev_runtime.task_queues


async def test_start_takes_a_plain_function_by_step_name(
    time_skipping_runtime: LocalRuntime,
) -> None:
    async def declined(state: dict[str, Any]) -> dict[str, Any]:
        return {"charged": "declined"}

    handle = await time_skipping_runtime.start(payment(), {}, overrides={"charge": declined})
    assert (await handle.result())["charged"] == "declined"


async def test_start_rejects_an_override_naming_no_step(
    time_skipping_runtime: LocalRuntime,
) -> None:
    with pytest.raises(DefinitionError, match="overrides name no step of the target: refund"):
        await time_skipping_runtime.start(payment(), {}, overrides={"refund": fake_charge})
