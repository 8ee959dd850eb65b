"""Sessions continue as new by history size and size-check the memory they carry."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from beluga_temporal import (
    Chain,
    ExecutionError,
    LocalRuntime,
    Orchestrator,
    create_worker,
    step,
)
from beluga_temporal.memory import BufferMemory, WindowMemory
from beluga_temporal.resilience import set_payload_size_limit
from tests.engine import long_runs as lr


@step
async def echo_turn(value: dict[str, Any]) -> dict[str, Any]:
    return {"output": f"{value['input']}:{len(value['history']) // 2}"}


async def test_a_long_session_continues_as_new_and_keeps_its_memory(
    dev_runtime: LocalRuntime, task_queue: str, history_bound: Callable[[int], None]
) -> None:
    history_bound(300)
    chain = Chain("long-session", steps=[echo_turn], memory=WindowMemory(k=3))
    orch = Orchestrator(dev_runtime.client, task_queue)
    session = orch.session(chain, f"session-{uuid.uuid4()}")
    async with create_worker(dev_runtime.client, task_queue, targets=[chain]):
        replies = [await session.send({"input": f"t{i}"}) for i in range(310)]
        remembered = await session.history()
        description = await dev_runtime.client.get_workflow_handle(session.session_id).describe()
        last = await session.close()
    assert replies[0] == {"output": "t0:0"}
    assert replies[-1] == {"output": "t309:3"}  # the window survived every continuation
    assert [m["content"] for m in remembered if m["role"] == "user"] == ["t307", "t308", "t309"]
    assert last == replies[-1]
    first = await dev_runtime.client.get_workflow_handle(
        session.session_id, run_id=description.run_id
    ).fetch_history()
    started = first.events[0].workflow_execution_started_event_attributes
    histories = await lr.run_histories(
        dev_runtime.client, session.session_id, started.first_execution_run_id
    )
    assert len(histories) >= 3, "the session never continued as new"
    assert all(len(h.events) < 400 for h in histories)


@pytest.fixture
def small_payload_limit() -> Iterator[None]:
    set_payload_size_limit(20_000)
    yield
    set_payload_size_limit(None)


async def test_a_turn_whose_memory_is_too_large_names_the_session_and_the_fix(
    time_skipping_runtime: LocalRuntime, task_queue: str, small_payload_limit: None
) -> None:
    chain = Chain("growing-session", steps=[echo_turn], memory=BufferMemory())
    orch = Orchestrator(time_skipping_runtime.client, task_queue)
    session_id = f"session-{uuid.uuid4()}"
    session = orch.session(chain, session_id)
    good: list[Any] = []
    async with create_worker(time_skipping_runtime.client, task_queue, targets=[chain]):
        with pytest.raises(ExecutionError) as caught:  # noqa: PT012 - the failing turn is the point
            for i in range(10):
                good.append(await session.send({"input": f"{i}" + "x" * 4_000}))
        # The session is not lost: it stays open and closing returns the last good turn.
        last = await session.close()
    assert 1 <= len(good) < 10
    assert f"session '{session_id}'" in str(caught.value)
    assert "over the payload limit" in str(caught.value)
    assert "WindowMemory" in str(caught.value)
    assert last == good[-1]
