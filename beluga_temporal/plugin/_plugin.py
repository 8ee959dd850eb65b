"""`BelugaPlugin`: the converter and sandbox settings generated workflows need."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import temporalio.client
import temporalio.plugin
import temporalio.worker
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter
from temporalio.worker import WorkflowRunner
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

from beluga_temporal.observability import current_observability

PLUGIN_NAME = "beluga-temporal"

# The framework module holding generated classes and plans must be the same object inside
# and outside the sandbox; pydantic is passed through because re-importing it per
# workflow run is slow and it is deterministic.
PASSTHROUGH_MODULES = ("beluga_temporal", "pydantic", "pydantic_core", "annotated_types")


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


def _converter(existing: DataConverter | None) -> DataConverter:
    # Keep a converter the user chose on purpose; replace only the JSON-only default.
    if existing is None or existing is DataConverter.default:
        return pydantic_data_converter
    return existing


class BelugaPlugin(temporalio.plugin.SimplePlugin):
    """A temporalio plugin that makes generated workflows work on plain temporalio.

    It sets the pydantic data converter and passes beluga's modules through the
    workflow sandbox, so plain `Client`, `Worker` and `Replayer` run generated
    workflows: `Replayer(workflows=[g.workflow], plugins=[BelugaPlugin()])`.
    """

    def __init__(
        self,
        interceptors: Sequence[temporalio.client.Interceptor | temporalio.worker.Interceptor]
        | None = None,
    ) -> None:
        """Create the plugin.

        Args:
            interceptors: Client/worker interceptors to install. Default: Temporal's
                tracing interceptor when `setup_observability` enabled tracing, so one
                trace links client start, workflow, nodes and activities.
        """
        if interceptors is None:
            interceptors = _default_interceptors()
        super().__init__(
            PLUGIN_NAME,
            data_converter=_converter,
            workflow_runner=sandboxed_runner,
            interceptors=list(interceptors),
        )


def _default_interceptors() -> list[temporalio.client.Interceptor | temporalio.worker.Interceptor]:
    observability = current_observability()
    if observability is None:
        return []
    settings = observability.settings
    if not (settings.tracing_enabled and settings.otlp_endpoint):
        return []
    return [observability.tracing_interceptor()]


def has_beluga_plugin(client: temporalio.client.Client) -> bool:
    """Tell whether `client` was created with a `BelugaPlugin`."""
    return any(isinstance(p, BelugaPlugin) for p in client.config().get("plugins", []))
