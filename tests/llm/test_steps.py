"""`llm_step` / `llm_decision` called directly (the plain function, outside Temporal)."""

from __future__ import annotations

from collections.abc import Callable

import pydantic
import pytest
from temporalio.exceptions import ApplicationError

from beluga_temporal import llm
from beluga_temporal.errors import DefinitionError
from beluga_temporal.llm import (
    AIMessage,
    CallInfo,
    FunctionModel,
    HumanMessage,
    Message,
    SystemMessage,
    llm_decision,
    llm_step,
)
from beluga_temporal.testing import FakeOpenAIServer

API_KEY = "sk-test-SECRET-0123456789"  # the key tests/llm/conftest.py configures


class Order(pydantic.BaseModel):
    order_id: str
    value: float


class Triage(pydantic.BaseModel):
    urgent: bool
    reason: str


def use_fake(monkeypatch: pytest.MonkeyPatch, server: FakeOpenAIServer) -> None:
    monkeypatch.setenv("BELUGA_LLM__PROVIDER", "openai")
    monkeypatch.setenv("BELUGA_LLM__MODEL", "gpt-fake")
    monkeypatch.setenv("BELUGA_LLM__BASE_URL", server.base_url)
    monkeypatch.setenv("BELUGA_LLM__API_KEY", API_KEY)


def scripted(name: str, *replies: str) -> FunctionModel:
    queue = list(replies)
    model = FunctionModel(lambda messages, info: queue.pop(0))
    llm.register(name, lambda config: model, replace=True)
    return model


async def test_text_step_renders_the_template_over_dict_fields(
    monkeypatch: pytest.MonkeyPatch, fake_openai: FakeOpenAIServer
) -> None:
    use_fake(monkeypatch, fake_openai)
    fake_openai.reply("Looks fine.")
    summarize = llm_step("summarize", "Order {order_id} worth ${value}", system="Be brief.")
    assert await summarize({"order_id": "o-1", "value": 12.5}) == "Looks fine."
    [request] = fake_openai.completion_requests
    assert request.messages == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Order o-1 worth $12.5"},
    ]
    assert request.body["model"] == "gpt-fake"
    assert request.authorization == f"Bearer {API_KEY}"


async def test_structured_step_returns_the_validated_model(
    monkeypatch: pytest.MonkeyPatch, fake_openai: FakeOpenAIServer
) -> None:
    use_fake(monkeypatch, fake_openai)
    fake_openai.reply("{not json").reply({"urgent": True, "reason": "big order"})
    triage = llm_step("triage", "Is {order_id} urgent?", output=Triage, input_type=Order)
    assert triage.output_type is Triage
    result = await triage(Order(order_id="o-2", value=9000))
    assert result == Triage(urgent=True, reason="big order")
    first, repair = fake_openai.completion_requests
    assert first.response_format is not None
    assert first.response_format["json_schema"]["name"] == "Triage"
    assert repair.messages[-2] == {"role": "assistant", "content": "{not json"}
    assert "Invalid JSON" in repair.messages[-1]["content"]


async def test_test_provider_and_the_whole_input_as_input() -> None:
    echo = llm_step("echo", "Say: {input}", provider="test")
    assert await echo("hello") == "This is a reply from the test model."


async def test_callable_prompt_and_history_are_sent() -> None:
    model = scripted("steps-history", "ok")

    def prompt(value: dict[str, object]) -> list[Message]:
        return [HumanMessage(f"question {value['n']}")]

    ask = llm_step("ask", prompt, system="sys", provider="steps-history")
    history = [HumanMessage("earlier").model_dump(), AIMessage("answer").model_dump()]
    assert await ask({"n": 2, "history": history}) == "ok"
    assert model.calls == [
        [
            SystemMessage("sys"),
            HumanMessage("earlier"),
            AIMessage("answer"),
            HumanMessage("question 2"),
        ]
    ]


async def test_missing_template_field_fails_without_retry_naming_the_fields() -> None:
    step = llm_step("broken", "Order {order_number}", provider="test")
    with pytest.raises(ApplicationError) as info:
        await step({"order_id": "o-1"})
    assert (info.value.type, info.value.non_retryable) == ("LLMPromptError", True)
    assert "{order_number}" in info.value.message
    assert "order_id" in info.value.message


async def test_unknown_provider_fails_without_retry() -> None:
    step = llm_step("lost", "hi", provider="nonexistent-provider")
    with pytest.raises(ApplicationError) as info:
        await step({})
    assert (info.value.type, info.value.non_retryable) == ("ConfigurationError", True)
    assert "'nonexistent-provider'" in info.value.message


async def test_decision_returns_one_choice_deterministically_with_the_test_provider() -> None:
    decide = llm_decision(
        "route", "Route order {order_id}", choices=["standard", "expedite"], provider="test"
    )
    assert decide.output_type is str
    assert await decide({"order_id": "o-1"}) == "standard"


async def test_decision_can_be_scripted_and_tolerates_case() -> None:
    calls: list[CallInfo] = []

    def reply(messages: list[Message], info: CallInfo) -> str:
        calls.append(info)
        return '{"choice": " Expedite"}'

    llm.register("steps-decide", lambda config: FunctionModel(reply), replace=True)
    decide = llm_decision(
        "route2", "Route {input}", choices=["standard", "expedite"], provider="steps-decide"
    )
    assert await decide("o-1") == "expedite"
    assert calls[0].output_schema is not None
    choice_schema = calls[0].output_schema["properties"]["choice"]
    assert choice_schema["enum"] == ["standard", "expedite"]


async def test_decision_outside_the_choices_is_repaired() -> None:
    model = scripted("steps-repair", '{"choice": "maybe"}', '{"choice": "standard"}')
    decide = llm_decision(
        "route3", "Route", choices=["standard", "expedite"], provider="steps-repair"
    )
    assert await decide({}) == "standard"
    assert "'standard' or 'expedite'" in model.calls[1][-1].text


@pytest.mark.parametrize(
    ("reply", "choices", "chosen"),
    [
        ("expedite", ["standard", "expedite"], "expedite"),
        ("  STANDARD\n", ["standard", "expedite"], "standard"),
        ("Expedite.", ["standard", "expedite"], "expedite"),
        ('"expedite"', ["standard", "expedite"], "expedite"),
        ("'Standard.'", ["standard", "expedite"], "standard"),
        ("\u201cexpedite\u201d.", ["standard", "expedite"], "expedite"),
        ("`expedite`", ["standard", "expedite"], "expedite"),
        ("mr.", ["Mr.", "Ms."], "Mr."),  # a label ending in a period matches as it is
        ("Ms.", ["Mr.", "Ms."], "Ms."),
    ],
)
async def test_decision_accepts_a_bare_label(reply: str, choices: list[str], chosen: str) -> None:
    model = scripted("steps-bare", reply)
    decide = llm_decision("route-bare", "Route", choices=choices, provider="steps-bare")
    assert await decide({}) == chosen
    assert len(model.calls) == 1  # accepted as it came: no repair round trip


@pytest.mark.parametrize("reply", ["I would expedite.", "expedite, standard", '"expedite'])
async def test_decision_more_than_a_label_is_repaired(reply: str) -> None:
    model = scripted("steps-not-bare", reply, '{"choice": "standard"}')
    decide = llm_decision(
        "route-not-bare", "Route", choices=["standard", "expedite"], provider="steps-not-bare"
    )
    assert await decide({}) == "standard"
    assert len(model.calls) == 2


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: llm_decision("d", "p", choices=[]), "non-empty"),
        (lambda: llm_decision("d", "p", choices=["a", "a"]), "duplicate"),
        (lambda: llm_decision("d", "p", choices="ab"), "non-empty list"),
        # Wrong types on purpose (mypy rejects them too): the run-time errors are tested.
        (lambda: llm_step("s", 42), "prompt"),  # type: ignore[call-overload]
        (lambda: llm_step("s", "p", output=dict), "pydantic model"),  # type: ignore[type-var]
    ],
)
def test_bad_declarations_are_definition_errors(build: Callable[[], object], message: str) -> None:
    with pytest.raises(DefinitionError, match=message):
        build()
