"""The `"openai"` provider on the real `openai` client against the loopback fake server."""

from __future__ import annotations

import socket
from datetime import timedelta

import pydantic
import pytest
from temporalio.exceptions import ApplicationError

from beluga_temporal import llm
from beluga_temporal.llm import ChatModel, HumanMessage, ProviderConfig, SystemMessage
from beluga_temporal.testing import FakeOpenAIServer

API_KEY = "sk-test-SECRET-0123456789"  # the key tests/llm/conftest.py configures


class Verdict(pydantic.BaseModel):
    label: str
    score: int


async def generate_error(model: ChatModel) -> ApplicationError:
    with pytest.raises(ApplicationError) as info:
        await model.generate([HumanMessage("hello")])
    return info.value


async def test_text_generation_sends_messages_and_reads_usage(
    fake_openai: FakeOpenAIServer, openai_model: ChatModel
) -> None:
    fake_openai.reply(
        "Bonjour", usage={"prompt_tokens": 7, "completion_tokens": 1, "total_tokens": 8}
    )
    response = await openai_model.generate(
        [SystemMessage("translate to French"), HumanMessage("hello")], temperature=0.2
    )
    assert response.text == "Bonjour"
    assert response.finish_reason == "stop"
    assert (response.usage.input_tokens, response.usage.output_tokens) == (7, 1)
    assert response.model == "gpt-test"
    [request] = fake_openai.completion_requests
    assert request.authorization == f"Bearer {API_KEY}"
    assert request.messages == [
        {"role": "system", "content": "translate to French"},
        {"role": "user", "content": "hello"},
    ]
    assert request.body["model"] == "gpt-test"
    assert request.body["temperature"] == 0.2
    assert request.response_format is None


async def test_structured_output_sends_the_json_schema(
    fake_openai: FakeOpenAIServer, openai_model: ChatModel
) -> None:
    response = await openai_model.generate(
        [HumanMessage("judge")], output_schema=Verdict.model_json_schema()
    )
    verdict = Verdict.model_validate_json(response.text)  # the fake's default: schema-valid
    assert isinstance(verdict.score, int)
    [request] = fake_openai.completion_requests
    assert request.response_format is not None
    assert request.response_format["type"] == "json_schema"
    assert request.response_format["json_schema"]["name"] == "Verdict"
    assert request.response_format["json_schema"]["schema"] == Verdict.model_json_schema()


async def test_json_object_mode_puts_the_schema_in_a_system_message(
    fake_openai: FakeOpenAIServer, openai_config: ProviderConfig
) -> None:
    config = openai_config.model_copy(update={"structured_output": "json_object"})
    model = llm.new("openai", config)
    fake_openai.reply({"label": "ok", "score": 3})
    response = await model.generate(
        [HumanMessage("judge")], output_schema=Verdict.model_json_schema()
    )
    assert Verdict.model_validate_json(response.text) == Verdict(label="ok", score=3)
    [request] = fake_openai.completion_requests
    assert request.response_format == {"type": "json_object"}
    assert request.messages[0]["role"] == "system"
    assert '"score"' in request.messages[0]["content"]


async def test_rate_limit_is_retryable_with_retry_after_as_next_delay(
    fake_openai: FakeOpenAIServer, openai_model: ChatModel
) -> None:
    fake_openai.fail(429, message="slow down", headers={"Retry-After": "1"})
    error = await generate_error(openai_model)
    assert error.type == "LLMRateLimited"
    assert not error.non_retryable
    assert error.next_retry_delay == timedelta(seconds=1)
    assert "slow down" in error.message
    # The client's own retries are off: Temporal owns retrying.
    assert len(fake_openai.completion_requests) == 1


async def test_server_error_is_retryable_and_not_retried_by_the_client(
    fake_openai: FakeOpenAIServer, openai_model: ChatModel
) -> None:
    fake_openai.fail(500)
    error = await generate_error(openai_model)
    assert (error.type, error.non_retryable) == ("LLMServerError", False)
    assert len(fake_openai.completion_requests) == 1


async def test_bad_request_is_non_retryable(
    fake_openai: FakeOpenAIServer, openai_model: ChatModel
) -> None:
    fake_openai.fail(400, message="'messages' is too short")
    error = await generate_error(openai_model)
    assert (error.type, error.non_retryable) == ("LLMBadRequest", True)
    assert "HTTP 400" in error.message
    assert "gpt-test" in error.message


async def test_context_length_error_is_non_retryable(
    fake_openai: FakeOpenAIServer, openai_model: ChatModel
) -> None:
    fake_openai.fail(400, message="maximum context length exceeded", code="context_length_exceeded")
    error = await generate_error(openai_model)
    assert (error.type, error.non_retryable) == ("LLMContextLengthExceeded", True)


async def test_wrong_key_is_an_auth_error_that_never_shows_the_key(
    fake_openai: FakeOpenAIServer, openai_config: ProviderConfig
) -> None:
    wrong = "sk-wrong-KEY-987654321"
    model = llm.new(
        "openai", openai_config.model_copy(update={"api_key": pydantic.SecretStr(wrong)})
    )
    error = await generate_error(model)
    assert (error.type, error.non_retryable) == ("LLMAuthError", True)
    assert fake_openai.completion_requests[0].authorization == f"Bearer {wrong}"
    for text in (str(error), repr(error), repr(error.details), repr(model), repr(openai_config)):
        assert wrong not in text
        assert API_KEY not in text
    # Not chained: Temporal would serialise a cause (with request details) into history.
    assert error.__cause__ is None
    assert error.__suppress_context__


async def test_key_from_environment(
    fake_openai: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", API_KEY)
    model = llm.new("openai", ProviderConfig(model="m", base_url=fake_openai.base_url))
    assert (await model.generate([HumanMessage("hi")])).text == fake_openai.default_text


async def test_connection_refused_is_a_retryable_connection_error() -> None:
    with socket.socket() as probe:  # a port nothing listens on once the probe closes
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    model = llm.new(
        "openai", ProviderConfig(api_key="k", model="m", base_url=f"http://127.0.0.1:{port}/v1")
    )
    error = await generate_error(model)
    assert (error.type, error.non_retryable) == ("LLMConnectionError", False)


async def test_slow_server_is_a_retryable_timeout(
    fake_openai: FakeOpenAIServer, openai_config: ProviderConfig
) -> None:
    model = llm.new("openai", openai_config.model_copy(update={"timeout": 0.2}))
    fake_openai.reply("late", delay=5)
    error = await generate_error(model)
    assert (error.type, error.non_retryable) == ("LLMTimeout", False)
