"""The pydantic payload converter, with one cache of type adapters per process."""

from __future__ import annotations

from typing import ClassVar

from temporalio.contrib.pydantic import (
    PydanticJSONPlainPayloadConverter,
    PydanticPayloadConverter,
)
from temporalio.converter import (
    CompositePayloadConverter,
    DataConverter,
    DefaultPayloadConverter,
    JSONPlainPayloadConverter,
)


class SharedPydanticPayloadConverter(PydanticPayloadConverter):
    """`PydanticPayloadConverter` whose JSON converter is shared by every instance.

    temporalio builds a new payload converter for every workflow run and two per
    workflow task. With the stock class each starts with an empty cache of pydantic
    type adapters, and building an adapter costs about fifteen times what decoding a
    small payload does (about 60 µs for `Any`, more for a model), so every run paid
    for its adapters again. The shared JSON converter keeps them for the process (its
    cache is thread-safe and bounded, least recently used first).
    """

    _json: ClassVar[PydanticJSONPlainPayloadConverter | None] = None

    def __init__(self) -> None:
        """Build the composite around the process's JSON converter."""
        json_converter = _shared_json()
        CompositePayloadConverter.__init__(
            self,
            *(
                json_converter if isinstance(c, JSONPlainPayloadConverter) else c
                for c in DefaultPayloadConverter.default_encoding_payload_converters
            ),
        )


def _shared_json() -> PydanticJSONPlainPayloadConverter:
    if SharedPydanticPayloadConverter._json is None:
        SharedPydanticPayloadConverter._json = PydanticJSONPlainPayloadConverter()
    return SharedPydanticPayloadConverter._json


pydantic_converter = DataConverter(payload_converter_class=SharedPydanticPayloadConverter)
"""The data converter beluga uses where none was chosen (before its codec is added)."""
