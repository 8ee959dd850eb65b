"""`BelugaPlugin`: the converter, codec and sandbox settings generated workflows need."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Awaitable, Callable, Sequence

import temporalio.client
import temporalio.plugin
import temporalio.worker
from temporalio.converter import DataConverter
from temporalio.service import ConnectConfig, ServiceClient
from temporalio.worker import WorkflowRunner
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

from beluga_temporal.observability import current_observability, quiet_core_runtime
from beluga_temporal.plugin._converter import pydantic_converter
from beluga_temporal.security import EncryptionCodec, encryption_codec_of, with_encryption
from beluga_temporal.settings import BelugaSettings

PLUGIN_NAME = "beluga-temporal"

# The framework module holding generated classes and plans must be the same object inside
# and outside the sandbox; pydantic is passed through because re-importing it per
# workflow run is slow and it is deterministic; opentelemetry because workflow-side spans
# must reach the process's tracer provider and context (as Temporal's OpenTelemetryPlugin
# does).
PASSTHROUGH_MODULES = (
    "beluga_temporal",
    "pydantic",
    "pydantic_core",
    "annotated_types",
    "opentelemetry",
)


def sandboxed_runner(existing: WorkflowRunner | None = None) -> WorkflowRunner:
    """Return the sandboxed runner with beluga's modules passed through.

    An existing non-sandboxed runner (e.g. `UnsandboxedWorkflowRunner`) is kept as is.
    """
    if existing is None:
        existing = SandboxedWorkflowRunner()
    if not isinstance(existing, SandboxedWorkflowRunner):
        return existing
    restrictions = existing.restrictions.with_passthrough_modules(*PASSTHROUGH_MODULES)
    return dataclasses.replace(existing, restrictions=restrictions)


def _converter(existing: DataConverter | None, *, codec: EncryptionCodec) -> DataConverter:
    # Keep a converter the user chose on purpose; replace only the JSON-only default.
    if existing is None or existing is DataConverter.default:
        existing = pydantic_converter
    return with_encryption(existing, codec)


class BelugaPlugin(temporalio.plugin.SimplePlugin):
    """A temporalio plugin that makes generated workflows work on plain temporalio.

    It sets the pydantic data converter with beluga's payload codec (AES-256-GCM
    encryption when `security.encryption_key` is set, see `beluga_temporal.security`)
    and passes beluga's modules through the workflow sandbox, so plain `Client`,
    `Worker` and `Replayer` run generated workflows:
    `Replayer(workflows=[g.workflow], plugins=[BelugaPlugin()])`. The codec lives on the
    data converter, which temporalio takes from the client: give the plugin to the
    client (workers inherit it) or to the `Replayer`.
    """

    def __init__(
        self,
        interceptors: Sequence[temporalio.client.Interceptor | temporalio.worker.Interceptor]
        | None = None,
        *,
        payload_codec: EncryptionCodec | None = None,
        settings: BelugaSettings | None = None,
    ) -> None:
        """Create the plugin.

        Args:
            interceptors: Client/worker interceptors to install. Default: Temporal's
                tracing interceptor when `setup_observability` enabled tracing, so one
                trace links client start, workflow, nodes and activities.
            payload_codec: The encryption codec. Default: built from the `security`
                settings (`BELUGA_ENCRYPTION_KEY`, …); without a key it encrypts
                nothing but names the missing key when it meets an encrypted payload.
            settings: Settings to read `security` from. Default `BelugaSettings.load()`.

        Raises:
            ConfigurationError: The settings are invalid (e.g. a key is not base64 of
                32 bytes).
        """
        if interceptors is None:
            interceptors = _default_interceptors()
        if payload_codec is None:
            payload_codec = EncryptionCodec.from_settings(settings or BelugaSettings.load())
        self.payload_codec = payload_codec
        """The codec this plugin puts on data converters without one."""
        super().__init__(
            PLUGIN_NAME,
            data_converter=functools.partial(_converter, codec=payload_codec),
            workflow_runner=sandboxed_runner,
            interceptors=list(interceptors),
        )

    async def connect_service_client(
        self,
        config: ConnectConfig,
        next: Callable[
            [temporalio.service.ConnectConfig], Awaitable[temporalio.service.ServiceClient]
        ],
    ) -> ServiceClient:
        """Connect with a runtime that keeps Core's log lines off stdout.

        Unless the caller chose a runtime, or `setup_observability` made its own the
        default: temporalio's default runtime prints Core's warnings on stdout, into
        the output of a user's script.
        """
        if config.runtime is None and current_observability() is None:
            config.runtime = quiet_core_runtime()
        return await next(config)


def _default_interceptors() -> list[temporalio.client.Interceptor | temporalio.worker.Interceptor]:
    observability = current_observability()
    if observability is None:
        return []
    if not observability.exports_traces:
        return []
    return [observability.tracing_interceptor()]


def has_beluga_plugin(client: temporalio.client.Client) -> bool:
    """Tell whether `client` was created with a `BelugaPlugin`."""
    return any(isinstance(p, BelugaPlugin) for p in client.config().get("plugins", []))


def with_beluga_plugin(client: temporalio.client.Client) -> temporalio.client.Client:
    """Return `client`, or a client on the same connection with a `BelugaPlugin` added.

    Workers take their data converter (and so the payload codec) from the client, so a
    plain client gets a sibling that has them; the connection is shared, not reopened.
    """
    if has_beluga_plugin(client) and encryption_codec_of(client.data_converter) is not None:
        return client
    config = client.config()
    plugins = [p for p in config.get("plugins", []) if not isinstance(p, BelugaPlugin)]
    config["plugins"] = [*plugins, BelugaPlugin()]
    return temporalio.client.Client(**config)
