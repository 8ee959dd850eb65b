from __future__ import annotations

import pydantic
import pytest
from temporalio.exceptions import ApplicationError

from beluga_temporal.llm import (
    CallInfo,
    FunctionModel,
    HumanMessage,
    Message,
    generate_structured,
)


class Invoice(pydantic.BaseModel):
    total: float
    currency: str


def scripted(*replies: str) -> FunctionModel:
    queue = list(replies)
    return FunctionModel(lambda messages, info: queue.pop(0))


async def test_valid_reply_is_parsed_without_repairs() -> None:
    result = await generate_structured(
        scripted('{"total": 9.5, "currency": "EUR"}'), [HumanMessage("x")], Invoice
    )
    assert result.output == Invoice(total=9.5, currency="EUR")
    assert len(result.responses) == 1


async def test_code_fenced_json_is_accepted() -> None:
    result = await generate_structured(
        scripted('```json\n{"total": 1, "currency": "USD"}\n```'), [HumanMessage("x")], Invoice
    )
    assert result.output.currency == "USD"


async def test_invalid_replies_are_repaired_with_the_validation_error() -> None:
    model = scripted(
        "{oops", '{"total": "lots", "currency": "EUR"}', '{"total": 3, "currency": "EUR"}'
    )
    result = await generate_structured(model, [HumanMessage("bill me")], Invoice)
    assert result.output.total == 3
    assert len(result.responses) == 3
    assert result.usage.output_tokens == sum(r.usage.output_tokens for r in result.responses)
    last_call = model.calls[-1]
    assert [m.role for m in last_call] == ["user", "assistant", "user", "assistant", "user"]
    assert "Invalid JSON" in last_call[2].text
    assert "total" in last_call[4].text


async def test_exhausted_repairs_fail_the_attempt_retryably() -> None:
    model = scripted("no", "still no", "never")
    with pytest.raises(ApplicationError) as info:
        await generate_structured(model, [HumanMessage("x")], Invoice, max_repairs=2)
    assert info.value.type == "LLMInvalidOutput"
    assert not info.value.non_retryable
    assert "Invoice" in info.value.message
    assert len(model.calls) == 3


async def test_the_schema_is_passed_to_the_model() -> None:
    schemas: list[object] = []

    def reply(messages: list[Message], info: CallInfo) -> str:
        schemas.append(info.output_schema)
        return '{"total": 1, "currency": "X"}'

    await generate_structured(FunctionModel(reply), [HumanMessage("x")], Invoice)
    assert schemas == [Invoice.model_json_schema()]
