"""The standard `OTEL_*` environment variables as a source of observability settings.

Part of the settings layer (imported by `beluga_temporal.settings` only). What the
OpenTelemetry specification (SDK environment variables, OTLP exporter) defines and
beluga follows:

- `OTEL_EXPORTER_OTLP_ENDPOINT` → `otlp_endpoint`: a base URL (`/v1/traces` and
  `/v1/metrics` are appended over HTTP).
- `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` → `otlp_traces_endpoint`: used as is.
- `OTEL_EXPORTER_OTLP_PROTOCOL` → `otlp_protocol`: `http/protobuf` (`http`) or `grpc`.
- `OTEL_SERVICE_NAME` → `service_name`; else `service.name` of the resource attributes.
- `OTEL_RESOURCE_ATTRIBUTES` → `resource_attributes`: `k=v,k2=v2`, values percent-encoded.
- `OTEL_TRACES_EXPORTER` / `OTEL_METRICS_EXPORTER` → `tracing_enabled` /
  `metrics_enabled`: `otlp` or `none`. `OTEL_SDK_DISABLED=true` turns both off.

Precedence (see `BelugaSettings`): keyword arguments and `BELUGA_*` variables win over
these, which win over the YAML file. A beluga endpoint set by a `BELUGA_*` variable or
an argument makes both endpoint variables ignored, so it receives every signal.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Mapping
from typing import Any

from beluga_temporal.errors import ConfigurationError

DEFAULT_ENDPOINTS = {"http": "http://localhost:4318", "grpc": "http://localhost:4317"}
"""The specification's default collector, used when `otlp` is asked for by name only."""
ENDPOINT_KEYS = ("otlp_endpoint", "otlp_traces_endpoint")
_PROTOCOLS = {"grpc": "grpc", "http/protobuf": "http"}


def otel_observability(environ: Mapping[str, str], *, endpoint_set: bool) -> dict[str, Any]:
    """Return the `observability` settings the `OTEL_*` variables ask for.

    Args:
        environ: The environment (usually `os.environ`).
        endpoint_set: Whether beluga's own configuration (arguments, `BELUGA_*`
            variables) sets an endpoint; the OTLP endpoint variables are then ignored.

    Returns:
        Only the keys some variable sets (empty without `OTEL_*` variables).

    Raises:
        ConfigurationError: A variable has a value beluga cannot honour (a protocol or
            exporter it does not support, a malformed attribute list); the message
            names the variable.
    """
    env = {k: v.strip() for k, v in environ.items() if k.startswith("OTEL_") and v.strip()}
    found: dict[str, Any] = {}
    protocol = _protocol(env.get("OTEL_EXPORTER_OTLP_PROTOCOL"))
    if protocol is not None:
        found["otlp_protocol"] = protocol
    found.update(_switches(env))
    if not endpoint_set:
        found.update(_endpoints(env, protocol or "http"))
    attributes = _resource_attributes(env.get("OTEL_RESOURCE_ATTRIBUTES"))
    if attributes:
        found["resource_attributes"] = attributes
    name = env.get("OTEL_SERVICE_NAME") or attributes.get("service.name")
    if name:
        found["service_name"] = name
    return found


def _protocol(raw: str | None) -> str | None:
    if raw is None:
        return None
    protocol = _PROTOCOLS.get(raw.lower())
    if protocol is None:
        raise ConfigurationError(
            f"OTEL_EXPORTER_OTLP_PROTOCOL={raw!r} is not supported: use 'http/protobuf' or 'grpc'"
        )
    return protocol


def _switches(env: Mapping[str, str]) -> dict[str, bool]:
    disabled = env.get("OTEL_SDK_DISABLED", "").lower() == "true"
    found: dict[str, bool] = {}
    for variable, key in (
        ("OTEL_TRACES_EXPORTER", "tracing_enabled"),
        ("OTEL_METRICS_EXPORTER", "metrics_enabled"),
    ):
        exporters = _exporters(variable, env.get(variable))
        if disabled or exporters == {"none"}:
            found[key] = False
        elif exporters:
            found[key] = True
    return found


def _exporters(variable: str, raw: str | None) -> set[str]:
    if raw is None:
        return set()
    names = {part.strip().lower() for part in raw.split(",") if part.strip()}
    if names - {"otlp", "none"} or (len(names) > 1 and "none" in names):
        raise ConfigurationError(
            f"{variable}={raw!r} is not supported: use 'otlp' or 'none' "
            "(beluga exports over OTLP only)"
        )
    return names


def _endpoints(env: Mapping[str, str], protocol: str) -> dict[str, str]:
    endpoint = env.get("OTEL_EXPORTER_OTLP_ENDPOINT")
    traces = env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    wants_otlp = "otlp" in _exporters("OTEL_TRACES_EXPORTER", env.get("OTEL_TRACES_EXPORTER"))
    if endpoint is None and traces is None and wants_otlp:
        endpoint = DEFAULT_ENDPOINTS[protocol]  # `otlp` named with no endpoint: the default
    found = {"otlp_endpoint": endpoint, "otlp_traces_endpoint": traces}
    return {k: v for k, v in found.items() if v is not None}


def _resource_attributes(raw: str | None) -> dict[str, str]:
    if raw is None:
        return {}
    attributes: dict[str, str] = {}
    for item in raw.split(","):
        if not item.strip():
            continue
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigurationError(
                f"OTEL_RESOURCE_ATTRIBUTES: {item.strip()!r} is not key=value "
                "(use e.g. deployment.environment=prod,team=payments)"
            )
        attributes[key.strip()] = urllib.parse.unquote(value.strip())
    return attributes
