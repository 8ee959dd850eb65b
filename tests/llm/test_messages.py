from __future__ import annotations

from typing import Any

import pydantic
import pytest
from temporalio.contrib.pydantic import pydantic_data_converter

from beluga_temporal.llm import (
    AIMessage,
    HumanMessage,
    Message,
    Response,
    SystemMessage,
    TextPart,
    Usage,
)

converter = pydantic_data_converter.payload_converter


def roundtrip(value: Any, type_hint: Any) -> Any:
    payloads = converter.to_payloads([value])
    return converter.from_payloads(payloads, [type_hint])[0]


def test_message_list_roundtrips_through_temporal_payloads_as_the_right_classes() -> None:
    messages: list[Message] = [
        SystemMessage("be brief"),
        HumanMessage(content=[TextPart(text="hello "), TextPart(text="there")]),
        AIMessage("hi"),
    ]
    back = roundtrip(messages, list[Message])
    assert back == messages
    assert [type(m) for m in back] == [SystemMessage, HumanMessage, AIMessage]


def test_response_roundtrips_with_usage() -> None:
    response = Response(
        text="ok", finish_reason="stop", usage=Usage(input_tokens=3, output_tokens=2), model="m"
    )
    back = roundtrip(response, Response)
    assert back == response
    assert isinstance(back, Response)
    assert back.usage.total_tokens == 5
    assert back.parts == [TextPart(text="ok")]


def test_message_text_joins_parts_and_role_matches_the_wire_names() -> None:
    message = HumanMessage([TextPart(text="a"), TextPart(text="b")])
    assert message.text == "ab"
    assert (SystemMessage("x").role, HumanMessage("x").role, AIMessage("x").role) == (
        "system",
        "user",
        "assistant",
    )


def test_response_derives_text_from_parts_and_gives_an_ai_message() -> None:
    response = Response(parts=[TextPart(text="a"), TextPart(text="b")])
    assert response.text == "ab"
    assert response.message == AIMessage("ab")


def test_usage_adds_up_and_fills_total() -> None:
    total = Usage(input_tokens=1, output_tokens=2) + Usage(input_tokens=10, output_tokens=20)
    assert total == Usage(input_tokens=11, output_tokens=22, total_tokens=33)


def test_unknown_role_is_rejected() -> None:
    adapter = pydantic.TypeAdapter(list[Message])
    with pytest.raises(pydantic.ValidationError, match="wizard"):
        adapter.validate_python([{"role": "wizard", "content": "x"}])
