from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from beluga_temporal import llm
from beluga_temporal.llm import ChatModel, ProviderConfig
from beluga_temporal.testing import FakeOpenAIServer

API_KEY = "sk-test-SECRET-0123456789"


@pytest.fixture(autouse=True)
def isolated_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Keep `BelugaSettings.load()` (read by LLM steps) off the developer's config."""
    monkeypatch.chdir(tmp_path)  # no stray beluga.yaml
    for name in list(os.environ):
        if name.startswith(("BELUGA_CONFIG", "BELUGA_LLM")) or name == "OPENAI_API_KEY":
            monkeypatch.delenv(name)


@pytest.fixture
async def fake_openai() -> AsyncIterator[FakeOpenAIServer]:
    async with FakeOpenAIServer(api_key=API_KEY) as server:
        yield server


@pytest.fixture
def openai_config(fake_openai: FakeOpenAIServer) -> ProviderConfig:
    return ProviderConfig(
        api_key=API_KEY, model="gpt-test", base_url=fake_openai.base_url, timeout=5
    )


@pytest.fixture
async def openai_model(openai_config: ProviderConfig) -> AsyncIterator[ChatModel]:
    model = llm.new("openai", openai_config)
    yield model
    assert isinstance(model, llm.OpenAIChatModel)
    await model.aclose()
