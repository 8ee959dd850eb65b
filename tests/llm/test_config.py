from __future__ import annotations

import pytest
from temporalio.contrib.pydantic import pydantic_data_converter

from beluga_temporal.llm import ProviderConfig

SECRET = "sk-live-VERY-SECRET"


def test_api_key_is_absent_from_repr_str_and_json() -> None:
    config = ProviderConfig(api_key=SECRET, model="gpt-4o")
    dumped = pydantic_data_converter.payload_converter.to_payloads([config])[0].data.decode()
    for text in (repr(config), str(config), config.model_dump_json(), dumped):
        assert SECRET not in text
    assert config.api_key is not None
    assert config.api_key.get_secret_value() == SECRET


def test_unknown_options_are_rejected() -> None:
    with pytest.raises(ValueError, match="api_kye"):
        # A misspelt option: mypy catches it too; the run-time error is tested.
        ProviderConfig(api_kye="x")  # type: ignore[call-arg]
