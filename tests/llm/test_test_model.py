from __future__ import annotations

import json
from typing import Literal

import pydantic
import pytest
from temporalio.exceptions import ApplicationError

from beluga_temporal import llm
from beluga_temporal.llm import (
    CallInfo,
    FunctionModel,
    HumanMessage,
    Message,
    ProviderConfig,
    Response,
    TestModel,
)


class Route(pydantic.BaseModel):
    choice: Literal["standard", "expedite"]
    reason: str


async def test_test_model_replies_with_fixed_text_and_word_count_usage() -> None:
    model = TestModel(text="fixed reply here")
    response = await model.generate([HumanMessage("one two three")])
    assert response.text == "fixed reply here"
    assert (response.usage.input_tokens, response.usage.output_tokens) == (3, 3)
    assert model.calls == [[HumanMessage("one two three")]]


async def test_test_model_structured_output_is_schema_valid_and_scriptable() -> None:
    schema = Route.model_json_schema()
    default = await TestModel().generate([HumanMessage("route")], output_schema=schema)
    assert Route.model_validate_json(default.text).choice == "standard"
    scripted = TestModel(output={"choice": "expedite"})
    reply = await scripted.generate([HumanMessage("route")], output_schema=schema)
    assert Route.model_validate_json(reply.text).choice == "expedite"


async def test_test_provider_reads_text_and_output_from_config_extra() -> None:
    model = llm.new(
        "test", ProviderConfig(model="demo", extra={"text": "hi", "output": {"choice": "expedite"}})
    )
    assert (await model.generate([HumanMessage("x")])).text == "hi"
    structured = await model.generate([HumanMessage("x")], output_schema=Route.model_json_schema())
    assert json.loads(structured.text)["choice"] == "expedite"
    assert structured.model == "demo"


async def test_function_model_scripts_replies_sync_and_async() -> None:
    seen: list[CallInfo] = []

    def reply(messages: list[Message], info: CallInfo) -> str | dict[str, str]:
        seen.append(info)
        return {"choice": "expedite", "reason": "late"} if info.output_schema else "plain"

    model = FunctionModel(reply)
    assert (await model.generate([HumanMessage("a")])).text == "plain"
    structured = await model.generate(
        [HumanMessage("b")], output_schema={"type": "object"}, temperature=0.5
    )
    assert json.loads(structured.text) == {"choice": "expedite", "reason": "late"}
    assert [(i.call_index, i.temperature) for i in seen] == [(0, None), (1, 0.5)]

    async def whole(messages: list[Message], info: CallInfo) -> Response:
        return Response(text="whole", finish_reason="length")

    assert (await FunctionModel(whole).generate([HumanMessage("c")])).finish_reason == "length"


async def test_function_model_errors_propagate() -> None:
    def fail(messages: list[Message], info: CallInfo) -> str:
        raise ApplicationError("boom", type="LLMServerError")

    with pytest.raises(ApplicationError) as info:
        await FunctionModel(fail).generate([HumanMessage("x")])
    assert info.value.type == "LLMServerError"
