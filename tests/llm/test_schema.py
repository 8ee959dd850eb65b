from __future__ import annotations

import datetime
import enum
import uuid
from typing import Literal

import pydantic
import pytest

from beluga_temporal.llm import sample_from_schema


class Priority(enum.Enum):
    LOW = "low"
    HIGH = "high"


class Address(pydantic.BaseModel):
    city: str = pydantic.Field(min_length=3)
    zip_code: str | None = None


class Order(pydantic.BaseModel):
    order_id: uuid.UUID
    placed_at: datetime.datetime
    priority: Priority
    channel: Literal["web", "store"]
    quantity: int = pydantic.Field(ge=5, le=10)
    discount: float = pydantic.Field(gt=0, lt=1)
    tags: list[str] = pydantic.Field(min_length=2)
    address: Address
    previous: list[Address] = []
    notes: dict[str, int] = {}
    gift: bool
    parent: Order | None = None


@pytest.mark.parametrize("model", [Order, Address])
def test_sample_validates_against_the_model(model: type[pydantic.BaseModel]) -> None:
    model.model_validate(sample_from_schema(model.model_json_schema()))


def test_enums_take_the_first_choice_deterministically() -> None:
    sample = sample_from_schema(Order.model_json_schema())
    assert (sample["priority"], sample["channel"]) == ("low", "web")
    assert sample == sample_from_schema(Order.model_json_schema())


def test_non_object_schemas() -> None:
    assert sample_from_schema({"type": "array", "items": {"type": "integer"}, "minItems": 3}) == [
        0,
        0,
        0,
    ]
    assert sample_from_schema({"const": 42}) == 42
    assert sample_from_schema({"type": ["null", "string"]}) == "a"
