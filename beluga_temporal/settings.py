"""Process configuration: a YAML file plus `BELUGA_*` environment overrides.

The schema is the seed document's (`orchestration.chain / graph / workflow`, `llm`) plus
Temporal TLS / API key, observability, payload encryption and the embedded runtime.
Precedence, highest first: keyword arguments → `BELUGA_<SECTION>__<KEY>` variables → the
short aliases (`BELUGA_TEMPORAL_ADDRESS`, …) → the standard `OTEL_*` variables (for
`observability`) → the YAML file → defaults. See `beluga.example.yaml`.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
from contextvars import ContextVar
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

import temporalio.service
import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    FilePath,
    SecretStr,
    ValidationError,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from beluga_temporal._otel_env import ENDPOINT_KEYS, otel_observability
from beluga_temporal.errors import ConfigurationError

__all__ = [
    "BelugaSettings",
    "ChainSettings",
    "GraphSettings",
    "LLMSettings",
    "LocalSettings",
    "ObservabilitySettings",
    "OrchestrationSettings",
    "SecuritySettings",
    "TLSSettings",
    "TemporalSettings",
    "WorkflowSettings",
    "decode_encryption_key",
    "parse_duration",
]

CONFIG_ENV_VAR = "BELUGA_CONFIG"
DEFAULT_CONFIG_FILE = "beluga.yaml"

# Short names users reach for first; the canonical nested form wins when both are set.
ENV_ALIASES: dict[str, tuple[str, ...]] = {
    "BELUGA_TEMPORAL_ADDRESS": ("orchestration", "workflow", "temporal", "address"),
    "BELUGA_TEMPORAL_NAMESPACE": ("orchestration", "workflow", "temporal", "namespace"),
    "BELUGA_TASK_QUEUE": ("orchestration", "workflow", "temporal", "task_queue"),
    "BELUGA_OTLP_ENDPOINT": ("observability", "otlp_endpoint"),
    "BELUGA_ENCRYPTION_KEY": ("security", "encryption_key"),
}

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def parse_duration(value: Any) -> Any:
    """Turn `30`, `2.5`, `"30s"`, `"500ms"`, `"5m"`, `"1h30m"` into a `timedelta`.

    Args:
        value: Seconds as a number or numeric string, a string of `<number><unit>`
            parts (units `ms`, `s`, `m`, `h`, `d`), or a `timedelta`.

    Returns:
        A `timedelta`; values of other types are returned unchanged for pydantic to
        reject with its own message.

    Raises:
        ValueError: When a string is not a duration.
    """
    if isinstance(value, bool):  # bool is an int: `timeout: yes` must not mean 1 second
        raise ValueError("expected a duration such as 30, '30s', '500ms', '5m' or '1h'")
    if isinstance(value, int | float):
        return _seconds(value, value)
    if not isinstance(value, str):
        return value
    text = value.strip().lower().replace(" ", "")
    try:
        return _seconds(float(text), value)
    except ValueError as error:
        if "too large" in str(error):
            raise
    parts = _DURATION_PART.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise ValueError(f"{value!r} is not a duration (use e.g. 30, '30s', '500ms', '5m', '1h')")
    return _seconds(sum(float(n) * _UNIT_SECONDS[u] for n, u in parts), value)


def _seconds(seconds: float, original: object) -> timedelta:
    try:
        return timedelta(seconds=seconds)
    except OverflowError:
        raise ValueError(f"{original!r} is too large for a duration") from None


def _positive(value: timedelta) -> timedelta:
    if value <= timedelta(0):
        raise ValueError("duration must be greater than 0")
    return value


def _non_negative(value: timedelta) -> timedelta:
    if value < timedelta(0):
        raise ValueError("duration must not be negative")
    return value


PositiveDuration = Annotated[timedelta, BeforeValidator(parse_duration), AfterValidator(_positive)]
NonNegativeDuration = Annotated[
    timedelta, BeforeValidator(parse_duration), AfterValidator(_non_negative)
]


class _Section(BaseModel):
    # forbid: a misspelt key must fail loudly instead of silently using the default
    model_config = ConfigDict(extra="forbid", frozen=True)


class ChainSettings(_Section):
    """Defaults for `Chain`s that do not set their own."""

    timeout: PositiveDuration = timedelta(seconds=300)
    """Bound on a whole chain run (the workflow execution timeout), for chains that set
    none; read when a chain first compiles in a process."""
    max_retries: int = Field(default=3, ge=1)
    """Default attempts (first one included) for chain steps without a retry policy.
    Fixed for each run when it starts."""
    retry_delay: NonNegativeDuration = timedelta(seconds=1)
    """Default initial backoff between those retries. Fixed for each run when it starts."""


class GraphSettings(_Section):
    """Defaults for `Graph`s that do not set their own."""

    max_workers: int = Field(default=10, gt=0)
    """At most this many nodes run at once. Fixed for each run when it starts."""
    parallel_execution: bool = True
    """`false` runs one node at a time in topological order. Fixed for each run when it
    starts."""
    timeout: PositiveDuration = timedelta(seconds=600)
    """Bound on a whole graph run, for graphs that set none; read when a graph first
    compiles in a process."""


class TLSSettings(_Section):
    """TLS for the Temporal connection; an empty `tls: {}` means TLS with system roots.

    Paths are read at connect time and resolved against the working directory.
    """

    client_cert: FilePath | None = None
    """PEM client certificate for mTLS (needs `client_key`)."""
    client_key: FilePath | None = None
    """PEM private key for `client_cert`."""
    server_ca: FilePath | None = None
    """PEM CA bundle to verify the server with, instead of the system roots."""
    server_name: str | None = None
    """Server name (SNI) to verify the server certificate against."""

    @model_validator(mode="after")
    def _cert_and_key_together(self) -> TLSSettings:
        if (self.client_cert is None) != (self.client_key is None):
            raise ValueError("client_cert and client_key must be given together")
        return self

    def to_temporal(self) -> temporalio.service.TLSConfig:
        """Build the `temporalio` TLS configuration, reading the PEM files."""
        return temporalio.service.TLSConfig(
            server_root_ca_cert=_read(self.server_ca),
            domain=self.server_name,
            client_cert=_read(self.client_cert),
            client_private_key=_read(self.client_key),
        )


def _read(path: Path | None) -> bytes | None:
    return None if path is None else path.read_bytes()


class TemporalSettings(_Section):
    """Where the Temporal service is."""

    address: str = Field(default="localhost:7233", min_length=1)
    """`host:port` of the Temporal frontend."""
    namespace: str = Field(default="default", min_length=1)
    """Temporal namespace."""
    task_queue: str = Field(default="beluga-workflows", min_length=1)
    """Task queue workers poll and clients start workflows on."""
    tls: TLSSettings | None = None
    """TLS; `None` means plain text unless `api_key` is set (then TLS with system roots)."""
    api_key: SecretStr | None = None
    """Temporal Cloud API key (sent as a bearer token; never logged)."""


class WorkflowSettings(_Section):
    """Temporal connection and defaults for hand-written workflows."""

    temporal: TemporalSettings = TemporalSettings()
    timeout: PositiveDuration = timedelta(seconds=3600)
    """Default workflow execution timeout."""
    max_retries: int = Field(default=5, ge=1)
    """Default attempts for steps without a retry policy that hand-written workflows call
    (applied by `beluga worker` and the order worker through `create_worker`)."""


class HistorySettings(_Section):
    """When a long chain, graph or session continues as new (see DESIGN section 3.8).

    Temporal ends a run at 51,200 events or 50 MB of history; runs continue as new at a
    quiet point when Temporal suggests it or past these bounds, whichever comes first.
    The values a run starts with travel with it.
    """

    max_events: int = Field(default=20_000, ge=50, le=50_000)
    """Continue as new once a run's history has this many events. Fixed for each run
    when it starts."""
    max_bytes: int = Field(default=20 * 1024 * 1024, ge=64 * 1024, le=48 * 1024 * 1024)
    """Continue as new once a run's history is this large, in bytes (default 20 MiB).
    Fixed for each run when it starts."""


class OrchestrationSettings(_Section):
    """The seed's `orchestration` section."""

    chain: ChainSettings = ChainSettings()
    graph: GraphSettings = GraphSettings()
    workflow: WorkflowSettings = WorkflowSettings()
    history: HistorySettings = HistorySettings()


def _default_llm_provider() -> str:
    return "openai" if os.environ.get("OPENAI_API_KEY") else "test"


class LLMSettings(_Section):
    """Default LLM provider for LLM steps."""

    provider: str = Field(default_factory=lambda: _default_llm_provider(), min_length=1)
    """Registered provider name (`openai`, `test`, …). Default: `openai` when
    `OPENAI_API_KEY` is set, else the offline `test` provider (demos run without a key)."""
    model: str = Field(default="gpt-4o", min_length=1)
    """Model name passed to the provider."""
    timeout: PositiveDuration = timedelta(seconds=30)
    """Per-request timeout."""
    base_url: str | None = None
    """Endpoint of an OpenAI-compatible server; `None` uses the provider's default."""
    api_key: SecretStr | None = None
    """Provider API key (never logged); `None` lets the provider read its own env var."""

    @model_validator(mode="before")
    @classmethod
    def _endpoint_implies_openai(cls, data: Any) -> Any:
        # A configured key or endpoint means a real server: do not fall back to `test`.
        configured = isinstance(data, dict) and (data.get("api_key") or data.get("base_url"))
        if configured and "provider" not in data:
            return {**data, "provider": "openai"}
        return data


def _upper(value: Any) -> Any:
    return value.upper() if isinstance(value, str) else value


class ObservabilitySettings(_Section):
    """Logs, traces and metrics (see `setup_observability`)."""

    otlp_endpoint: str | None = None
    """OTLP collector base URL, e.g. `http://localhost:4318`; `None` disables export.
    Default from `OTEL_EXPORTER_OTLP_ENDPOINT` (see `setup_observability`)."""
    otlp_traces_endpoint: str | None = None
    """Full URL spans are sent to (used as is, e.g. `http://collector:4318/v1/traces`);
    default `<otlp_endpoint>/v1/traces`. From `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`."""
    otlp_protocol: Literal["grpc", "http"] = "http"
    """`http` (protobuf over HTTP, port 4318) or `grpc` (port 4317). From
    `OTEL_EXPORTER_OTLP_PROTOCOL` (`http/protobuf` or `grpc`)."""
    service_name: str = Field(default="beluga", min_length=1)
    """`service.name` resource attribute. From `OTEL_SERVICE_NAME`."""
    resource_attributes: dict[str, str] = Field(default_factory=dict)
    """More resource attributes (e.g. `deployment.environment`), merged over
    `OTEL_RESOURCE_ATTRIBUTES`."""
    log_format: Literal["auto", "console", "json"] = "auto"
    """`auto`: console renderer on a terminal, JSON lines otherwise."""
    log_level: Annotated[
        Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"], BeforeValidator(_upper)
    ] = "INFO"
    """Lowest level of log lines written (to stderr), any case."""
    prometheus_bind: str | None = None
    """`host:port` to serve Temporal SDK metrics for Prometheus instead of OTLP."""
    capture_prompts: bool = False
    """Put prompt and completion text on spans and logs (off: it may hold personal data)."""
    tracing_enabled: bool = True
    """Export spans when an endpoint is set. `OTEL_TRACES_EXPORTER=none` turns it off."""
    metrics_enabled: bool = True
    """Export metrics when `otlp_endpoint` (or `prometheus_bind`) is set.
    `OTEL_METRICS_EXPORTER=none` turns it off."""


AES_KEY_BYTES = 32
"""Length of an encryption key: AES-256."""


def decode_encryption_key(text: str) -> bytes:
    """Decode a base64 encryption key (standard or URL-safe alphabet) and check its size.

    Args:
        text: Base64 of 32 random bytes, e.g. the output of `openssl rand -base64 32`.

    Returns:
        The 32 key bytes.

    Raises:
        ValueError: `text` is not base64, or does not decode to 32 bytes. The message
            never contains the key.
    """
    cleaned = "".join(text.split())
    alphabet = b"-_" if "-" in cleaned or "_" in cleaned else b"+/"
    try:
        key = base64.b64decode(cleaned, altchars=alphabet, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(
            "not valid base64 (generate a key with `openssl rand -base64 32`)"
        ) from None
    if len(key) != AES_KEY_BYTES:
        raise ValueError(
            f"must be base64 of {AES_KEY_BYTES} bytes (AES-256), got {len(key)} bytes "
            "(generate a key with `openssl rand -base64 32`)"
        )
    return key


def _valid_key(value: SecretStr) -> SecretStr:
    decode_encryption_key(value.get_secret_value())
    return value


def _key_list(value: Any) -> Any:
    # `k1,k2` or a JSON list in an environment variable; a YAML list passes through
    if isinstance(value, str):
        if value.lstrip().startswith("["):
            try:
                return json.loads(value)
            except ValueError:
                raise ValueError("not a JSON list of base64 keys") from None
        return [part for part in value.replace(",", " ").split() if part]
    return value


def _blank_is_none(value: Any) -> Any:
    # `BELUGA_ENCRYPTION_KEY=` in a shell or compose file means "no key", not a bad key
    return None if isinstance(value, str) and not value.strip() else value


EncryptionKey = Annotated[SecretStr, AfterValidator(_valid_key)]


class SecuritySettings(_Section):
    """Payload encryption (see `beluga_temporal.security`).

    With `encryption_key` set, every payload (inputs, results, signals, failure
    details) is AES-256-GCM encrypted before it reaches Temporal.
    """

    # a rejected key must not be echoed into an error message or a traceback
    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    encryption_key: Annotated[EncryptionKey | None, BeforeValidator(_blank_is_none)] = None
    """Base64 of 32 random bytes; encrypts new payloads. `None`: no encryption.
    Env: `BELUGA_ENCRYPTION_KEY` (or `BELUGA_SECURITY__ENCRYPTION_KEY`)."""
    previous_keys: Annotated[tuple[EncryptionKey, ...], NoDecode, BeforeValidator(_key_list)] = ()
    """Older keys, still used to decrypt payloads they wrote (key rotation). Env:
    `BELUGA_SECURITY__PREVIOUS_KEYS`, comma-separated."""

    def key_bytes(self) -> tuple[bytes | None, list[bytes]]:
        """Return `(current key, previous keys)` as raw bytes."""
        current = self.encryption_key
        return (
            decode_encryption_key(current.get_secret_value()) if current else None,
            [decode_encryption_key(k.get_secret_value()) for k in self.previous_keys],
        )


class LocalSettings(_Section):
    """The embedded Temporal runtime used by `invoke` and `beluga run --local`."""

    kind: Literal["dev", "time-skipping"] = "dev"
    """`dev`: real-time dev server with Web UI; `time-skipping`: the test server."""


# The YAML document for the `BelugaSettings` being built; a context variable keeps
# `load` re-entrant and thread-safe without a per-call subclass.
_yaml_data: ContextVar[dict[str, Any] | None] = ContextVar("_beluga_yaml_data", default=None)


class BelugaSettings(BaseSettings):
    """All process configuration. Build it with `BelugaSettings.load()`.

    Example:
        ```python
        settings = BelugaSettings.load("beluga.yaml")
        client = await Client.connect(**settings.temporal_connect_kwargs())
        ```
    """

    model_config = SettingsConfigDict(
        env_prefix="BELUGA_",
        env_nested_delimiter="__",
        case_sensitive=False,
        extra="forbid",
        frozen=True,
        # a rejected value may be a key or token: errors name the setting, not the value
        hide_input_in_errors=True,
    )

    orchestration: OrchestrationSettings = OrchestrationSettings()
    llm: LLMSettings = Field(default_factory=LLMSettings)
    observability: ObservabilitySettings = ObservabilitySettings()
    local: LocalSettings = LocalSettings()
    security: SecuritySettings = SecuritySettings()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Order the sources: kwargs, `BELUGA_*__*` env, short aliases, `OTEL_*`, YAML."""
        kwargs = getattr(init_settings, "init_kwargs", {})
        return (
            init_settings,
            env_settings,
            _MappingSource(settings_cls, _alias_env_values()),
            _MappingSource(settings_cls, _otel_env_values(kwargs)),
            _MappingSource(settings_cls, _yaml_data.get() or {}),
        )

    @classmethod
    def load(cls, path: str | os.PathLike[str] | None = None) -> BelugaSettings:
        """Load settings from a YAML file and the environment.

        Args:
            path: The YAML file. Default: `$BELUGA_CONFIG`, else `./beluga.yaml` when it
                exists, else no file (defaults and environment only).

        Returns:
            The validated settings.

        Raises:
            ConfigurationError: The file is missing or not valid YAML, or a key is
                unknown or has a bad value; the message names the file and each key.
        """
        source = _config_path(path)
        data = _read_yaml(source) if source is not None else {}
        token = _yaml_data.set(data)
        try:
            return cls()
        except ValidationError as exc:
            raise ConfigurationError(_describe(exc, source)) from None
        finally:
            _yaml_data.reset(token)

    def temporal_connect_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for `temporalio.client.Client.connect`.

        Returns:
            `target_host`, `namespace`, `tls` (a `TLSConfig`, or `None` to let the SDK
            enable TLS only when an API key is set) and `api_key`.
        """
        temporal = self.orchestration.workflow.temporal
        return {
            "target_host": temporal.address,
            "namespace": temporal.namespace,
            "tls": temporal.tls.to_temporal() if temporal.tls is not None else None,
            "api_key": temporal.api_key.get_secret_value() if temporal.api_key else None,
        }


class _MappingSource(PydanticBaseSettingsSource):
    """A settings source that returns a prepared nested dict."""

    def __init__(self, settings_cls: type[BaseSettings], data: dict[str, Any]) -> None:
        super().__init__(settings_cls)
        self._data = data

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return self._data.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return self._data


def _alias_env_values() -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, keys in ENV_ALIASES.items():
        value = _getenv(name)
        if value is not None:
            node = values
            for key in keys[:-1]:
                node = node.setdefault(key, {})
            node[keys[-1]] = value
    return values


def _otel_env_values(kwargs: dict[str, Any]) -> dict[str, Any]:
    """The standard `OTEL_*` variables, below `BELUGA_*` ones and above the YAML file."""
    given = kwargs.get("observability")
    keys = given.keys() if isinstance(given, dict) else getattr(given, "model_fields_set", ())
    endpoint_set = any(key in keys for key in ENDPOINT_KEYS) or any(
        _getenv(f"BELUGA_OBSERVABILITY__{key}") is not None for key in ENDPOINT_KEYS
    )
    endpoint_set = endpoint_set or _getenv("BELUGA_OTLP_ENDPOINT") is not None
    found = otel_observability(os.environ, endpoint_set=endpoint_set)
    return {"observability": found} if found else {}


def _getenv(name: str) -> str | None:
    # case-insensitive like the BELUGA_*__* variables pydantic-settings reads
    lowered = name.lower()
    return next((v for k, v in os.environ.items() if k.lower() == lowered), None)


def _config_path(path: str | os.PathLike[str] | None) -> Path | None:
    if path is not None:
        return Path(path)
    from_env = os.environ.get(CONFIG_ENV_VAR)
    if from_env:
        return Path(from_env)
    default = Path(DEFAULT_CONFIG_FILE)
    return default if default.is_file() else None


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigurationError(f"{path}: cannot read configuration: {exc.strerror}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        raise ConfigurationError(f"{where}: invalid YAML: {exc.problem or exc}") from None
    except yaml.YAMLError as exc:
        raise ConfigurationError(f"{path}: invalid YAML: {exc}") from None
    if data is None:  # an empty or comment-only file means "all defaults"
        return {}
    if not isinstance(data, dict):
        raise ConfigurationError(f"{path}: the top level must be a mapping of sections")
    return data


def _describe(exc: ValidationError, source: Path | None) -> str:
    """One `<file>: <dotted.key>: <problem>` line per error, like a compiler's."""
    prefix = str(source) if source is not None else "settings"
    lines = []
    for error in exc.errors(include_url=False):
        key = ".".join(str(part) for part in error["loc"])
        problem = "unknown key" if error["type"] == "extra_forbidden" else error["msg"]
        lines.append(f"{prefix}: {key}: {problem}{_env_origin(error['loc'])}")
    return "\n".join(lines)


def _env_origin(loc: tuple[int | str, ...]) -> str:
    """Say which environment variable set a bad value, when one did."""
    # `security.previous_keys.0` comes from the one variable holding the whole list
    keys = tuple(str(part) for part in loc if not isinstance(part, int))
    candidates = ["BELUGA_" + "__".join(keys).upper()]
    candidates += [name for name, path in ENV_ALIASES.items() if path == keys]
    found = [name for name in candidates if _getenv(name) is not None]
    return f" (from ${found[0]})" if found else ""
