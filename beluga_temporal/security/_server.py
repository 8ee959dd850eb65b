"""`CodecServer`: Temporal's remote codec protocol over HTTP, for the Web UI and CLI.

`POST …/encode` and `POST …/decode` take and return `{"payloads": [...]}`: a
`temporal.api.common.v1.Payloads` message in protobuf's JSON form (bytes as base64).
Only the last path segment is looked at, so the endpoints can be mounted under any
prefix (`/codec/default/decode`). The `X-Namespace` header names the namespace of the
payloads; browsers preflight with `OPTIONS`, answered for the configured origins.
Bad requests get `400` with a one-line message, as the protocol says.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import Callable, Coroutine, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self

import temporalio.api.common.v1
from google.protobuf import json_format
from temporalio.converter import PayloadCodec

from beluga_temporal.errors import BelugaError

Payload = temporalio.api.common.v1.Payload
Payloads = temporalio.api.common.v1.Payloads

MAX_BODY_BYTES = 64 * 1024 * 1024
"""Largest request body accepted (a history page of payloads fits many times over)."""
CODEC_TIMEOUT = 30.0
"""Seconds one encode/decode may take before the request fails."""
ALLOWED_HEADERS = "Content-Type, X-Namespace, Authorization"
"""What the Web UI sends: the JSON body, the namespace and, optionally, the user's token."""

log = logging.getLogger("beluga_temporal.security.codec_server")


class CodecServer:
    """Serve a payload codec over HTTP (threads; usable from sync and async code).

    Example:
        ```python
        with CodecServer(codec, port=8081, cors_origins=["http://localhost:8233"]) as srv:
            print(srv.endpoint)   # give this to the Web UI as its codec endpoint
        ```
    """

    def __init__(
        self,
        codec: PayloadCodec,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        cors_origins: Sequence[str] = (),
        namespaces: Sequence[str] | None = None,
    ) -> None:
        """Bind the server (it serves after `start()` or `serve_forever()`).

        Args:
            codec: The codec to run, e.g. an `EncryptionCodec`.
            host: Interface to listen on. Default loopback: whoever reaches the server
                can decrypt, so expose it only behind your own access control.
            port: TCP port; 0 picks a free one (see `endpoint`).
            cors_origins: Browser origins allowed to call it, e.g. the Web UI's
                `http://localhost:8233`; `"*"` allows any origin.
            namespaces: Namespaces (`X-Namespace`) to serve; `None` serves all.

        Raises:
            OSError: The address cannot be bound (port in use).
        """
        self.codec = codec
        self.cors_origins = frozenset(o.rstrip("/") for o in cors_origins)
        self.namespaces = frozenset(namespaces) if namespaces is not None else None
        self._loop = asyncio.new_event_loop()  # one loop: codecs may hold loop-bound clients
        self._loop_thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._http = ThreadingHTTPServer((host, port), _handler_for(self))
        self._http.daemon_threads = True
        self._serve_thread: threading.Thread | None = None

    @property
    def endpoint(self) -> str:
        """The base URL to configure as the codec endpoint."""
        host, port = self._http.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> Self:
        """Serve from a background thread."""
        self._start_loop()
        self._serve_thread = threading.Thread(
            target=self._http.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._serve_thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in this thread until `stop()` is called from another (or an interrupt)."""
        self._start_loop()
        try:
            self._http.serve_forever(poll_interval=0.2)
        finally:
            self._close()

    def stop(self) -> None:
        """Stop serving and release the port."""
        if self._serve_thread is None:  # serving in another thread's `serve_forever`
            if self._loop_thread.is_alive():
                self._http.shutdown()
            return
        self._http.shutdown()
        self._serve_thread.join()
        self._serve_thread = None
        self._close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _start_loop(self) -> None:
        if not self._loop_thread.is_alive():
            self._loop_thread.start()

    def _close(self) -> None:
        self._http.server_close()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._loop_thread.join()
        self._loop.close()

    def allows_origin(self, origin: str) -> bool:
        """Whether a browser page from `origin` may call the server."""
        return "*" in self.cors_origins or origin.rstrip("/") in self.cors_origins

    def run(self, action: str, body: bytes) -> bytes:
        """Encode or decode a JSON `Payloads` body; return the JSON answer.

        Raises:
            RequestError: The body is not a JSON `Payloads` message, or the codec
                refused a payload (status 400).
        """
        payloads = _parse(body)
        work: Callable[[Sequence[Payload]], Coroutine[Any, Any, list[Payload]]] = (
            self.codec.encode if action == "encode" else self.codec.decode
        )
        future = asyncio.run_coroutine_threadsafe(work(list(payloads.payloads)), self._loop)
        try:
            result = future.result(CODEC_TIMEOUT)
        except BelugaError as error:
            raise RequestError(400, f"cannot {action}: {error}") from None
        return json_format.MessageToJson(Payloads(payloads=result), indent=None).encode()


class RequestError(Exception):
    """A request the server answers with an error status and a one-line message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _parse(body: bytes) -> Payloads:
    try:
        document = json.loads(body)
    except ValueError as error:
        raise RequestError(400, f"the body is not JSON: {error}") from None
    if not isinstance(document, dict) or not isinstance(document.get("payloads"), list):
        raise RequestError(400, 'the body must be a JSON object {"payloads": [...]}')
    try:
        return json_format.ParseDict(document, Payloads())
    except json_format.ParseError as error:
        raise RequestError(400, f"the body is not a Payloads message: {error}") from None


def _handler_for(server: CodecServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive: the UI sends many small requests
        server_version = "beluga-codec-server"

        def do_OPTIONS(self) -> None:
            origin = self.headers.get("Origin", "")
            if not server.allows_origin(origin):
                self._reply(403, _error(f"origin '{origin}' is not allowed (--cors-origin)"))
                return
            self._reply(204, b"", preflight=True)

        def do_POST(self) -> None:
            try:
                self._check_caller()
                action = self.path.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
                if action not in ("encode", "decode"):
                    raise RequestError(
                        404, f"unknown endpoint '{self.path}': use /encode or /decode"
                    )
                reply = server.run(action, self._body())
            except RequestError as error:
                log.info("%s %s -> %d: %s", self.command, self.path, error.status, error.message)
                self._reply(error.status, _error(error.message))
                return
            except Exception as error:  # the codec failed unexpectedly: say so, keep serving
                log.exception("codec server: %s %s failed", self.command, self.path)
                self._reply(500, _error(f"{type(error).__name__}: {error}"))
                return
            self._reply(200, reply)

        def _check_caller(self) -> None:
            origin = self.headers.get("Origin")
            if origin is not None and not server.allows_origin(origin):
                raise RequestError(403, f"origin '{origin}' is not allowed (--cors-origin)")
            namespace = self.headers.get("X-Namespace")
            if server.namespaces is not None and namespace not in server.namespaces:
                raise RequestError(403, f"namespace '{namespace}' is not served here")

        def _body(self) -> bytes:
            try:
                length = int(self.headers.get("Content-Length", ""))
            except ValueError:
                raise RequestError(411, "a Content-Length header is required") from None
            if length > MAX_BODY_BYTES:
                raise RequestError(413, f"the body is over {MAX_BODY_BYTES} bytes")
            return self.rfile.read(length)

        def _reply(self, status: int, body: bytes, *, preflight: bool = False) -> None:
            self.send_response(status)
            origin = self.headers.get("Origin")
            if origin is not None and server.allows_origin(origin):
                self.send_header("Access-Control-Allow-Origin", origin)
                self.send_header("Access-Control-Allow-Credentials", "true")
                self.send_header("Vary", "Origin")
                if preflight:
                    # echo what the browser asks for: UI versions differ in the headers
                    asked = self.headers.get("Access-Control-Request-Headers")
                    self.send_header("Access-Control-Allow-Methods", "POST, OPTIONS")
                    self.send_header("Access-Control-Allow-Headers", asked or ALLOWED_HEADERS)
                    self.send_header("Access-Control-Max-Age", "600")
            if body:
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            log.debug("codec server: " + format, *args)

    return Handler


def _error(message: str) -> bytes:
    return json.dumps({"error": message}).encode()
