"""The CLI's shared state: global options, settings and connections."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import click

from beluga_temporal.client import Orchestrator
from beluga_temporal.plugin import BelugaPlugin
from beluga_temporal.settings import BelugaSettings, TemporalSettings


@dataclasses.dataclass
class CliContext:
    """Global options of one `beluga` invocation (the click context object)."""

    config: Path | None = None
    """`--config`: the YAML settings file (default `$BELUGA_CONFIG` or `./beluga.yaml`)."""
    address: str | None = None
    """`--address`: overrides `orchestration.workflow.temporal.address`."""
    namespace: str | None = None
    """`--namespace`: overrides `orchestration.workflow.temporal.namespace`."""
    debug: bool = False
    """`--debug`: show tracebacks."""
    _settings: BelugaSettings | None = None

    def settings(self) -> BelugaSettings:
        """Load the settings once (raises `ConfigurationError` naming the bad key)."""
        if self._settings is None:
            self._settings = BelugaSettings.load(self.config)
        return self._settings

    @property
    def temporal(self) -> TemporalSettings:
        """The Temporal connection settings."""
        return self.settings().orchestration.workflow.temporal

    def task_queue(self, override: str | None = None) -> str:
        """`override`, else the settings' task queue."""
        return override or self.temporal.task_queue

    def connect_options(self) -> tuple[str, str, dict[str, Any]]:
        """Return `(address, namespace, other Client.connect keyword arguments)`."""
        options = self.settings().temporal_connect_kwargs()
        address = self.address or options.pop("target_host")
        namespace = self.namespace or options.pop("namespace")
        options.pop("target_host", None)
        options.pop("namespace", None)
        return address, namespace, options

    async def orchestrator(self, task_queue: str | None = None, **extra: Any) -> Orchestrator:
        """Connect an `Orchestrator` with the global options and settings."""
        address, namespace, options = self.connect_options()
        # the payload codec comes from the same settings (`--config`) as the address
        extra.setdefault("plugins", [BelugaPlugin(settings=self.settings())])
        return await Orchestrator.connect(
            address,
            namespace=namespace,
            task_queue=self.task_queue(task_queue),
            workflow_timeout=self.settings().orchestration.workflow.timeout,
            **options,
            **extra,
        )


def cli_context() -> CliContext:
    """Return the current invocation's `CliContext`."""
    return click.get_current_context().find_object(CliContext) or CliContext()


pass_cli = click.make_pass_decorator(CliContext, ensure=True)
"""Decorator passing the `CliContext` as a command's first argument."""
