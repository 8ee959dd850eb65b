"""Pick the chat model an LLM step uses: step arguments, then `BelugaSettings.llm`.

Runs inside activities only. Models are cached per event loop and configuration, so an
`"openai"` model's HTTP connection pool is reused across calls instead of rebuilt.
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from typing import Any

from beluga_temporal.llm._config import ProviderConfig
from beluga_temporal.llm._registry import ChatModel, factory_for
from beluga_temporal.observability import add_secret_values
from beluga_temporal.settings import BelugaSettings, LLMSettings

__all__ = ["clear_model_cache", "resolve_config", "resolve_model"]

_MAX_CACHED = 64
_lock = threading.Lock()
# Per event loop (HTTP pools bind to one), weakly: a finished loop's models go with it,
# and a new loop that reuses an old loop's id never gets a client bound to a dead loop.
_cache: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple[Any, ...], ChatModel]]
_cache = weakref.WeakKeyDictionary()


def _llm_settings() -> LLMSettings:
    return BelugaSettings.load().llm


def resolve_config(provider: str | None, model: str | None) -> tuple[str, ProviderConfig]:
    """Return the provider name and config for a step's `provider` / `model` arguments.

    Settings (`llm.provider`, `llm.model`, `llm.base_url`, `llm.api_key`,
    `llm.timeout`) fill in what the step leaves out. Endpoint, key and model come from
    settings only when the step uses the settings' provider, so a key configured for one
    provider is never sent to another.

    Raises:
        ConfigurationError: The settings cannot be loaded.
    """
    settings = _llm_settings()
    name = provider or settings.provider
    if name != settings.provider:
        return name, ProviderConfig(model=model)
    return name, ProviderConfig(
        model=model or settings.model,
        api_key=settings.api_key,
        base_url=settings.base_url,
        timeout=settings.timeout.total_seconds(),
    )


def resolve_model(provider: str | None, model: str | None) -> ChatModel:
    """Return a (cached) chat model for a step's `provider` / `model` arguments.

    Raises:
        ConfigurationError: Unknown provider, unloadable settings, or a config the
            provider rejects (e.g. no model or key).
    """
    name, config = resolve_config(provider, model)
    factory = factory_for(name)
    secret = config.api_key.get_secret_value() if config.api_key else None
    # The factory object is in the key: re-registering a name (tests) must not reuse
    # a model built by the old factory. The loop is in it because HTTP pools bind to one.
    add_secret_values(secret)  # scrubbed from logs and spans from now on
    key = (name, factory, config.model_dump_json(), secret)
    loop = asyncio.get_running_loop()
    with _lock:
        cached = _cache.get(loop, {}).get(key)
    if cached is not None:
        return cached
    built = factory(config)
    with _lock:
        models = _cache.setdefault(loop, {})
        if len(models) >= _MAX_CACHED:
            models.clear()
        return models.setdefault(key, built)


def clear_model_cache() -> None:
    """Forget cached models (they are rebuilt on next use)."""
    with _lock:
        _cache.clear()
