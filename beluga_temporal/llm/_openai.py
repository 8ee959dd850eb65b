"""The `"openai"` provider: the official async client against any Chat Completions server.

`openai` is imported when a model is built, never at package import, so workflow code
that imports `beluga_temporal.llm` (for `llm_step` / `llm_decision`) does not pull an HTTP
client into the workflow sandbox.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from beluga_temporal.errors import ConfigurationError
from beluga_temporal.llm._config import ProviderConfig
from beluga_temporal.llm._errors import classify_error
from beluga_temporal.llm._messages import Message, Response, SystemMessage, Usage

if TYPE_CHECKING:
    import openai
    from openai.types.chat import ChatCompletion, ChatCompletionMessageParam
    from openai.types.chat.completion_create_params import ResponseFormat

__all__ = ["OpenAIChatModel"]

# Local OpenAI-compatible servers (Ollama, vLLM, llama.cpp) ignore the key, but the client
# refuses to start without one.
_PLACEHOLDER_KEY = "not-needed"
_SCHEMA_NAME = re.compile(r"[^a-zA-Z0-9_-]")


class OpenAIChatModel:
    """A `ChatModel` on the official `openai.AsyncOpenAI` client.

    The client's own retries are off (`max_retries=0`): Temporal's activity retry policy
    owns retrying, and failures are classified by `classify_error` (rate limits honour
    `Retry-After`). Works with any OpenAI-compatible `base_url`.

    Args:
        config: The model (required), endpoint, key, timeout and defaults. Without
            `api_key`, `OPENAI_API_KEY` is read; without either, a placeholder key is
            used when `base_url` points at a self-hosted server.
        provider: The name this instance reports (the registry name).

    Raises:
        ConfigurationError: No model is configured, or no key for the default endpoint.
    """

    def __init__(self, config: ProviderConfig, *, provider: str = "openai") -> None:
        import openai

        if not config.model:
            raise ConfigurationError(
                f"LLM provider {provider!r} needs a model: set ProviderConfig(model=...),"
                " `llm.model` in settings or BELUGA_LLM_MODEL"
            )
        key = config.api_key.get_secret_value() if config.api_key else None
        key = key or os.environ.get("OPENAI_API_KEY") or None
        if key is None and config.base_url is None:
            raise ConfigurationError(
                f"LLM provider {provider!r} has no API key: set ProviderConfig(api_key=...)"
                " or OPENAI_API_KEY, or set base_url for a server that needs none"
            )
        self._config = config
        self._provider = provider
        self._model = config.model
        self._secrets = [key] if key else []
        self._client: openai.AsyncOpenAI = openai.AsyncOpenAI(
            api_key=key or _PLACEHOLDER_KEY,
            base_url=config.base_url,
            timeout=config.timeout,
            max_retries=0,
        )

    def __repr__(self) -> str:
        base = self._config.base_url or "default endpoint"
        return f"OpenAIChatModel(provider={self._provider!r}, model={self._model!r}, {base})"

    @property
    def provider(self) -> str:
        """The registry name this model was built under."""
        return self._provider

    @property
    def model_name(self) -> str:
        """The configured model name."""
        return self._model

    async def generate(
        self,
        messages: Sequence[Message],
        *,
        output_schema: dict[str, Any] | None = None,
        temperature: float | None = None,
    ) -> Response:
        """Call `POST {base_url}/chat/completions` once (no client-side retries).

        Raises:
            temporalio.exceptions.ApplicationError: Classified provider failure.
        """
        import openai

        if output_schema is not None and self._config.structured_output == "json_object":
            messages = [_schema_instruction(output_schema), *messages]
        temperature = temperature if temperature is not None else self._config.temperature
        try:
            completion = await self._client.chat.completions.create(
                model=self._model,
                messages=[_to_wire(m) for m in messages],
                temperature=temperature if temperature is not None else openai.omit,
                max_tokens=self._config.max_tokens or openai.omit,
                response_format=self._response_format(output_schema),
                extra_body=self._config.extra or None,
            )
        except Exception as error:
            # `from None`: the client's exception would carry request details into history.
            raise self._classify(error) from None
        return self._to_response(completion)

    async def aclose(self) -> None:
        """Close the underlying HTTP connection pool."""
        await self._client.close()

    def _classify(self, error: BaseException) -> Exception:
        return classify_error(
            error, provider=self._provider, model=self._model, secrets=self._secrets
        )

    def _response_format(self, schema: dict[str, Any] | None) -> ResponseFormat | openai.Omit:
        import openai

        if schema is None:
            return openai.omit
        if self._config.structured_output == "json_object":
            return {"type": "json_object"}
        name = _SCHEMA_NAME.sub("_", str(schema.get("title", "output")))[:64] or "output"
        # strict=False: pydantic schemas rarely meet strict mode's rules (every field
        # required, no defaults); validation and repair happen on our side instead.
        return {
            "type": "json_schema",
            "json_schema": {"name": name, "schema": schema, "strict": False},
        }

    def _to_response(self, completion: ChatCompletion) -> Response:
        if not completion.choices:
            raise self._classify(ValueError("the reply has no choices"))
        choice = completion.choices[0]
        refusal = getattr(choice.message, "refusal", None)
        if refusal:
            import temporalio.exceptions

            raise temporalio.exceptions.ApplicationError(
                f"{self._provider} model {self._model!r} refused: {refusal}",
                type="LLMRefused",
                non_retryable=True,
            )
        usage = completion.usage
        return Response(
            text=choice.message.content or "",
            finish_reason=choice.finish_reason,
            usage=Usage(
                input_tokens=usage.prompt_tokens if usage else 0,
                output_tokens=usage.completion_tokens if usage else 0,
                total_tokens=usage.total_tokens if usage else 0,
            ),
            model=completion.model or self._model,
        )


def _to_wire(message: Message) -> ChatCompletionMessageParam:
    # Plain string content is what every OpenAI-compatible server understands.
    if message.role == "system":
        return {"role": "system", "content": message.text}
    if message.role == "assistant":
        return {"role": "assistant", "content": message.text}
    return {"role": "user", "content": message.text}


def _schema_instruction(schema: dict[str, Any]) -> SystemMessage:
    # JSON mode requires the word "JSON" in the prompt, and without the schema the model
    # would have to guess the shape.
    return SystemMessage(
        "Reply with only a JSON object that validates against this JSON schema:\n"
        + json.dumps(schema, sort_keys=True)
    )


def build_openai_model(config: ProviderConfig) -> OpenAIChatModel:
    """Build the `"openai"` provider's model (the registry factory)."""
    return OpenAIChatModel(config)
