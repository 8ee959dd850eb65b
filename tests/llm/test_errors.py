from __future__ import annotations

import email.utils
from datetime import timedelta

import pytest
from temporalio.exceptions import ApplicationError

from beluga_temporal.llm import classify_error, classify_status, parse_retry_after

NOW = 1_700_000_000.0


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Retry-After": "1"}, timedelta(seconds=1)),
        ({"retry-after": "2.5"}, timedelta(seconds=2.5)),
        ({"Retry-After": email.utils.formatdate(NOW + 30, usegmt=True)}, timedelta(seconds=30)),
        ({"retry-after-ms": "1500", "Retry-After": "9"}, timedelta(seconds=1.5)),
        ({"Retry-After": email.utils.formatdate(NOW - 30, usegmt=True)}, None),
        ({"Retry-After": "soon"}, None),
        ({"Retry-After": "0"}, None),
        ({}, None),
    ],
)
def test_parse_retry_after(headers: dict[str, str], expected: timedelta | None) -> None:
    assert parse_retry_after(headers, now=NOW) == expected


@pytest.mark.parametrize(
    ("status", "error_type", "retryable"),
    [
        (400, "LLMBadRequest", False),
        (401, "LLMAuthError", False),
        (403, "LLMAuthError", False),
        (404, "LLMNotFound", False),
        (408, "LLMTimeout", True),
        (409, "LLMConflict", True),
        (418, "LLMBadRequest", False),
        (422, "LLMBadRequest", False),
        (429, "LLMRateLimited", True),
        (500, "LLMServerError", True),
        (503, "LLMServerError", True),
    ],
)
def test_status_classification(status: int, error_type: str, retryable: bool) -> None:
    error = classify_status(status, provider="openai", model="gpt-4o")
    assert isinstance(error, ApplicationError)
    assert error.type == error_type
    assert error.non_retryable is not retryable
    assert f"HTTP {status}" in error.message
    assert "openai" in error.message
    assert "'gpt-4o'" in error.message


def test_retry_after_sets_next_retry_delay_only_when_retryable() -> None:
    headers = {"Retry-After": "7"}
    rate_limited = classify_status(429, provider="p", model="m", headers=headers)
    assert rate_limited.next_retry_delay == timedelta(seconds=7)
    unavailable = classify_status(503, provider="p", model="m", headers=headers)
    assert unavailable.next_retry_delay == timedelta(seconds=7)
    bad = classify_status(400, provider="p", model="m", headers=headers)
    assert bad.next_retry_delay is None


def test_context_length_and_quota_are_non_retryable_with_their_own_types() -> None:
    too_long = classify_status(
        400,
        provider="p",
        model="m",
        detail="This model's maximum context length is 8192 tokens",
        code="context_length_exceeded",
    )
    assert (too_long.type, too_long.non_retryable) == ("LLMContextLengthExceeded", True)
    quota = classify_status(429, provider="p", model="m", code="insufficient_quota")
    assert (quota.type, quota.non_retryable) == ("LLMQuotaExceeded", True)


def test_secrets_are_scrubbed_from_provider_details() -> None:
    error = classify_status(
        401,
        provider="p",
        model="m",
        detail="Incorrect API key provided: sk-abc123",
        secrets=["sk-abc123"],
    )
    assert "sk-abc123" not in error.message
    assert "***" in error.message
    assert "sk-abc123" not in repr(error.details)


def test_plain_exceptions_are_classified() -> None:
    refused = classify_error(ConnectionRefusedError("refused"), provider="p", model="m")
    assert (refused.type, refused.non_retryable) == ("LLMConnectionError", False)
    timed_out = classify_error(TimeoutError(), provider="p", model="m")
    assert (timed_out.type, timed_out.non_retryable) == ("LLMTimeout", False)
    other = classify_error(RuntimeError("boom"), provider="p", model="m")
    assert (other.type, other.non_retryable) == ("LLMError", False)
    already = ApplicationError("x", type="Mine", non_retryable=True)
    assert classify_error(already, provider="p", model="m") is already


def test_retry_after_that_is_not_a_finite_delay_is_ignored_or_capped() -> None:
    from beluga_temporal.llm._errors import MAX_RETRY_AFTER_SECONDS, parse_retry_after

    assert parse_retry_after({"Retry-After": "inf"}) is None
    assert parse_retry_after({"Retry-After": "nan"}) is None
    assert parse_retry_after({"retry-after-ms": "nan"}) is None
    capped = parse_retry_after({"Retry-After": "1e12"})
    assert capped is not None
    assert capped.total_seconds() == MAX_RETRY_AFTER_SECONDS
