"""`llm_step` and `llm_decision`: LLM calls declared as ordinary `@step`s."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Annotated, Any, Literal, TypeVar, cast, overload

import opentelemetry.trace
import pydantic
import temporalio.exceptions

from beluga_temporal.declare._step import AsyncStep, step
from beluga_temporal.errors import ConfigurationError, DefinitionError
from beluga_temporal.llm._heartbeat import heartbeating
from beluga_temporal.llm._messages import Message, Usage
from beluga_temporal.llm._prompt import PromptSource, build_messages
from beluga_temporal.llm._registry import ChatModel
from beluga_temporal.llm._resolve import resolve_model
from beluga_temporal.llm._structured import DEFAULT_MAX_REPAIRS, generate_structured
from beluga_temporal.observability._metrics import record_llm_tokens
from beluga_temporal.plan._options import Duration, RetryPolicy
from beluga_temporal.worker import report_usage

__all__ = ["llm_decision", "llm_step"]

OutputT = TypeVar("OutputT", bound=pydantic.BaseModel)

DEFAULT_LLM_TIMEOUT = 120.0
"""Default bound on one attempt of an LLM step (repairs included), in seconds."""


@overload
def llm_step(
    name: str,
    prompt: PromptSource,
    *,
    output: type[OutputT],
    system: str | None = None,
    provider: str | None = None,
    model: str | None = None,
    temperature: float | None = None,
    timeout: Duration = DEFAULT_LLM_TIMEOUT,
    retry: RetryPolicy | None = None,
    heartbeat_timeout: Duration | None = None,
    max_repairs: int = DEFAULT_MAX_REPAIRS,
    input_type: Any = Any,
    task_queue: str | None = None,
) -> AsyncStep[Any, OutputT]: ...
@overload
def llm_step(
    name: str,
    prompt: PromptSource,
    *,
    output: None = None,
    system: str | None = None,
    provider: str | None = None,
    model: str | None = None,
    temperature: float | None = None,
    timeout: Duration = DEFAULT_LLM_TIMEOUT,
    retry: RetryPolicy | None = None,
    heartbeat_timeout: Duration | None = None,
    max_repairs: int = DEFAULT_MAX_REPAIRS,
    input_type: Any = Any,
    task_queue: str | None = None,
) -> AsyncStep[Any, str]: ...
def llm_step(
    name: str,
    prompt: PromptSource,
    *,
    output: type[pydantic.BaseModel] | None = None,
    system: str | None = None,
    provider: str | None = None,
    model: str | None = None,
    temperature: float | None = None,
    timeout: Duration = DEFAULT_LLM_TIMEOUT,
    retry: RetryPolicy | None = None,
    heartbeat_timeout: Duration | None = None,
    max_repairs: int = DEFAULT_MAX_REPAIRS,
    input_type: Any = Any,
    task_queue: str | None = None,
) -> AsyncStep[Any, Any]:
    """Declare a step that asks a chat model and returns its text or a validated model.

    The provider is called inside the step's activity, so the call is retried by
    Temporal (rate limits wait for `Retry-After`) and its result is recorded in history.
    Token usage is reported to the run (see `RunProgress.usage`).

    Args:
        name: The activity type name (wire format: renaming breaks runs in flight).
        prompt: A `str.format` template over the input's fields (`"Order {order_id}"`;
            `{input}` is the whole input; write literal braces as `{{ }}`), or a
            callable getting the input and returning text or a list of messages.
        output: A pydantic model the reply must validate as (structured output);
            `None` returns the reply text.
        system: A system message placed before the conversation.
        provider: A registered provider name; default `BelugaSettings.load().llm.provider`.
        model: The model name; default the settings' `llm.model`.
        temperature: Sampling temperature; default the provider's.
        timeout: Bound on one attempt, repairs included (seconds or `timedelta`; 120 s).
        retry: Retry policy; default the chain/graph default.
        heartbeat_timeout: Declare a heartbeat timeout; the step heartbeats while waiting.
        max_repairs: Times an invalid structured reply is sent back with the validation
            error before the attempt fails with `LLMInvalidOutput` (default 2).
        input_type: The step's input type (e.g. a pydantic model, so the template can use
            attributes); default `Any` (dicts arrive as dicts).
        task_queue: Run on another task queue (e.g. one served by LLM workers).

    Raises:
        DefinitionError: The prompt is neither a string nor callable, or `output` is not
            a pydantic model class.
    """
    _check_definition(name, prompt, output)
    call = _ModelCall(name, prompt, system, provider, model, temperature, max_repairs)

    async def run(arg: Any) -> Any:
        messages = await call.messages(arg)
        if output is None:
            return await call.text(messages)
        return await call.structured(messages, output)

    run.__annotations__ = {"arg": input_type, "return": output or str}
    return _declare(run, name, timeout, retry, heartbeat_timeout, task_queue)


def llm_decision(
    name: str,
    prompt: PromptSource,
    choices: Sequence[str],
    *,
    system: str | None = None,
    provider: str | None = None,
    model: str | None = None,
    temperature: float | None = None,
    timeout: Duration = DEFAULT_LLM_TIMEOUT,
    retry: RetryPolicy | None = None,
    heartbeat_timeout: Duration | None = None,
    max_repairs: int = DEFAULT_MAX_REPAIRS,
    input_type: Any = Any,
    task_queue: str | None = None,
) -> AsyncStep[Any, str]:
    """Declare an LLM step that returns exactly one of `choices`.

    The model is asked for `{"choice": ...}` constrained to the choices (an enum in the
    JSON schema); an answer that differs only in case or surrounding spaces is accepted,
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

    async def run(arg: Any) -> str:
        result = await call.structured(await call.messages(arg), decision)
        return cast(str, result.choice)  # type: ignore[attr-defined]

    run.__annotations__ = {"arg": input_type, "return": str}
    return _declare(run, name, timeout, retry, heartbeat_timeout, task_queue)


class _ModelCall:
    """What an LLM step does inside its activity: build messages, call, account usage."""

    def __init__(
        self,
        step: str,
        prompt: PromptSource,
        system: str | None,
        provider: str | None,
        model: str | None,
        temperature: float | None,
        max_repairs: int,
    ) -> None:
        self.step = step
        self.prompt = prompt
        self.system = system
        self.provider = provider
        self.model = model
        self.temperature = temperature
        self.max_repairs = max_repairs

    async def messages(self, arg: Any) -> list[Message]:
        return await build_messages(self.step, self.prompt, self.system, arg)

    async def text(self, messages: list[Message]) -> str:
        chat = self._chat_model()
        async with heartbeating():
            response = await chat.generate(messages, temperature=self.temperature)
        _report(response.usage, chat)
        return response.text

    async def structured(self, messages: list[Message], output: type[OutputT]) -> OutputT:
        chat = self._chat_model()
        async with heartbeating():
            result = await generate_structured(
                chat, messages, output, temperature=self.temperature, max_repairs=self.max_repairs
            )
        # Repairs count; an attempt that fails reports nothing (its result is discarded).
        _report(result.usage, chat)
        return result.output

    def _chat_model(self) -> ChatModel:
        try:
            return resolve_model(self.provider, self.model)
        except ConfigurationError as error:
            # Configuration does not fix itself between attempts: fail the step at once.
            raise temporalio.exceptions.ApplicationError(
                f"LLM step {self.step!r}: {error}", type="ConfigurationError", non_retryable=True
            ) from None


def _report(usage: Usage, chat: ChatModel) -> None:
    report_usage(usage.input_tokens, usage.output_tokens)
    record_llm_tokens(
        provider=chat.provider,
        model=chat.model_name,
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
    )
    # GenAI semantic conventions on the activity's span (never the prompt or the key).
    span = opentelemetry.trace.get_current_span()
    if span.is_recording():
        span.set_attribute("gen_ai.provider.name", chat.provider)
        span.set_attribute("gen_ai.request.model", chat.model_name)
        span.set_attribute("gen_ai.usage.input_tokens", usage.input_tokens)
        span.set_attribute("gen_ai.usage.output_tokens", usage.output_tokens)


def _declare(
    run: Callable[[Any], Awaitable[Any]],
    name: str,
    timeout: Duration,
    retry: RetryPolicy | None,
    heartbeat_timeout: Duration | None,
    task_queue: str | None,
) -> AsyncStep[Any, Any]:
    run.__name__ = run.__qualname__ = name  # the step's repr and activity docs show it
    decorator = step(
        name=name,
        timeout=timeout,
        retry=retry,
        heartbeat_timeout=heartbeat_timeout,
        task_queue=task_queue,
    )
    return decorator(run)


def _check_definition(name: str, prompt: object, output: object) -> None:
    if not isinstance(prompt, str) and not callable(prompt):
        raise DefinitionError(
            f"LLM step {name!r}: prompt must be a template string or a callable, got {prompt!r}"
        )
    if output is not None and not (
        isinstance(output, type) and issubclass(output, pydantic.BaseModel)
    ):
        raise DefinitionError(
            f"LLM step {name!r}: output must be a pydantic model class, got {output!r}"
        )


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
