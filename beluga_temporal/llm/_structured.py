"""Structured output: ask for a schema, validate, and re-ask with the error when invalid."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

import pydantic
import temporalio.exceptions

from beluga_temporal.llm._messages import HumanMessage, Message, Response, Usage
from beluga_temporal.llm._registry import ChatModel

__all__ = ["StructuredResult", "generate_structured"]

T = TypeVar("T", bound=pydantic.BaseModel)

DEFAULT_MAX_REPAIRS = 2
_FENCE = re.compile(r"^\s*```(?:json)?\s*\n?(.*?)\n?\s*```\s*$", re.DOTALL)
_MAX_ERROR_CHARS = 2000


@dataclass(frozen=True)
class StructuredResult(Generic[T]):
    """A validated structured reply and what it cost."""

    output: T
    """The validated model instance."""
    responses: list[Response] = field(default_factory=list)
    """Every raw response, the invalid ones first, the accepted one last."""

    @property
    def usage(self) -> Usage:
        """Tokens used by all calls, repairs included."""
        total = Usage()
        for response in self.responses:
            total = total + response.usage
        return total


def parse_output(text: str, output: type[T]) -> T:
    """Validate a model's JSON reply, tolerating a Markdown code fence around it.

    Raises:
        pydantic.ValidationError: The text is not valid JSON for `output`.
    """
    match = _FENCE.match(text)
    return output.model_validate_json(match.group(1) if match else text)


async def generate_structured(
    model: ChatModel,
    messages: Sequence[Message],
    output: type[T],
    *,
    temperature: float | None = None,
    max_repairs: int = DEFAULT_MAX_REPAIRS,
    parse: Callable[[str], T] | None = None,
) -> StructuredResult[T]:
    """Generate a reply that validates as `output`, repairing invalid replies.

    An invalid reply (bad JSON or failed validation) is sent back to the model with the
    validation error, up to `max_repairs` times.

    Args:
        model: The chat model.
        messages: The conversation.
        output: The pydantic model the reply must validate as.
        temperature: Sampling temperature; `None` uses the model's default.
        max_repairs: How many times an invalid reply is re-asked (default 2).
        parse: Turns the reply text into `output`, raising `pydantic.ValidationError`
            for a reply to repair; default: the JSON object, tolerating a Markdown code
            fence around it.

    Returns:
        The validated output and all responses.

    Raises:
        temporalio.exceptions.ApplicationError: `LLMInvalidOutput` (retryable: another
            attempt may well succeed) when the last repair is still invalid; or the
            model's own classified failure.
    """
    schema = output.model_json_schema()
    parse = parse or (lambda text: parse_output(text, output))
    conversation = list(messages)
    responses: list[Response] = []
    errors: list[pydantic.ValidationError] = []
    for _ in range(max(max_repairs, 0) + 1):
        response = await model.generate(conversation, output_schema=schema, temperature=temperature)
        responses.append(response)
        try:
            return StructuredResult(parse(response.text), responses)
        except pydantic.ValidationError as error:
            conversation += [response.message, HumanMessage(_repair_prompt(error))]
            errors.append(error)
    raise temporalio.exceptions.ApplicationError(
        f"{model.provider} model {model.model_name!r} returned output that is not a valid"
        f" {output.__name__} after {len(errors) - 1} repairs: {_short(errors[-1])}",
        {"provider": model.provider, "model": model.model_name, "output": output.__name__},
        type="LLMInvalidOutput",
    )


def _repair_prompt(error: pydantic.ValidationError) -> str:
    return (
        "Your previous reply was not valid. Fix these errors and reply with only the"
        f" corrected JSON object:\n{_short(error)}"
    )


def _short(error: pydantic.ValidationError) -> str:
    # include_url/include_input off: the input may be long and the URL is noise to a model.
    lines = [
        f"- {'.'.join(str(p) for p in e['loc']) or '(root)'}: {e['msg']}"
        for e in error.errors(include_url=False, include_input=False)
    ]
    text = "\n".join(lines)
    return text if len(text) <= _MAX_ERROR_CHARS else text[:_MAX_ERROR_CHARS] + "..."
