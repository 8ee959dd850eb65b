"""The provider registry: provider names mapped to chat-model factories."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any, Protocol, runtime_checkable

from beluga_temporal.errors import ConfigurationError
from beluga_temporal.llm._config import ProviderConfig
from beluga_temporal.llm._messages import Message, Response
from beluga_temporal.llm._openai import build_openai_model
from beluga_temporal.llm._test_model import build_test_model

__all__ = ["ChatModel", "ProviderFactory", "factory_for", "new", "providers", "register"]


@runtime_checkable
class ChatModel(Protocol):
    """A chat model: turns a conversation into a `Response`.

    Implementations do their I/O in `generate`, which runs inside activities only.
    Failures are raised as `temporalio.exceptions.ApplicationError` with a retryable or
    non-retryable classification (see `beluga_temporal.llm.classify_error`).
    """

    @property
    def provider(self) -> str:
        """The registered provider name, e.g. `"openai"`."""
        ...

    @property
    def model_name(self) -> str:
        """The model this instance talks to."""
        ...

    async def generate(
        self,
        messages: Sequence[Message],
        *,
        output_schema: dict[str, Any] | None = None,
        temperature: float | None = None,
    ) -> Response:
        """Generate a reply to `messages`.

        Args:
            messages: The conversation, oldest first.
            output_schema: A JSON schema the reply must follow (structured output);
                `None` for free text.
            temperature: Sampling temperature for this call; `None` uses the config's.

        Returns:
            The reply, with usage.
        """
        ...


ProviderFactory = Callable[[ProviderConfig], ChatModel]
"""Builds a `ChatModel` from a `ProviderConfig`."""

_lock = threading.Lock()
# The built-in providers; `register` adds more.
_factories: dict[str, ProviderFactory] = {"openai": build_openai_model, "test": build_test_model}


def register(name: str, factory: ProviderFactory, *, replace: bool = False) -> None:
    """Register a provider under `name`.

    Args:
        name: The provider name used by `new` and `llm_step(provider=...)`.
        factory: Called with a `ProviderConfig`; returns a `ChatModel`.
        replace: Allow replacing an existing registration (default `False`), e.g. to
            swap in a scripted `FunctionModel` in tests.

    Raises:
        ConfigurationError: `name` is empty, or already registered and `replace` is false.
    """
    if not name or not isinstance(name, str):
        raise ConfigurationError(f"LLM provider name must be a non-empty string, got {name!r}")
    with _lock:
        if name in _factories and not replace:
            raise ConfigurationError(
                f"LLM provider {name!r} is already registered; pass replace=True to replace it"
            )
        _factories[name] = factory


def providers() -> list[str]:
    """Return the registered provider names, sorted."""
    with _lock:
        return sorted(_factories)


def new(name: str, config: ProviderConfig | None = None) -> ChatModel:
    """Create a chat model of the provider registered as `name`.

    Args:
        name: A registered provider name (`"openai"`, `"test"`, or your own).
        config: Model, endpoint, key and limits; `None` is `ProviderConfig()`.

    Raises:
        ConfigurationError: No provider is registered as `name` (the message lists the
            known ones), or the provider rejects the config.
    """
    return factory_for(name)(config if config is not None else ProviderConfig())


def factory_for(name: str) -> ProviderFactory:
    """Return the factory registered as `name`.

    Raises:
        ConfigurationError: No provider is registered as `name`; the message lists the
            known ones.
    """
    with _lock:
        factory = _factories.get(name)
    if factory is None:
        known = ", ".join(repr(p) for p in providers()) or "none"
        raise ConfigurationError(f"unknown LLM provider {name!r}; known providers: {known}")
    return factory
