"""LLM steps in real workflows on the embedded Temporal servers, against the fake server.

The worker runs in this process, so the `BELUGA_LLM__*` variables set here configure the
activities the way a deployment's environment would.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

import pydantic
import pytest

from beluga_temporal import (
    Chain,
    Graph,
    LocalRuntime,
    Orchestrator,
    RetryPolicy,
    StepFailedError,
    create_worker,
    llm,
    step,
)
from beluga_temporal.llm import TestModel, llm_decision, llm_step
from beluga_temporal.testing import FakeOpenAIServer, run_with_worker

API_KEY = "sk-test-SECRET-0123456789"  # the key tests/llm/conftest.py configures
FAST_RETRY = RetryPolicy(max_attempts=3, initial_backoff=0.1, max_backoff=0.1)


class Triage(pydantic.BaseModel):
    urgent: bool
    reason: str


triage = llm_step(
    "llm-triage",
    "Order {order_id} worth ${value}: urgent?",
    output=Triage,
    system="You triage orders.",
    retry=FAST_RETRY,
)
summarize = llm_step("llm-summarize", "Summarize order {order_id}", retry=FAST_RETRY)


@step
async def ship_fast(state: dict[str, Any]) -> dict[str, Any]:
    return {"shipping": "express"}


@step
async def ship_standard(state: dict[str, Any]) -> dict[str, Any]:
    return {"shipping": "ground"}


@pytest.fixture
def openai_env(monkeypatch: pytest.MonkeyPatch, fake_openai: FakeOpenAIServer) -> FakeOpenAIServer:
    monkeypatch.setenv("BELUGA_LLM__PROVIDER", "openai")
    monkeypatch.setenv("BELUGA_LLM__MODEL", "gpt-fake")
    monkeypatch.setenv("BELUGA_LLM__BASE_URL", fake_openai.base_url)
    monkeypatch.setenv("BELUGA_LLM__API_KEY", API_KEY)
    return fake_openai


ORDER = {"order_id": "o-7", "value": 250.0}


async def test_structured_output_is_parsed_into_the_model_and_usage_is_summed(
    time_skipping_runtime: LocalRuntime, task_queue: str, openai_env: FakeOpenAIServer
) -> None:
    openai_env.reply(
        {"urgent": True, "reason": "high value"},
        usage={"prompt_tokens": 11, "completion_tokens": 5, "total_tokens": 16},
    )
    chain = Chain("llm-triage-chain", steps=[triage])
    workflow_id = f"triage-{uuid.uuid4()}"
    async with create_worker(time_skipping_runtime.client, task_queue, targets=[chain]):
        orch = Orchestrator(time_skipping_runtime.client, task_queue)
        result = await orch.execute(chain, ORDER, workflow_id=workflow_id)
        progress = await orch.progress(workflow_id)
    assert result == Triage(urgent=True, reason="high value")
    assert (progress.usage.input_tokens, progress.usage.output_tokens) == (11, 5)
    [request] = openai_env.completion_requests
    assert request.messages[1]["content"] == "Order o-7 worth $250.0: urgent?"
    assert request.response_format is not None


async def test_rate_limit_waits_for_retry_after_then_succeeds(
    dev_runtime: LocalRuntime, task_queue: str, openai_env: FakeOpenAIServer
) -> None:
    # Real time: the step's own backoff is 0.1 s, so a ~1 s gap can only come from
    # Retry-After travelling as the ApplicationError's next_retry_delay.
    openai_env.fail(429, headers={"Retry-After": "1"}).reply("summary")
    chain = Chain("llm-rate-limited-chain", steps=[summarize])
    assert await run_with_worker(dev_runtime.client, task_queue, chain, ORDER) == "summary"
    first, second = openai_env.completion_requests
    assert 0.9 <= second.received_at - first.received_at < 10


async def test_server_error_is_retried(
    time_skipping_runtime: LocalRuntime, task_queue: str, openai_env: FakeOpenAIServer
) -> None:
    openai_env.fail(500).reply("recovered")
    chain = Chain("llm-500-chain", steps=[summarize])
    result = await run_with_worker(time_skipping_runtime.client, task_queue, chain, ORDER)
    assert result == "recovered"
    assert len(openai_env.completion_requests) == 2


async def test_bad_request_fails_at_once(
    time_skipping_runtime: LocalRuntime, task_queue: str, openai_env: FakeOpenAIServer
) -> None:
    openai_env.fail(400, message="unsupported parameter", times=3)
    chain = Chain("llm-400-chain", steps=[summarize])
    with pytest.raises(StepFailedError) as caught:
        await run_with_worker(time_skipping_runtime.client, task_queue, chain, ORDER)
    assert caught.value.step == "llm-summarize"
    assert caught.value.error_type == "LLMBadRequest"
    assert "HTTP 400" in str(caught.value)
    assert len(openai_env.completion_requests) == 1


async def test_malformed_json_is_repaired_within_one_attempt(
    time_skipping_runtime: LocalRuntime, task_queue: str, openai_env: FakeOpenAIServer
) -> None:
    openai_env.reply('{"urgent": tru').reply({"urgent": False, "reason": "small"})
    chain = Chain("llm-repair-chain", steps=[triage])
    result = await run_with_worker(time_skipping_runtime.client, task_queue, chain, ORDER)
    assert result == Triage(urgent=False, reason="small")
    repair = openai_env.completion_requests[1]
    assert repair.messages[-2] == {"role": "assistant", "content": '{"urgent": tru'}


async def test_api_key_never_reaches_the_history_or_the_logs(
    time_skipping_runtime: LocalRuntime,
    task_queue: str,
    openai_env: FakeOpenAIServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)  # every record the SDK, openai and httpx write
    # A provider that echoes the key in its error message: the key must still not leak.
    openai_env.fail(401, message=f"Incorrect API key provided: {API_KEY}")
    chain = Chain("llm-secret-chain", steps=[summarize])
    workflow_id = f"secret-{uuid.uuid4()}"
    with pytest.raises(StepFailedError) as caught:
        await run_with_worker(
            time_skipping_runtime.client, task_queue, chain, ORDER, workflow_id=workflow_id
        )
    assert caught.value.error_type == "LLMAuthError"
    history = await time_skipping_runtime.client.get_workflow_handle(workflow_id).fetch_history()
    exported = history.to_json()
    assert "LLMAuthError" in exported  # the failure is there ...
    assert API_KEY not in exported  # ... the key is not
    assert API_KEY not in str(caught.value)
    assert "LLMAuthError" in caplog.text  # the failed attempt was logged ...
    assert API_KEY not in caplog.text  # ... without the key
    assert openai_env.completion_requests[0].authorization == f"Bearer {API_KEY}"


async def test_graph_routes_on_an_llm_decision(
    time_skipping_runtime: LocalRuntime, task_queue: str
) -> None:
    llm.register(
        "test-expedite", lambda config: TestModel(output={"choice": "expedite"}), replace=True
    )
    decide = llm_decision(
        "llm-decide-shipping",
        "Order {order_id} worth ${value}: how to ship?",
        choices=["standard", "expedite"],
        provider="test-expedite",
    )
    graph = Graph("llm-routed-graph")
    graph.add_node("decide", decide)
    graph.add_node("ship_fast", ship_fast)
    graph.add_node("ship_standard", ship_standard)
    graph.add_conditional_edges(
        "decide", lambda s: s["decide"], {"expedite": "ship_fast", "standard": "ship_standard"}
    )
    graph.set_entry_point(["decide"])
    result = await run_with_worker(time_skipping_runtime.client, task_queue, graph, ORDER)
    assert result["decide"] == "expedite"
    assert result["shipping"] == "express"


@pytest.mark.parametrize("reply", ["expedite", "Expedite.", ' "EXPEDITE"\n'])
async def test_graph_routes_on_a_bare_label_from_an_openai_server(
    time_skipping_runtime: LocalRuntime,
    task_queue: str,
    openai_env: FakeOpenAIServer,
    reply: str,
) -> None:
    # Many models answer a choice with just the label, however the prompt asks: the
    # same bare label to every request, repairs included.
    openai_env.reply(reply, times=3)
    decide = llm_decision(
        "llm-bare-decision",
        "Order {order_id} worth ${value}: how to ship?",
        choices=["standard", "expedite"],
        retry=RetryPolicy(max_attempts=1),
    )
    graph = Graph("llm-bare-label-graph")
    graph.add_node("decide", decide)
    graph.add_node("ship_fast", ship_fast)
    graph.add_node("ship_standard", ship_standard)
    graph.add_conditional_edges(
        "decide", lambda s: s["decide"], {"expedite": "ship_fast", "standard": "ship_standard"}
    )
    graph.set_entry_point(["decide"])
    result = await run_with_worker(time_skipping_runtime.client, task_queue, graph, ORDER)
    assert (result["decide"], result["shipping"]) == ("expedite", "express")
    assert len(openai_env.completion_requests) == 1  # accepted as it came, not repaired


async def test_slow_call_heartbeats_past_a_short_heartbeat_timeout(
    dev_runtime: LocalRuntime, task_queue: str, openai_env: FakeOpenAIServer
) -> None:
    # Without heartbeats the 0.5 s heartbeat timeout would fail the attempt and a second
    # request would arrive.
    openai_env.reply("slow but fine", delay=1.5)
    slow = llm_step(
        "llm-slow-summarize", "Summarize {order_id}", heartbeat_timeout=0.5, retry=FAST_RETRY
    )
    chain = Chain("llm-slow-chain", steps=[slow])
    assert await run_with_worker(dev_runtime.client, task_queue, chain, ORDER) == "slow but fine"
    assert len(openai_env.completion_requests) == 1
