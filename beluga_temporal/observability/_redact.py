"""What must never leave the process: secrets always, prompt text unless opted in."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

REDACTED = "[redacted]"

# matched against the last dotted segment, lower-cased: `llm.api_key`, `http.authorization`
SECRET_KEYS = frozenset(
    {
        "api_key",
        "apikey",
        "authorization",
        "password",
        "secret",
        "client_key",
        "private_key",
        "access_token",
        "refresh_token",
    }
)

# prompt and completion text (GenAI semantic conventions and our own log fields)
PROMPT_KEYS = frozenset(
    {
        "prompt",
        "completion",
        "messages",
        "gen_ai.prompt",
        "gen_ai.completion",
        "gen_ai.input.messages",
        "gen_ai.output.messages",
        "gen_ai.system_instructions",
    }
)
_PROMPT_PREFIXES = ("gen_ai.prompt.", "gen_ai.completion.")

V = TypeVar("V")


def is_secret_key(key: str) -> bool:
    """Return whether an attribute or log field named `key` holds a credential."""
    return key.rsplit(".", 1)[-1].lower() in SECRET_KEYS


def is_prompt_key(key: str) -> bool:
    """Return whether an attribute or log field named `key` holds prompt/completion text."""
    lowered = key.lower()
    return lowered in PROMPT_KEYS or lowered.startswith(_PROMPT_PREFIXES)


def must_redact(key: str, *, capture_prompts: bool) -> bool:
    """Return whether the value under `key` must be replaced by `REDACTED`."""
    return is_secret_key(key) or (not capture_prompts and is_prompt_key(key))


def redact_mapping(values: Mapping[str, V], *, capture_prompts: bool) -> dict[str, V | str] | None:
    """Return a copy with redacted values, or `None` when nothing needs redacting."""
    if not any(must_redact(key, capture_prompts=capture_prompts) for key in values):
        return None
    return {
        key: REDACTED if must_redact(key, capture_prompts=capture_prompts) else value
        for key, value in values.items()
    }
