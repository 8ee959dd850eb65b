"""The standard `OTEL_*` environment variables, applied under beluga's own settings.

What the OpenTelemetry specification (SDK environment variables, OTLP exporter) defines
and beluga follows:

- `OTEL_EXPORTER_OTLP_ENDPOINT` → `otlp_endpoint`: a base URL (`/v1/traces` and
  `/v1/metrics` are appended over HTTP).
- `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` → `otlp_traces_endpoint`: used as is.
- `OTEL_EXPORTER_OTLP_PROTOCOL` → `otlp_protocol`: `http/protobuf` (`http`) or `grpc`.
- `OTEL_SERVICE_NAME` → `service_name`; else `service.name` of the resource attributes.
- `OTEL_RESOURCE_ATTRIBUTES` → `resource_attributes`: `k=v,k2=v2`, values percent-encoded.
- `OTEL_TRACES_EXPORTER` / `OTEL_METRICS_EXPORTER` → `tracing_enabled` /
  `metrics_enabled`: `otlp` or `none`. `OTEL_SDK_DISABLED=true` turns both off.

A setting that beluga's own configuration sets — keyword arguments, `BELUGA_*`
variables or the YAML file — wins over its `OTEL_*` variable. Setting either beluga
endpoint ignores both OTLP endpoint variables, so beluga's endpoint receives everything.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Mapping
from typing import Any

from beluga_temporal.errors import ConfigurationError
from beluga_temporal.settings import ObservabilitySettings

DEFAULT_ENDPOINTS = {"http": "http://localhost:4318", "grpc": "http://localhost:4317"}
"""The specification's default collector, used when `otlp` is asked for by name only."""
_PROTOCOLS = {"grpc": "grpc", "http/protobuf": "http"}
_ENDPOINT_FIELDS = frozenset({"otlp_endpoint", "otlp_traces_endpoint"})


def apply_otel_environment(
    settings: ObservabilitySettings, environ: Mapping[str, str]
) -> ObservabilitySettings:
    """Fill what beluga's configuration left unset from the `OTEL_*` variables.

    Args:
        settings: The observability settings as beluga's configuration set them.
        environ: The environment (usually `os.environ`).

    Returns:
        The settings to use: `settings` itself when no `OTEL_*` variable applies.

    Raises:
        ConfigurationError: An `OTEL_*` variable has a value beluga cannot honour (a
            protocol or exporter it does not support, a malformed attribute list); the
            message names the variable.
    """
    explicit = settings.model_fields_set
    env = {k: v.strip() for k, v in environ.items() if k.startswith("OTEL_") and v.strip()}
    updates: dict[str, Any] = {}
    _protocol(env, explicit, updates)
    _switches(env, explicit, updates)
    protocol = updates.get("otlp_protocol", settings.otlp_protocol)
    if not explicit & _ENDPOINT_FIELDS:
        _endpoints(env, updates, protocol)
    attributes = _resource_attributes(env)
    if attributes:
        updates["resource_attributes"] = {**attributes, **settings.resource_attributes}
    if "service_name" not in explicit:
        name = env.get("OTEL_SERVICE_NAME") or attributes.get("service.name")
        if name:
            updates["service_name"] = name
    return settings.model_copy(update=updates) if updates else settings


def _protocol(env: Mapping[str, str], explicit: set[str], updates: dict[str, Any]) -> None:
    raw = env.get("OTEL_EXPORTER_OTLP_PROTOCOL")
    if raw is None or "otlp_protocol" in explicit:
        return
    protocol = _PROTOCOLS.get(raw.lower())
    if protocol is None:
        raise ConfigurationError(
            f"OTEL_EXPORTER_OTLP_PROTOCOL={raw!r} is not supported: use 'http/protobuf' or 'grpc'"
        )
    updates["otlp_protocol"] = protocol


def _switches(env: Mapping[str, str], explicit: set[str], updates: dict[str, Any]) -> None:
    disabled = env.get("OTEL_SDK_DISABLED", "").lower() == "true"
    for variable, field in (
        ("OTEL_TRACES_EXPORTER", "tracing_enabled"),
        ("OTEL_METRICS_EXPORTER", "metrics_enabled"),
    ):
        if field in explicit:
            continue
        exporters = _exporters(variable, env.get(variable))
        if disabled or exporters == {"none"}:
            updates[field] = False
        elif exporters:
            updates[field] = True


def _exporters(variable: str, raw: str | None) -> set[str]:
    if raw is None:
        return set()
    names = {part.strip().lower() for part in raw.split(",") if part.strip()}
    unsupported = names - {"otlp", "none"}
    if unsupported or (len(names) > 1 and "none" in names):
        raise ConfigurationError(
            f"{variable}={raw!r} is not supported: use 'otlp' or 'none' "
            "(beluga exports over OTLP only)"
        )
    return names


def _endpoints(env: Mapping[str, str], updates: dict[str, Any], protocol: str) -> None:
    endpoint = env.get("OTEL_EXPORTER_OTLP_ENDPOINT")
    traces = env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    wants_otlp = "otlp" in _exporters("OTEL_TRACES_EXPORTER", env.get("OTEL_TRACES_EXPORTER"))
    if endpoint is None and traces is None and wants_otlp:
        endpoint = DEFAULT_ENDPOINTS[protocol]  # `otlp` named with no endpoint: the default
    if endpoint is not None:
        updates["otlp_endpoint"] = endpoint
    if traces is not None:
        updates["otlp_traces_endpoint"] = traces


def _resource_attributes(env: Mapping[str, str]) -> dict[str, str]:
    raw = env.get("OTEL_RESOURCE_ATTRIBUTES")
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
