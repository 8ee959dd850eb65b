"""`llm_step`: LLM calls declared as ordinary `@step`s (and what `llm_decision` shares)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, overload

import opentelemetry.trace
import pydantic
import temporalio.exceptions

from beluga_temporal.declare import AsyncStep, step
from beluga_temporal.errors import ConfigurationError, DefinitionError
from beluga_temporal.llm._heartbeat import heartbeating
from beluga_temporal.llm._messages import Message, Usage
from beluga_temporal.llm._prompt import PromptSource, build_messages
from beluga_temporal.llm._registry import ChatModel
from beluga_temporal.llm._resolve import resolve_model
from beluga_temporal.llm._structured import DEFAULT_MAX_REPAIRS, generate_structured
from beluga_temporal.observability import record_llm_tokens
from beluga_temporal.plan import Duration, RetryPolicy
from beluga_temporal.worker import report_usage

__all__ = ["llm_step"]

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

    async def structured(
        self,
        messages: list[Message],
        output: type[OutputT],
        parse: Callable[[str], OutputT] | None = None,
    ) -> OutputT:
        chat = self._chat_model()
        async with heartbeating():
            result = await generate_structured(
                chat,
                messages,
                output,
                temperature=self.temperature,
                max_repairs=self.max_repairs,
                parse=parse,
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
