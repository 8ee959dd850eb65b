"""What must never leave the process: secrets always, prompt text unless opted in."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

REDACTED = "[redacted]"

# Matched as suffixes of the normalised key (lower case, `-` and `.` as `_`), so
# `openai_api_key`, `http.request.header.x-api-key`, `client_secret` and `Authorization`
# all count.
SECRET_SUFFIXES = (
    "api_key",
    "apikey",
    "authorization",
    "password",
    "passwd",
    "secret",
    "token",
    "client_key",
    "private_key",
    "credentials",
    "cookie",
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
    normalised = key.lower().replace("-", "_").replace(".", "_")
    return normalised.endswith(SECRET_SUFFIXES)


_secret_values: set[str] = set()


def add_secret_values(*values: str | None) -> None:
    """Register secret values (configured API keys) to scrub from any text."""
    _secret_values.update(v for v in values if v and len(v) >= 6)


def scrub(value: object, *, capture_prompts: bool) -> object:
    """Redact secrets inside nested dicts/lists and known secret values inside strings."""
    if isinstance(value, str):
        for secret in _secret_values:
            if secret in value:
                value = value.replace(secret, REDACTED)
        return value
    if isinstance(value, Mapping):
        return {
            k: REDACTED
            if must_redact(str(k), capture_prompts=capture_prompts)
            else scrub(v, capture_prompts=capture_prompts)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return type(value)(scrub(v, capture_prompts=capture_prompts) for v in value)
    return value


def is_prompt_key(key: str) -> bool:
    """Return whether an attribute or log field named `key` holds prompt/completion text."""
    lowered = key.lower()
    return lowered in PROMPT_KEYS or lowered.startswith(_PROMPT_PREFIXES)


def must_redact(key: str, *, capture_prompts: bool) -> bool:
    """Return whether the value under `key` must be replaced by `REDACTED`."""
    return is_secret_key(key) or (not capture_prompts and is_prompt_key(key))


def redact_mapping(values: Mapping[str, V], *, capture_prompts: bool) -> dict[str, V | str] | None:
    """Return a copy with redacted values, or `None` when nothing needs redacting."""
    redacted = {
        key: REDACTED
        if must_redact(key, capture_prompts=capture_prompts)
        else scrub(value, capture_prompts=capture_prompts)
        for key, value in values.items()
    }
    if all(redacted[key] is values[key] or redacted[key] == values[key] for key in values):
        return None
    return redacted  # type: ignore[return-value]
