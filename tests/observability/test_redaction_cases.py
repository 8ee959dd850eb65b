"""Secrets are recognised by name (any casing or separator), nested, and by value."""

from __future__ import annotations

from beluga_temporal.observability import REDACTED
from beluga_temporal.observability._logging import Redactor
from beluga_temporal.observability._redact import add_secret_values, is_secret_key, redact_mapping


def test_secret_names_in_any_spelling() -> None:
    for key in (
        "api_key",
        "openai_api_key",
        "http.request.header.x-api-key",
        "api-key",
        "Authorization",
        "client_secret",
        "token",
        "refresh_token",
        "db.password",
    ):
        assert is_secret_key(key), key
    for key in ("gen_ai.usage.input_tokens", "beluga.step", "trace_id", "workflow.name"):
        assert not is_secret_key(key), key


def test_log_fields_are_scrubbed_nested_and_by_value() -> None:
    add_secret_values("sk-configured-123456")
    event = {
        "event": "calling with sk-configured-123456",
        "headers": {"Authorization": "Bearer sk-3", "accept": "json"},
        "items": [{"token": "sk-4"}],
        "order_id": "o-1",
    }
    out = Redactor(capture_prompts=False)(None, "info", event)
    assert out["event"] == f"calling with {REDACTED}"
    assert out["headers"] == {"Authorization": REDACTED, "accept": "json"}
    assert out["items"] == [{"token": REDACTED}]
    assert out["order_id"] == "o-1"


def test_span_attributes_redacted_only_when_needed() -> None:
    assert redact_mapping({"beluga.step": "charge"}, capture_prompts=False) is None
    redacted = redact_mapping(
        {"http.request.header.x-api-key": "sk-6", "beluga.step": "charge"}, capture_prompts=False
    )
    assert redacted == {"http.request.header.x-api-key": REDACTED, "beluga.step": "charge"}
