"""Provider configuration: which model, where, and with which (secret) key."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

__all__ = ["ProviderConfig"]


class ProviderConfig(BaseModel):
    """How to reach a chat model.

    The API key is a `SecretStr` excluded from `repr`, so it never shows up in logs,
    exceptions or tracebacks. Never pass a `ProviderConfig` as step input or output:
    LLM steps build it inside the activity, so it never enters workflow history.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    api_key: SecretStr | None = Field(default=None, repr=False)
    """The API key. `None` reads the provider's environment variable (`OPENAI_API_KEY`)."""
    model: str | None = None
    """The model name, e.g. `"gpt-4o-mini"` or `"llama3.1"`. Required by `"openai"`."""
    base_url: str | None = None
    """The endpoint of any OpenAI-compatible server (Ollama, vLLM, llama.cpp); `None` is
    the provider's default."""
    timeout: float = 30.0
    """Seconds one HTTP request may take before it fails as a retryable timeout."""
    temperature: float | None = None
    """Default sampling temperature; `None` leaves it to the server."""
    max_tokens: int | None = None
    """Upper bound on generated tokens; `None` leaves it to the server."""
    structured_output: Literal["json_schema", "json_object"] = "json_schema"
    """How a JSON schema is requested: `"json_schema"` (`response_format` with the schema)
    or `"json_object"` (JSON mode plus the schema in a system message, for servers that
    lack schema-constrained decoding)."""
    extra: dict[str, Any] = Field(default_factory=dict)
    """Extra fields merged into every request body (e.g. `{"top_p": 0.9}`)."""

    def secret_values(self) -> list[str]:
        """Return the secrets this config holds, so messages can be scrubbed of them."""
        if self.api_key is None:
            return []
        value = self.api_key.get_secret_value()
        return [value] if value else []
