"""Chat messages, token usage and model responses.

All of them are frozen pydantic models so they cross Temporal payloads (the pydantic data
converter) unchanged. Messages carry a `role` discriminator, so a `list[Message]` read back
from JSON becomes the right classes again.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "AIMessage",
    "HumanMessage",
    "Message",
    "Response",
    "SystemMessage",
    "TextPart",
    "Usage",
]

_UNSET: Any = object()


class TextPart(BaseModel):
    """A piece of text in a message or response."""

    model_config = ConfigDict(frozen=True)

    type: Literal["text"] = "text"
    """Part discriminator, always `"text"`."""
    text: str
    """The text."""


class _BaseMessage(BaseModel):
    """Shared shape of every message: its content, as text or text parts."""

    model_config = ConfigDict(frozen=True)

    content: str | list[TextPart]
    """The message text, or a list of parts."""

    def __init__(self, content: str | list[TextPart] = _UNSET, /, **data: Any) -> None:
        # Positional content (`HumanMessage("hi")`) reads better than `content=` everywhere.
        if content is not _UNSET:
            data["content"] = content
        super().__init__(**data)

    @property
    def text(self) -> str:
        """The message content as one string (parts concatenated)."""
        if isinstance(self.content, str):
            return self.content
        return "".join(part.text for part in self.content)


class SystemMessage(_BaseMessage):
    """Instructions for the model (`role="system"`)."""

    role: Literal["system"] = "system"
    """Message discriminator."""

    # Repeated per class: the pydantic mypy plugin synthesises a keyword-only `__init__`
    # for every model class that does not define its own.
    def __init__(self, content: str | list[TextPart] = _UNSET, /, **data: Any) -> None:
        super().__init__(content, **data)


class HumanMessage(_BaseMessage):
    """A user turn (`role="user"`)."""

    role: Literal["user"] = "user"
    """Message discriminator (the Chat Completions name)."""

    # (see SystemMessage.__init__)
    def __init__(self, content: str | list[TextPart] = _UNSET, /, **data: Any) -> None:
        super().__init__(content, **data)


class AIMessage(_BaseMessage):
    """A model turn (`role="assistant"`)."""

    role: Literal["assistant"] = "assistant"
    """Message discriminator (the Chat Completions name)."""

    # (see SystemMessage.__init__)
    def __init__(self, content: str | list[TextPart] = _UNSET, /, **data: Any) -> None:
        super().__init__(content, **data)


Message = Annotated[SystemMessage | HumanMessage | AIMessage, Field(discriminator="role")]
"""Any chat message; deserialises to the right class by its `role`."""


class Usage(BaseModel):
    """Token usage of one or more model calls. Usages add up with `+`."""

    model_config = ConfigDict(frozen=True)

    input_tokens: int = 0
    """Prompt tokens."""
    output_tokens: int = 0
    """Completion tokens."""
    total_tokens: int = 0
    """Total tokens; computed as input + output when not given."""

    @model_validator(mode="before")
    @classmethod
    def _fill_total(cls, data: Any) -> Any:
        if isinstance(data, dict) and not data.get("total_tokens"):
            data = {**data}
            data["total_tokens"] = int(data.get("input_tokens") or 0) + int(
                data.get("output_tokens") or 0
            )
        return data

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            total_tokens=self.total_tokens + other.total_tokens,
        )


class Response(BaseModel):
    """What a model returned for one `generate` call."""

    model_config = ConfigDict(frozen=True)

    text: str = ""
    """The whole reply text (all text parts concatenated)."""
    parts: list[TextPart] = Field(default_factory=list)
    """The reply as parts; one `TextPart` with `text` when built from text only."""
    finish_reason: str | None = None
    """Why generation stopped (`"stop"`, `"length"`, `"content_filter"`, ...)."""
    usage: Usage = Field(default_factory=Usage)
    """Tokens used by this call."""
    model: str | None = None
    """The model that answered, as the provider reported it."""

    @model_validator(mode="before")
    @classmethod
    def _sync_text_and_parts(cls, data: Any) -> Any:
        # Either field may be given; the other is derived so both always agree.
        if not isinstance(data, dict):
            return data
        data = {**data}
        if data.get("text") and not data.get("parts"):
            data["parts"] = [TextPart(text=data["text"])]
        elif data.get("parts") and not data.get("text"):
            parts = [TextPart.model_validate(p) for p in data["parts"]]
            data["text"] = "".join(p.text for p in parts)
        return data

    @property
    def message(self) -> AIMessage:
        """The reply as an `AIMessage`, e.g. to append to a conversation."""
        return AIMessage(self.text)
