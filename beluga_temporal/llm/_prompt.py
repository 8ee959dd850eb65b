"""Turn a step input into the conversation sent to the model."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

import pydantic
import temporalio.exceptions

from beluga_temporal.llm._messages import HumanMessage, Message, SystemMessage
from beluga_temporal.plan import HISTORY_KEY

__all__ = ["HISTORY_KEY", "PromptFunction", "PromptSource", "build_messages"]


PromptFunction = Callable[[Any], str | Sequence[Message] | Awaitable[str | Sequence[Message]]]
"""A callable prompt: gets the step input, returns the prompt text or whole messages."""
PromptSource = str | PromptFunction
"""A `str.format` template over the input's fields, or a `PromptFunction`."""

_messages_adapter: pydantic.TypeAdapter[list[Message]] = pydantic.TypeAdapter(list[Message])


def _prompt_error(step: str, message: str) -> temporalio.exceptions.ApplicationError:
    # A prompt that cannot be rendered will not render on a retry either.
    return temporalio.exceptions.ApplicationError(
        f"LLM step {step!r}: {message}", type="LLMPromptError", non_retryable=True
    )


def template_fields(value: Any) -> dict[str, Any]:
    """Return the names a template may use: the input's fields plus `input` (all of it)."""
    fields: dict[str, Any] = {}
    if isinstance(value, pydantic.BaseModel):
        fields = {name: getattr(value, name) for name in type(value).model_fields}
    elif isinstance(value, Mapping):
        fields = {str(k): v for k, v in value.items()}
    return {"input": value, **fields}


def render_template(step: str, template: str, value: Any) -> str:
    """Render `template` with `str.format` over the input's fields.

    Raises:
        temporalio.exceptions.ApplicationError: `LLMPromptError` (non-retryable) naming
            the missing field and the available ones.
    """
    fields = template_fields(value)
    try:
        return template.format(**fields)
    except KeyError as error:
        known = ", ".join(sorted(fields))
        raise _prompt_error(
            step, f"the prompt uses {{{error.args[0]}}} but the input has only: {known}"
        ) from None
    except (IndexError, ValueError, AttributeError) as error:
        raise _prompt_error(
            step, f"cannot render the prompt: {error} (write literal braces as {{{{ }}}})"
        ) from None


def history_of(value: Any) -> list[Message]:
    """Return earlier messages carried in the input under `history`, if they are messages."""
    raw = value.get(HISTORY_KEY) if isinstance(value, Mapping) else None
    if not isinstance(raw, list) or not raw:
        return []
    try:
        return _messages_adapter.validate_python(raw)
    except pydantic.ValidationError:
        return []  # not a message list (e.g. a text transcript): the template may use it


async def build_messages(
    step: str, prompt: PromptSource, system: str | None, value: Any
) -> list[Message]:
    """Build the conversation: system message, history, then the rendered prompt.

    Args:
        step: The step name, for error messages.
        prompt: A template or a callable (sync or async) returning text or messages.
        system: An optional system message, placed first.
        value: The step input.
    """
    if isinstance(prompt, str):
        rendered: str | Sequence[Message] = render_template(step, prompt, value)
    else:
        result = prompt(value)
        rendered = await result if inspect.isawaitable(result) else result
    if isinstance(rendered, str):
        turn: list[Message] = [HumanMessage(rendered)]
    else:
        turn = list(rendered)
    head: list[Message] = [SystemMessage(system)] if system else []
    return [*head, *history_of(value), *turn]
