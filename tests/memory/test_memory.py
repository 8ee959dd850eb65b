"""Chains with memory run as durable sessions: window, merge, restart survival."""

from __future__ import annotations

import uuid
from typing import Any

from beluga_temporal import Chain, LocalRuntime, Orchestrator, create_worker, step
from beluga_temporal.memory import BufferMemory, WindowMemory
from beluga_temporal.testing import run_with_worker


@step
async def reply(value: dict[str, Any]) -> dict[str, Any]:
    history = value["history"]
    remembered = [m["content"] for m in history if m["role"] == "user"]
    return {"output": f"{value['input']} (remembering {remembered})", "mood": value.get("mood")}


async def test_window_memory_keeps_last_k_exchanges_across_worker_restarts(
    dev_runtime: LocalRuntime, task_queue: str
) -> None:
    chain = Chain("memory-window", steps=[reply], memory=WindowMemory(k=2))
    orch = Orchestrator(dev_runtime.client, task_queue)
    session = orch.session(chain, f"session-{uuid.uuid4()}")
    async with create_worker(dev_runtime.client, task_queue, targets=[chain]):
        first = await session.send({"input": "one"})
        await session.send({"input": "two"})
    # A new worker has no cached state: memory must come back from the history.
    async with create_worker(dev_runtime.client, task_queue, targets=[chain]):
        third = await session.send({"input": "three"})
        fourth = await session.send({"input": "four", "mood": "calm"})
        history = await session.history()
        last = await session.close()
    assert first["output"] == "one (remembering [])"
    assert third["output"] == "three (remembering ['one', 'two'])"
    assert fourth["output"] == "four (remembering ['two', 'three'])"
    assert fourth["mood"] == "calm"
    assert [m["content"] for m in history] == [
        "three",
        "three (remembering ['one', 'two'])",
        "four",
        "four (remembering ['two', 'three'])",
    ]
    assert last == fourth


async def test_input_wins_over_memory_variables_and_plain_run_is_one_turn(
    dev_runtime: LocalRuntime, task_queue: str
) -> None:
    chain = Chain("memory-buffer", steps=[reply], memory=BufferMemory())
    result = await run_with_worker(
        dev_runtime.client,
        task_queue,
        chain,
        {"input": "hi", "history": [{"role": "user", "content": "mine"}]},
    )
    assert result["output"] == "hi (remembering ['mine'])"


def _echo_history(messages: list[Any], info: Any) -> str:
    # Replies with the user turns the model was shown, so the test sees what memory passed.
    return ",".join(m.text for m in messages if m.role == "user")


async def test_llm_steps_see_the_window_of_earlier_exchanges(
    dev_runtime: LocalRuntime, task_queue: str
) -> None:
    from beluga_temporal import llm
    from beluga_temporal.llm import FunctionModel, llm_step

    llm.register("memory-echo", lambda config: FunctionModel(_echo_history), replace=True)
    chat = llm_step("memory-chat", "{input}", provider="memory-echo", model="echo")
    chain = Chain("memory-llm", steps=[chat], memory=WindowMemory(k=1))
    session = Orchestrator(dev_runtime.client, task_queue).session(chain)
    async with create_worker(dev_runtime.client, task_queue, targets=[chain]):
        await session.send({"input": "one"})
        await session.send({"input": "two"})
        third = await session.send({"input": "three"})
        await session.close()
    # k=1: only the previous exchange precedes the prompt ("one" has left the window).
    assert third == "two,three"
