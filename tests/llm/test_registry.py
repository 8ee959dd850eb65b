from __future__ import annotations

import pytest

from beluga_temporal import llm
from beluga_temporal.errors import ConfigurationError
from beluga_temporal.llm import FunctionModel, ProviderConfig, TestModel


def test_builtin_providers_are_registered() -> None:
    assert {"openai", "test"} <= set(llm.providers())
    assert isinstance(llm.new("test"), TestModel)


def test_unknown_provider_names_it_and_lists_known_ones() -> None:
    with pytest.raises(ConfigurationError) as info:
        llm.new("antropic", ProviderConfig(model="x"))
    message = str(info.value)
    assert "'antropic'" in message
    assert "'openai'" in message
    assert "'test'" in message


def test_register_refuses_duplicates_unless_replacing() -> None:
    model = FunctionModel(lambda messages, info: "scripted")
    llm.register("scripted-registry-test", lambda config: model)
    try:
        with pytest.raises(ConfigurationError, match="already registered"):
            llm.register("scripted-registry-test", lambda config: model)
        other = FunctionModel(lambda messages, info: "other")
        llm.register("scripted-registry-test", lambda config: other, replace=True)
        assert llm.new("scripted-registry-test") is other
    finally:
        llm.register("scripted-registry-test", lambda config: model, replace=True)


def test_register_rejects_empty_names() -> None:
    with pytest.raises(ConfigurationError, match="non-empty"):
        llm.register("", lambda config: TestModel())


def test_openai_provider_requires_a_model() -> None:
    with pytest.raises(ConfigurationError, match="needs a model"):
        llm.new("openai", ProviderConfig(api_key="k"))


def test_openai_provider_requires_a_key_for_the_default_endpoint(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(ConfigurationError, match="OPENAI_API_KEY"):
        llm.new("openai", ProviderConfig(model="gpt-4o"))
