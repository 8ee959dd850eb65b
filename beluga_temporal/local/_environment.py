"""`start_environment`: an embedded Temporal server and a connected client."""

from __future__ import annotations

import typing
from collections.abc import Sequence
from typing import Literal

import temporalio.client
from temporalio.testing import WorkflowEnvironment

from beluga_temporal._sdk import TimeSkippingEnvironment
from beluga_temporal.errors import ConfigurationError
from beluga_temporal.local._binaries import dev_server_path, test_server_path
from beluga_temporal.local._server import ServerProcess, free_port

RuntimeKind = Literal["dev", "time-skipping"]

# The dev server polls its history transfer queue at 20/s by default, which costs ~50 ms
# per workflow task round trip; raised, a 3-step chain takes ~25 ms instead of ~200 ms.
# Eager workflow start lets an in-process starter hand the first workflow task straight
# to its own worker (one round trip less per run).
LATENCY_TUNING = (
    "--dynamic-config-value",
    "history.transferProcessorMaxPollRPS=10000",
    "--dynamic-config-value",
    "system.enableEagerWorkflowStart=true",
)
# The dev server writes visibility records (what `beluga list` and the Web UI's run list
# read) from a queue it polls up to 20 times a second: two SQLite writes per run, about a
# third of its CPU per run. Polled twice a second (up to 1000 tasks per poll), a run that
# ends before its start record is written gets only its close record (the server skips
# the start record of a closed run, and the close record then replaces nothing).
# Measured (benchmarks/server_settings.py, benchmarks/README.md): 12-18% less server CPU
# per run under sustained load. The price: a run's records reach lists up to ~0.5 s late
# (eventual consistency, as with any Temporal visibility store; poll, don't expect them at
# once). `beluga dev`, which people watch in the Web UI, keeps the server's default.
_VISIBILITY_BATCHING = (
    "--dynamic-config-value",
    "history.visibilityProcessorMaxPollRPS=2",
    "--dynamic-config-value",
    "history.visibilityTaskBatchSize=1000",
)
# What temporalio's own dev-server launcher passes (updates and no version check).
_SDK_DEV_FLAGS = (
    "--dynamic-config-value",
    "frontend.enableServerVersionCheck=false",
    "--dynamic-config-value",
    "frontend.enableUpdateWorkflowExecution=true",
    "--dynamic-config-value",
    "frontend.enableUpdateWorkflowExecutionAsyncAccepted=true",
)


class _DevEnvironment(WorkflowEnvironment):
    """A dev server we spawned, with the client connected to it."""

    def __init__(self, client: temporalio.client.Client, server: ServerProcess) -> None:
        super().__init__(client)
        self.server = server

    async def shutdown(self) -> None:
        """Stop the server."""
        await self.server.shutdown()


class _TimeSkippingEnvironment(TimeSkippingEnvironment):
    """temporalio's time-skipping environment over a test server we spawned."""

    def __init__(self, client: temporalio.client.Client, server: ServerProcess) -> None:
        super().__init__(client, typing.cast(typing.Any, server))
        self.server = server


def dev_server_args(
    port: int,
    *,
    namespace: str = "default",
    ui_port: int | None = None,
    db_filename: str | None = None,
    extra: Sequence[str] = (),
) -> list[str]:
    """The `temporal server start-dev` command line of the embedded dev server.

    `extra` arguments come last, so they override earlier flags and dynamic config values.
    """
    args = [dev_server_path(), "server", "start-dev", "--ip", "127.0.0.1", "--port", str(port)]
    args += ["--namespace", namespace, "--log-format", "pretty", "--log-level", "warn"]
    args += ["--ui-port", str(ui_port)] if ui_port is not None else ["--headless"]
    if db_filename:
        args += ["--db-filename", db_filename]
    return [*args, *_SDK_DEV_FLAGS, *LATENCY_TUNING, *_VISIBILITY_BATCHING, *extra]


async def start_environment(
    kind: RuntimeKind,
    *,
    ui: bool = False,
    port: int | None = None,
    ui_port: int | None = None,
    db_filename: str | None = None,
    namespace: str = "default",
    server_args: Sequence[str] = (),
) -> WorkflowEnvironment:
    """Start an embedded Temporal server from the pip-installed binaries.

    The server runs in its own session and, on Linux, is killed by the kernel if the
    thread that started it ends without stopping it (see `beluga_temporal.local._server`).
    Stop it with `await env.shutdown()`.

    `server_args` are extra `temporal server start-dev` arguments for the dev server,
    after the defaults (a later flag or dynamic config value wins).

    Raises:
        ConfigurationError: A binary is missing, or the server did not start (the
            message includes what it printed).
    """
    port = port or free_port()
    if kind == "time-skipping":
        if server_args:
            raise ConfigurationError("server_args apply to the dev server, not time-skipping")
        path = test_server_path()
        server = ServerProcess([path, str(port)], port, f"the Temporal test server ({path})")
        return _TimeSkippingEnvironment(await _connect(server, "default"), server)
    if kind == "dev":
        if ui and ui_port is None:
            ui_port = free_port()
        args = dev_server_args(
            port, namespace=namespace, ui_port=ui_port, db_filename=db_filename, extra=server_args
        )
        what = f"the Temporal dev server ({args[0]})"
        server = ServerProcess(args, port, what, graceful=db_filename is not None)
        return _DevEnvironment(await _connect(server, namespace), server)
    raise ConfigurationError(f"unknown local runtime kind {kind!r}: use 'dev' or 'time-skipping'")


async def _connect(server: ServerProcess, namespace: str) -> temporalio.client.Client:
    try:
        return await server.connect(namespace)
    except BaseException:
        server.kill()  # cancelled or failed while starting: nothing may outlive the caller
        raise
