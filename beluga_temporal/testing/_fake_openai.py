"""A loopback HTTP server speaking the OpenAI Chat Completions wire format, for tests."""

from __future__ import annotations

import http.server
import itertools
import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self

from beluga_temporal.llm import sample_from_schema

__all__ = ["FakeOpenAIServer", "RecordedRequest"]

DEFAULT_FAKE_TEXT = "Hello from FakeOpenAIServer."
_COMPLETIONS_PATH = "/v1/chat/completions"
_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "invalid_request_error",
    403: "permission_error",
    404: "not_found_error",
    429: "rate_limit_error",
}


@dataclass(frozen=True)
class RecordedRequest:
    """One request the fake server received."""

    method: str
    """HTTP method."""
    path: str
    """Request path, e.g. `/v1/chat/completions`."""
    headers: dict[str, str]
    """Request headers, names lower-cased."""
    body: Any
    """The decoded JSON body, or `None` when absent or not JSON."""
    received_at: float
    """`time.monotonic()` at arrival, to measure gaps between attempts."""

    @property
    def authorization(self) -> str | None:
        """The `Authorization` header, e.g. `"Bearer sk-..."`."""
        return self.headers.get("authorization")

    @property
    def messages(self) -> list[dict[str, Any]]:
        """The Chat Completions `messages` sent."""
        return list(self.body.get("messages", [])) if isinstance(self.body, dict) else []

    @property
    def response_format(self) -> dict[str, Any] | None:
        """The `response_format` sent, if any."""
        return self.body.get("response_format") if isinstance(self.body, dict) else None


@dataclass(frozen=True)
class _Scripted:
    """One queued answer: a completion (`text` set) or a raw response (`body` set)."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    text: str | None = None
    finish_reason: str = "stop"
    usage: dict[str, int] | None = None


class FakeOpenAIServer:
    """A real HTTP server on `127.0.0.1` (port 0) answering `POST /v1/chat/completions`.

    Queue replies and errors with `reply`, `fail` and `respond`; they are served in order.
    With an empty script it answers with schema-valid JSON when the request carries a
    `response_format` JSON schema, `{}` in JSON mode, and `default_text` otherwise. Every
    request is recorded in `requests`.

    Example:
        ```python
        with FakeOpenAIServer() as server:
            server.fail(429, headers={"Retry-After": "1"}).reply("hi")
            model = llm.new("openai", ProviderConfig(model="m", api_key="k",
                                                     base_url=server.base_url))
        ```

    Args:
        model: The model name reported in replies when the request names none.
        default_text: The reply text when the script is empty and no JSON is asked.
        api_key: When set, requests without `Authorization: Bearer <api_key>` get a 401.
    """

    def __init__(
        self,
        *,
        model: str = "fake-model",
        default_text: str = DEFAULT_FAKE_TEXT,
        api_key: str | None = None,
    ) -> None:
        self.model = model
        self.default_text = default_text
        self._api_key = api_key
        self._script: deque[_Scripted] = deque()
        self._requests: list[RecordedRequest] = []
        self._changed = threading.Condition()
        self._closing = threading.Event()
        self._ids = itertools.count(1)
        self._httpd: http.server.ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------------------

    def start(self) -> Self:
        """Bind a free loopback port and serve in a background thread."""
        if self._httpd is not None:
            return self
        self._closing.clear()
        self._httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop serving; delayed replies still waiting are dropped (connection closed)."""
        self._closing.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join()
        self._httpd = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> Self:
        return self.start()

    async def __aexit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        import asyncio

        # `shutdown` waits for the serve loop; keep the event loop free meanwhile.
        await asyncio.to_thread(self.close)

    @property
    def base_url(self) -> str:
        """The OpenAI-style base URL, e.g. `http://127.0.0.1:54321/v1`."""
        if self._httpd is None:
            raise RuntimeError("FakeOpenAIServer is not started; use it as a context manager")
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    # -- scripting -----------------------------------------------------------------------

    def reply(
        self,
        content: str | dict[str, Any] | list[Any],
        *,
        finish_reason: str = "stop",
        usage: dict[str, int] | None = None,
        delay: float = 0.0,
        times: int = 1,
    ) -> Self:
        """Queue a successful completion.

        Args:
            content: The reply text; a dict or list is sent as its JSON text.
            finish_reason: The choice's `finish_reason`.
            usage: `prompt_tokens` / `completion_tokens` / `total_tokens`; word counts
                by default.
            delay: Seconds the server waits before answering (a slow model).
            times: How many times to queue it.
        """
        text = content if isinstance(content, str) else json.dumps(content)
        item = _Scripted(delay=delay, text=text, finish_reason=finish_reason, usage=usage)
        for _ in range(times):
            self._push(item)
        return self

    def fail(
        self,
        status: int,
        *,
        message: str | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
        times: int = 1,
    ) -> Self:
        """Queue an error in OpenAI's format: `{"error": {"message", "type", "code"}}`.

        Args:
            status: HTTP status, e.g. 429, 500, 400.
            message: The error message; a generic one per status by default.
            code: The error code, e.g. `"context_length_exceeded"`.
            headers: Response headers, e.g. `{"Retry-After": "1"}`.
            times: How many times to queue it.
        """
        error = {
            "message": message or f"fake error {status}",
            "type": _ERROR_TYPES.get(status, "server_error" if status >= 500 else "error"),
            "param": None,
            "code": code,
        }
        return self.respond(status, {"error": error}, headers=headers, times=times)

    def respond(
        self,
        status: int,
        body: bytes | str | dict[str, Any],
        *,
        headers: dict[str, str] | None = None,
        delay: float = 0.0,
        times: int = 1,
    ) -> Self:
        """Queue a raw response (any status, body and headers)."""
        raw = json.dumps(body).encode() if isinstance(body, dict) else body
        data = raw.encode() if isinstance(raw, str) else raw
        for _ in range(times):
            self._push(_Scripted(status, data, dict(headers or {}), delay))
        return self

    def _push(self, item: _Scripted) -> None:
        with self._changed:
            self._script.append(item)

    # -- inspection ----------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received so far, in arrival order."""
        with self._changed:
            return list(self._requests)

    @property
    def completion_requests(self) -> list[RecordedRequest]:
        """The `POST /v1/chat/completions` requests received so far."""
        return [r for r in self.requests if r.path == _COMPLETIONS_PATH]

    @property
    def pending(self) -> int:
        """How many scripted responses are still queued."""
        with self._changed:
            return len(self._script)

    def wait_for_requests(self, count: int, timeout: float = 10.0) -> list[RecordedRequest]:
        """Block until `count` requests have arrived; return them.

        Raises:
            TimeoutError: Fewer arrived within `timeout` seconds.
        """
        with self._changed:
            if not self._changed.wait_for(lambda: len(self._requests) >= count, timeout):
                raise TimeoutError(f"expected {count} requests, got {len(self._requests)}")
            return list(self._requests)

    # -- serving -------------------------------------------------------------------------

    def _handle(self, method: str, path: str, headers: dict[str, str], raw: bytes) -> _Scripted:
        body = _decode(raw)
        with self._changed:
            self._requests.append(RecordedRequest(method, path, headers, body, time.monotonic()))
            self._changed.notify_all()
        if path == "/v1/models" and method == "GET":
            return _json(200, {"object": "list", "data": [{"id": self.model, "object": "model"}]})
        if path != _COMPLETIONS_PATH or method != "POST":
            return _json(404, _error_body(f"no route {method} {path}", "not_found_error"))
        if self._api_key is not None and headers.get("authorization") != f"Bearer {self._api_key}":
            # Like OpenAI, but without echoing any part of the key that was sent.
            return _json(401, _error_body("Incorrect API key provided.", "invalid_api_key"))
        if not isinstance(body, dict) or "messages" not in body:
            return _json(400, _error_body("'messages' is a required property", None))
        with self._changed:
            scripted = self._script.popleft() if self._script else None
        if scripted is None:
            return self._completion(body, _Scripted(text=self._default_reply(body)))
        if scripted.text is None:
            return scripted
        return self._completion(body, scripted)

    def _default_reply(self, body: dict[str, Any]) -> str:
        response_format = body.get("response_format") or {}
        if response_format.get("type") == "json_schema":
            schema = response_format.get("json_schema", {}).get("schema", {})
            return json.dumps(sample_from_schema(schema))
        if response_format.get("type") == "json_object":
            return "{}"
        return self.default_text

    def _completion(self, body: dict[str, Any], item: _Scripted) -> _Scripted:
        text = item.text or ""
        prompt_words = sum(len(str(m.get("content", "")).split()) for m in body["messages"])
        usage = item.usage or {
            "prompt_tokens": prompt_words,
            "completion_tokens": len(text.split()),
            "total_tokens": prompt_words + len(text.split()),
        }
        completion = {
            "id": f"chatcmpl-fake-{next(self._ids)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model") or self.model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text, "refusal": None},
                    "finish_reason": item.finish_reason,
                    "logprobs": None,
                }
            ],
            "usage": usage,
        }
        return _json(200, completion, delay=item.delay)


def _decode(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return None


def _error_body(message: str, code: str | None) -> dict[str, Any]:
    return {"error": {"message": message, "type": "invalid_request_error", "code": code}}


def _json(status: int, body: dict[str, Any], *, delay: float = 0.0) -> _Scripted:
    return _Scripted(status, json.dumps(body).encode(), delay=delay)


def _handler_for(server: FakeOpenAIServer) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        # HTTP/1.0: one request per connection, so closing the server never strands
        # a keep-alive connection in a handler thread.
        protocol_version = "HTTP/1.0"

        def do_GET(self) -> None:
            self._serve()

        def do_POST(self) -> None:
            self._serve()

        def _serve(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            raw = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            answer = server._handle(self.command, self.path, headers, raw)
            if answer.delay and server._closing.wait(answer.delay):
                return  # closing: drop the connection instead of answering late
            self.send_response(answer.status)
            extra = {k.lower(): v for k, v in answer.headers.items()}
            if "content-type" not in extra:
                self.send_header("Content-Type", "application/json")
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(answer.body)))
            self.end_headers()
            self.wfile.write(answer.body)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep test output clean; requests are recorded instead

    return Handler
