"""Provider failures classified into Temporal `ApplicationError`s — the one place it happens.

The table (status → error `type`, retryable?):

    429 → LLMRateLimited      retryable, `next_retry_delay` from `Retry-After`
          (429 with code `insufficient_quota` → LLMQuotaExceeded, non-retryable)
    408 → LLMTimeout          retryable
    409 → LLMConflict         retryable
    5xx → LLMServerError      retryable, `next_retry_delay` from `Retry-After`
    connection failure → LLMConnectionError, timeout → LLMTimeout, both retryable
    400 / 422 → LLMBadRequest (context length → LLMContextLengthExceeded), non-retryable
    401 / 403 → LLMAuthError  non-retryable
    404 → LLMNotFound         non-retryable (usually an unknown model name)
    other 4xx → LLMBadRequest non-retryable

Messages name the provider, model and status, never the API key: any secret passed in is
scrubbed from the provider's own message, and the original exception is not chained
(Temporal would serialise the cause into workflow history).
"""

from __future__ import annotations

import email.utils
import math
import time
from collections.abc import Mapping, Sequence
from datetime import timedelta

import temporalio.exceptions

__all__ = ["classify_error", "classify_status", "parse_retry_after"]

_MAX_DETAIL = 300

# status → (error type, retryable, what it means); 5xx and other 4xx are handled in code.
_STATUS_TABLE: dict[int, tuple[str, bool, str]] = {
    400: ("LLMBadRequest", False, "bad request"),
    401: ("LLMAuthError", False, "authentication failed"),
    403: ("LLMAuthError", False, "permission denied"),
    404: ("LLMNotFound", False, "not found"),
    408: ("LLMTimeout", True, "request timeout"),
    409: ("LLMConflict", True, "conflict"),
    422: ("LLMBadRequest", False, "unprocessable request"),
    429: ("LLMRateLimited", True, "rate limited"),
}

_CONTEXT_LENGTH_MARKERS = ("context_length_exceeded", "maximum context length", "context length")


def parse_retry_after(headers: Mapping[str, str], *, now: float | None = None) -> timedelta | None:
    """Read the server's requested retry delay from response headers.

    Understands `retry-after-ms` (milliseconds, sent by OpenAI) and `Retry-After` as
    seconds or as an HTTP date.

    Args:
        headers: Response headers (case-insensitive lookup is done here).
        now: The current POSIX time, for HTTP dates; defaults to `time.time()`.

    Returns:
        The delay, or `None` when absent, unparsable or not in the future.
    """
    lowered = {k.lower(): v for k, v in headers.items()}
    delay: float | None = None
    if "retry-after-ms" in lowered:
        delay = _to_float(lowered["retry-after-ms"])
        delay = delay / 1000 if delay is not None else None
    if delay is None and "retry-after" in lowered:
        raw = lowered["retry-after"].strip()
        delay = _to_float(raw)
        if delay is None:
            delay = _http_date_delay(raw, time.time() if now is None else now)
    if delay is None or not math.isfinite(delay) or delay <= 0:
        return None
    # A server asking for more than an hour is not telling us anything useful; the
    # retry policy's own backoff (and its max) take over beyond that.
    return timedelta(seconds=min(delay, MAX_RETRY_AFTER_SECONDS))


MAX_RETRY_AFTER_SECONDS = 3600.0


def _to_float(raw: str) -> float | None:
    try:
        return float(raw)
    except ValueError:
        return None


def _http_date_delay(raw: str, now: float) -> float | None:
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    return when.timestamp() - now


def classify_status(
    status: int,
    *,
    provider: str,
    model: str,
    headers: Mapping[str, str] | None = None,
    detail: str = "",
    code: str | None = None,
    secrets: Sequence[str] = (),
) -> temporalio.exceptions.ApplicationError:
    """Classify an HTTP error status from a provider.

    Args:
        status: The HTTP status code.
        provider: Provider name, for the message.
        model: Model name, for the message.
        headers: Response headers (for `Retry-After`).
        detail: The provider's own error message; scrubbed of `secrets` and shortened.
        code: The provider's error code (e.g. `"context_length_exceeded"`), if any.
        secrets: Values that must never appear in the message (API keys).

    Returns:
        The error to raise from the activity.
    """
    error_type, retryable, meaning = _STATUS_TABLE.get(
        status,
        ("LLMServerError", True, "server error")
        if status >= 500
        else ("LLMBadRequest", False, "client error"),
    )
    haystack = f"{code or ''} {detail}".lower()
    if status in (400, 413, 422) and any(m in haystack for m in _CONTEXT_LENGTH_MARKERS):
        error_type, meaning = "LLMContextLengthExceeded", "context length exceeded"
    if status == 429 and code == "insufficient_quota":
        # Retrying an exhausted quota only burns attempts; a human must act.
        error_type, retryable, meaning = "LLMQuotaExceeded", False, "quota exceeded"
    delay = parse_retry_after(headers or {}) if retryable else None
    message = f"{provider} model {model!r}: HTTP {status} {meaning}"
    if detail:
        message += f": {_scrub(detail, secrets)}"
    return temporalio.exceptions.ApplicationError(
        message,
        {"provider": provider, "model": model, "status": status, "code": code},
        type=error_type,
        non_retryable=not retryable,
        next_retry_delay=delay,
    )


def classify_error(
    error: BaseException, *, provider: str, model: str, secrets: Sequence[str] = ()
) -> temporalio.exceptions.ApplicationError:
    """Classify an exception raised by a provider's client.

    Understands the `openai` package's exceptions and falls back to connection errors
    (`OSError`, `TimeoutError`) and, for anything else, a retryable `LLMError`.

    Args:
        error: The exception raised by the client.
        provider: Provider name, for the message.
        model: Model name, for the message.
        secrets: Values that must never appear in the message (API keys).

    Returns:
        The error to raise (with `raise ... from None`) from the activity.
    """
    if isinstance(error, temporalio.exceptions.ApplicationError):
        return error
    classified = _classify_openai(error, provider=provider, model=model, secrets=secrets)
    if classified is not None:
        return classified
    if isinstance(error, TimeoutError):
        return _connection("LLMTimeout", "request timed out", provider, model, error, secrets)
    if isinstance(error, OSError):
        return _connection(
            "LLMConnectionError", "connection failed", provider, model, error, secrets
        )
    return temporalio.exceptions.ApplicationError(
        f"{provider} model {model!r}: {type(error).__name__}: {_scrub(str(error), secrets)}",
        {"provider": provider, "model": model},
        type="LLMError",
    )


def _classify_openai(
    error: BaseException, *, provider: str, model: str, secrets: Sequence[str]
) -> temporalio.exceptions.ApplicationError | None:
    try:
        import openai
    except ImportError:  # pragma: no cover - openai is a dependency; be tolerant anyway
        return None
    if isinstance(error, openai.APIStatusError):
        detail, code = _openai_detail(error.body, error.message)
        return classify_status(
            error.status_code,
            provider=provider,
            model=model,
            headers=dict(error.response.headers),
            detail=detail,
            code=code or error.code,
            secrets=secrets,
        )
    if isinstance(error, openai.APITimeoutError):
        return _connection("LLMTimeout", "request timed out", provider, model, error, secrets)
    if isinstance(error, openai.APIConnectionError):
        return _connection(
            "LLMConnectionError", "connection failed", provider, model, error, secrets
        )
    if isinstance(error, openai.APIResponseValidationError):
        return _connection("LLMServerError", "malformed response", provider, model, error, secrets)
    if isinstance(error, openai.ContentFilterFinishReasonError):
        return temporalio.exceptions.ApplicationError(
            f"{provider} model {model!r}: the reply was blocked by the content filter",
            {"provider": provider, "model": model},
            type="LLMContentFiltered",
            non_retryable=True,
        )
    return None


def _openai_detail(body: object, fallback: str) -> tuple[str, str | None]:
    # The client already unwrapped `{"error": {...}}`; the message inside is the useful bit.
    if isinstance(body, Mapping):
        message = body.get("message")
        code = body.get("code")
        return (str(message) if message else fallback), (str(code) if code else None)
    return fallback, None


def _connection(
    error_type: str,
    meaning: str,
    provider: str,
    model: str,
    error: BaseException,
    secrets: Sequence[str],
) -> temporalio.exceptions.ApplicationError:
    detail = _scrub(str(error), secrets)
    return temporalio.exceptions.ApplicationError(
        f"{provider} model {model!r}: {meaning}" + (f": {detail}" if detail else ""),
        {"provider": provider, "model": model},
        type=error_type,
    )


def _scrub(text: str, secrets: Sequence[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text if len(text) <= _MAX_DETAIL else text[: _MAX_DETAIL - 3] + "..."
