"""`llm_decision`: an LLM step that returns exactly one of a fixed set of labels."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Annotated, Any, Literal, cast

import pydantic

from beluga_temporal.declare import AsyncStep, RetryPolicy
from beluga_temporal.errors import DefinitionError
from beluga_temporal.llm._prompt import PromptSource
from beluga_temporal.llm._steps import (
    DEFAULT_LLM_TIMEOUT,
    _check_definition,
    _declare,
    _ModelCall,
)
from beluga_temporal.llm._structured import DEFAULT_MAX_REPAIRS, parse_output

__all__ = ["llm_decision"]

# Opening and closing quotes a model may put around a bare label.
_QUOTES = {'"': '"', "'": "'", "`": "`", "\u201c": "\u201d", "\u2018": "\u2019"}


def llm_decision(
    name: str,
    prompt: PromptSource,
    choices: Sequence[str],
    *,
    system: str | None = None,
    provider: str | None = None,
    model: str | None = None,
    temperature: float | None = None,
    timeout: float | timedelta = DEFAULT_LLM_TIMEOUT,
    retry: RetryPolicy | None = None,
    heartbeat_timeout: float | timedelta | None = None,
    max_repairs: int = DEFAULT_MAX_REPAIRS,
    input_type: Any = Any,
    task_queue: str | None = None,
) -> AsyncStep[Any, str]:
    """Declare an LLM step that returns exactly one of `choices`.

    The model is asked for `{"choice": ...}` constrained to the choices (an enum in the
    JSON schema). A reply that is just one of the choices, as many models give (any
    case, optionally quoted, with a trailing period or whitespace: `Expedite.`), is
    accepted too, and so is a `choice` that differs only in case or surrounding spaces;
    anything else is repaired like any structured output. In a graph the returned string
    is stored in state under the node's name, so route on it with
    `g.add_conditional_edges(name, lambda s: s[name], {"expedite": ..., ...})`.
    The `"test"` provider picks the first choice; script another with
    `TestModel(output={"choice": ...})` or `ProviderConfig(extra={"output": ...})`.

    Args:
        name: The activity type name (wire format: renaming breaks runs in flight).
        prompt: As for `llm_step`.
        choices: The possible answers (at least one, no duplicates).
        system: Extra instructions placed before the choice instruction.
        provider: As for `llm_step`.
        model: As for `llm_step`.
        temperature: As for `llm_step`.
        timeout: As for `llm_step`.
        retry: As for `llm_step`.
        heartbeat_timeout: As for `llm_step`.
        max_repairs: As for `llm_step`.
        input_type: As for `llm_step`.
        task_queue: As for `llm_step`.

    Raises:
        DefinitionError: `choices` is empty, has duplicates or non-strings.
    """
    labels = _check_choices(name, choices)
    decision = _decision_model(name, labels)
    instruction = (
        f"Choose exactly one of: {', '.join(repr(c) for c in labels)}."
        ' Reply with a JSON object {"choice": "<one of the choices>"}.'
    )
    full_system = f"{system}\n\n{instruction}" if system else instruction
    _check_definition(name, prompt, decision)
    call = _ModelCall(name, prompt, full_system, provider, model, temperature, max_repairs)
    parse = _decision_parser(decision, labels)

    async def run(arg: Any) -> str:
        result = await call.structured(await call.messages(arg), decision, parse)
        return cast(str, result.choice)  # type: ignore[attr-defined]

    run.__annotations__ = {"arg": input_type, "return": str}
    return _declare(run, name, timeout, retry, heartbeat_timeout, task_queue)


def bare_label(text: str, choices: Sequence[str]) -> str | None:
    """Return the choice that a reply consisting of just a label names, else `None`.

    Case, surrounding whitespace, one pair of quotes (`"`, `'`, backticks, typographic)
    and a trailing period are ignored: `' "Expedite." '` names `expedite`. Anything
    more (a sentence, JSON) names nothing.

    Args:
        text: The model's reply.
        choices: The allowed labels.
    """
    by_folded = {choice.strip().casefold(): choice for choice in choices}
    for candidate in _label_forms(text):
        if candidate.casefold() in by_folded:
            return by_folded[candidate.casefold()]
    return None


def _label_forms(text: str) -> list[str]:
    # Every form is tried, the least stripped first, so a label that itself ends in a
    # period ("Mr.") still matches exactly.
    forms = [text.strip()]
    forms.append(forms[-1].removesuffix(".").strip())
    quoted = forms[-1]
    if len(quoted) >= 2 and _QUOTES.get(quoted[0]) == quoted[-1]:
        forms.append(quoted[1:-1].strip())
        forms.append(forms[-1].removesuffix(".").strip())
    return forms


def _decision_parser(
    decision: type[pydantic.BaseModel], labels: tuple[str, ...]
) -> Callable[[str], pydantic.BaseModel]:
    def parse(text: str) -> pydantic.BaseModel:
        label = bare_label(text, labels)
        if label is not None:
            return decision(choice=label)
        return parse_output(text, decision)

    return parse


def _check_choices(name: str, choices: Sequence[str]) -> tuple[str, ...]:
    labels = tuple(choices)
    if isinstance(choices, str) or not labels:
        raise DefinitionError(f"LLM decision {name!r}: choices must be a non-empty list of strings")
    if not all(isinstance(c, str) and c for c in labels):
        raise DefinitionError(f"LLM decision {name!r}: every choice must be a non-empty string")
    duplicates = sorted({c for c in labels if labels.count(c) > 1})
    if duplicates:
        raise DefinitionError(f"LLM decision {name!r}: duplicate choices {duplicates}")
    return labels


def _decision_model(name: str, labels: tuple[str, ...]) -> type[pydantic.BaseModel]:
    by_folded = {c.strip().casefold(): c for c in labels}

    def normalise(value: Any) -> Any:
        # "Expedite " means "expedite": accept it instead of spending a repair round trip.
        if isinstance(value, str):
            return by_folded.get(value.strip().casefold(), value)
        return value

    # Built at run time: the choices are data, so neither form is a static type here.
    literal = cast(Any, Literal)[labels]
    choice_type: Any = cast(Any, Annotated)[literal, pydantic.BeforeValidator(normalise)]
    title = "".join(part.capitalize() for part in _words(name)) or "Decision"
    return pydantic.create_model(
        f"{title}Decision",
        choice=(choice_type, pydantic.Field(description="The chosen option.")),
    )


def _words(name: str) -> list[str]:
    return "".join(c if c.isalnum() else " " for c in name).split()
