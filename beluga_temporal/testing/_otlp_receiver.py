"""A loopback OTLP/HTTP receiver for tests: what the exporters really sent, decoded."""

from __future__ import annotations

import asyncio
import gzip
import threading
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self, TypeVar

from google.protobuf.message import DecodeError, Message
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.metrics.v1.metrics_pb2 import Metric
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

_T = TypeVar("_T")


@dataclass(frozen=True)
class ReceivedSpan:
    """A span as the receiver decoded it; ids are lower-case hex like backends show."""

    name: str
    trace_id: str
    span_id: str
    parent_span_id: str | None
    """`None` for a root span."""
    attributes: dict[str, Any]
    status: str
    """`UNSET`, `OK` or `ERROR`."""
    status_message: str
    kind: str
    """`INTERNAL`, `SERVER`, `CLIENT`, `PRODUCER` or `CONSUMER`."""
    resource: dict[str, Any] = field(default_factory=dict)
    """Resource attributes, e.g. `service.name`."""
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    """`(name, attributes)` of each span event."""
    start_ns: int = 0
    """Start time, nanoseconds since the epoch."""
    end_ns: int = 0
    """End time, nanoseconds since the epoch."""

    @property
    def duration(self) -> float:
        """How long the span lasted, in seconds."""
        return (self.end_ns - self.start_ns) / 1e9


@dataclass(frozen=True)
class MetricPoint:
    """One data point of one exported metric."""

    name: str
    attributes: dict[str, Any]
    value: float
    """The number for sums and gauges; the sum of observations for histograms."""
    kind: str
    """`sum`, `gauge` or `histogram`."""
    count: int | None = None
    """Observations in a histogram point."""
    resource: dict[str, Any] = field(default_factory=dict)


class OTLPReceiver:
    """An OTLP/HTTP (protobuf) collector on loopback that keeps what it receives.

    Accepts `POST /v1/traces` and `/v1/metrics`, serves from a thread, so it
    works with synchronous and asyncio tests alike. With `grpc=True` it also serves
    OTLP/gRPC (the trace and metrics `Export` calls) at `grpc_endpoint`.

    Example:
        ```python
        with OTLPReceiver() as receiver:
            settings = BelugaSettings(observability={"otlp_endpoint": receiver.endpoint})
            ...
            spans = receiver.wait_for_spans(lambda spans: any(s.name == "x" for s in spans))
        ```

    Args:
        host: Interface to listen on. Default `127.0.0.1`.
        port: Port; default 0 picks a free one (see `endpoint`).
        grpc: Also serve OTLP/gRPC on a free port (see `grpc_endpoint`).
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, grpc: bool = False) -> None:
        self._grpc: Any = None
        self._grpc_port = 0
        if grpc:
            self._grpc, self._grpc_port = _grpc_server(self, host)
        self._server = ThreadingHTTPServer((host, port), _handler_for(self))
        self._server.daemon_threads = True
        # a short poll interval: stop() waits for the serving loop to notice
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._changed = threading.Condition()
        self._spans: list[ReceivedSpan] = []
        self._points: list[MetricPoint] = []

    @property
    def endpoint(self) -> str:
        """Base URL to configure as `observability.otlp_endpoint` (protocol `http`)."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def grpc_endpoint(self) -> str:
        """Address to configure with protocol `grpc` (needs `grpc=True`)."""
        if self._grpc is None:
            raise RuntimeError("this receiver serves OTLP/HTTP only: create it with grpc=True")
        host = self._server.server_address[0]
        return f"http://{host!s}:{self._grpc_port}"

    def start(self) -> Self:
        """Start serving in a background thread."""
        self._thread.start()
        if self._grpc is not None:
            self._grpc.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port."""
        self._server.shutdown()
        self._server.server_close()
        if self._grpc is not None:
            self._grpc.stop(grace=None).wait()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def spans(self) -> list[ReceivedSpan]:
        """Return every span received so far, in arrival order."""
        with self._changed:
            return list(self._spans)

    def metric_points(self, name: str | None = None) -> list[MetricPoint]:
        """Return the data points received so far, of metric `name` or of all metrics."""
        with self._changed:
            return [p for p in self._points if name is None or p.name == name]

    def latest_metric_points(self, name: str) -> list[MetricPoint]:
        """Return the last point of each attribute set of metric `name`.

        Cumulative metrics are re-exported on every flush; the last point is the total.
        """
        latest: dict[str, MetricPoint] = {}
        for point in self.metric_points(name):
            latest[repr(sorted(point.attributes.items()))] = point
        return list(latest.values())

    def clear(self) -> None:
        """Forget everything received."""
        with self._changed:
            self._spans.clear()
            self._points.clear()

    def wait_for_spans(
        self, predicate: Callable[[list[ReceivedSpan]], bool], timeout: float = 10.0
    ) -> list[ReceivedSpan]:
        """Block until `predicate(all spans received)` holds; return those spans.

        Raises:
            TimeoutError: When it does not hold within `timeout` seconds; the message
                lists the span names received.
        """
        return self._wait(self.spans, predicate, timeout, "spans")

    def wait_for_metric_points(
        self,
        name: str,
        predicate: Callable[[list[MetricPoint]], bool] = bool,
        timeout: float = 10.0,
    ) -> list[MetricPoint]:
        """Block until `predicate(points of metric name)` holds (default: any point).

        Raises:
            TimeoutError: When it does not hold within `timeout` seconds.
        """
        return self._wait(lambda: self.metric_points(name), predicate, timeout, name)

    async def wait_for_spans_async(
        self, predicate: Callable[[list[ReceivedSpan]], bool], timeout: float = 10.0
    ) -> list[ReceivedSpan]:
        """`wait_for_spans` without blocking the event loop (for code that runs on it)."""
        return await asyncio.to_thread(self.wait_for_spans, predicate, timeout)

    def _wait(
        self,
        read: Callable[[], list[_T]],
        predicate: Callable[[list[_T]], bool],
        timeout: float,
        what: str,
    ) -> list[_T]:
        with self._changed:
            if not self._changed.wait_for(lambda: predicate(read()), timeout):
                raise TimeoutError(f"no matching {what} within {timeout}s; got {self._summary()}")
            return read()

    def _summary(self) -> str:
        names = sorted({s.name for s in self._spans} | {p.name for p in self._points})
        return ", ".join(names) or "nothing"

    def _receive(self, path: str, body: bytes) -> Message:
        request, response = _decoders(path)
        request.ParseFromString(body)
        with self._changed:
            self._store(request)
            self._changed.notify_all()
        return response

    def _store(self, request: Message) -> None:
        if isinstance(request, trace_service_pb2.ExportTraceServiceRequest):
            self._spans.extend(_decode_spans(request))
        elif isinstance(request, metrics_service_pb2.ExportMetricsServiceRequest):
            self._points.extend(_decode_metrics(request))


def _decoders(path: str) -> tuple[Message, Message]:
    if path == "/v1/traces":
        return (
            trace_service_pb2.ExportTraceServiceRequest(),
            trace_service_pb2.ExportTraceServiceResponse(),
        )
    return (
        metrics_service_pb2.ExportMetricsServiceRequest(),
        metrics_service_pb2.ExportMetricsServiceResponse(),
    )


def _handler_for(receiver: OTLPReceiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as exporters' HTTP sessions expect

        def do_POST(self) -> None:
            body = _decompress(
                self.rfile.read(int(self.headers.get("Content-Length", 0))),
                self.headers.get("Content-Encoding", ""),
            )
            if self.path not in ("/v1/traces", "/v1/metrics"):
                self._reply(404, b"")
            elif "json" in self.headers.get("Content-Type", ""):
                self._reply(415, b"only application/x-protobuf is supported")
            else:
                try:
                    self._reply(200, receiver._receive(self.path, body).SerializeToString())
                except DecodeError as exc:
                    self._reply(400, str(exc).encode())

        def _reply(self, status: int, payload: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep test output clean

    return Handler


_GRPC_SERVICES = {
    "opentelemetry.proto.collector.trace.v1.TraceService": "/v1/traces",
    "opentelemetry.proto.collector.metrics.v1.MetricsService": "/v1/metrics",
}


def _grpc_server(receiver: OTLPReceiver, host: str) -> tuple[Any, int]:
    """A gRPC server answering the OTLP `Export` calls with `receiver`'s decoder."""
    import concurrent.futures

    import grpc

    def export(path: str) -> Any:
        def handle(request: bytes, context: Any) -> bytes:
            return receiver._receive(path, request).SerializeToString()

        # raw bytes in and out: the same decoding as the HTTP side
        return grpc.unary_unary_rpc_method_handler(
            handle, request_deserializer=bytes, response_serializer=bytes
        )

    server = grpc.server(concurrent.futures.ThreadPoolExecutor(max_workers=4))
    for service, path in _GRPC_SERVICES.items():
        server.add_generic_rpc_handlers(
            (grpc.method_handlers_generic_handler(service, {"Export": export(path)}),)
        )
    port = server.add_insecure_port(f"{host}:0")
    return server, port


def _decompress(body: bytes, encoding: str) -> bytes:
    if encoding == "gzip":
        return gzip.decompress(body)
    if encoding == "deflate":
        return zlib.decompress(body)
    return body


def _value(value: AnyValue) -> Any:
    kind = value.WhichOneof("value")
    if kind == "array_value":
        return [_value(v) for v in value.array_value.values]
    if kind == "kvlist_value":
        return _attributes(value.kvlist_value.values)
    return None if kind is None else getattr(value, kind)


def _attributes(pairs: Iterable[KeyValue]) -> dict[str, Any]:
    return {pair.key: _value(pair.value) for pair in pairs}


def _hex(raw: bytes) -> str | None:
    return raw.hex() if raw else None


def _decode_spans(request: trace_service_pb2.ExportTraceServiceRequest) -> list[ReceivedSpan]:
    return [
        _span(span, _attributes(rs.resource.attributes))
        for rs in request.resource_spans
        for scope in rs.scope_spans
        for span in scope.spans
    ]


def _span(span: Span, resource: dict[str, Any]) -> ReceivedSpan:
    return ReceivedSpan(
        name=span.name,
        trace_id=span.trace_id.hex(),
        span_id=span.span_id.hex(),
        parent_span_id=_hex(span.parent_span_id),
        attributes=_attributes(span.attributes),
        status=Status.StatusCode.Name(span.status.code).removeprefix("STATUS_CODE_"),
        status_message=span.status.message,
        kind=Span.SpanKind.Name(span.kind).removeprefix("SPAN_KIND_"),
        resource=resource,
        events=[(e.name, _attributes(e.attributes)) for e in span.events],
        start_ns=span.start_time_unix_nano,
        end_ns=span.end_time_unix_nano,
    )


def _decode_metrics(request: metrics_service_pb2.ExportMetricsServiceRequest) -> list[MetricPoint]:
    return [
        point
        for rm in request.resource_metrics
        for scope in rm.scope_metrics
        for metric in scope.metrics
        for point in _points(metric, _attributes(rm.resource.attributes))
    ]


def _points(metric: Metric, resource: dict[str, Any]) -> list[MetricPoint]:
    kind = metric.WhichOneof("data")
    if kind in ("sum", "gauge"):
        data = metric.sum if kind == "sum" else metric.gauge
        return [
            MetricPoint(
                name=metric.name,
                attributes=_attributes(p.attributes),
                value=getattr(p, p.WhichOneof("value") or "as_int"),
                kind=kind,
                resource=resource,
            )
            for p in data.data_points
        ]
    if kind == "histogram":
        return [
            MetricPoint(
                name=metric.name,
                attributes=_attributes(p.attributes),
                value=p.sum,
                kind=kind,
                count=p.count,
                resource=resource,
            )
            for p in metric.histogram.data_points
        ]
    return []  # exponential histograms and summaries: not produced by this framework
