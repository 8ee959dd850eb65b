"""`start_environment`: an embedded Temporal server and a connected client."""

from __future__ import annotations

import typing
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
) -> list[str]:
    """The `temporal server start-dev` command line of the embedded dev server."""
    args = [dev_server_path(), "server", "start-dev", "--ip", "127.0.0.1", "--port", str(port)]
    args += ["--namespace", namespace, "--log-format", "pretty", "--log-level", "warn"]
    args += ["--ui-port", str(ui_port)] if ui_port is not None else ["--headless"]
    if db_filename:
        args += ["--db-filename", db_filename]
    return [*args, *_SDK_DEV_FLAGS, *LATENCY_TUNING]


async def start_environment(
    kind: RuntimeKind,
    *,
    ui: bool = False,
    port: int | None = None,
    ui_port: int | None = None,
    db_filename: str | None = None,
    namespace: str = "default",
) -> WorkflowEnvironment:
    """Start an embedded Temporal server from the pip-installed binaries.

    The server runs in its own session and, on Linux, is killed by the kernel if the
    thread that started it ends without stopping it (see `beluga_temporal.local._server`).
    Stop it with `await env.shutdown()`.

    Raises:
        ConfigurationError: A binary is missing, or the server did not start (the
            message includes what it printed).
    """
    port = port or free_port()
    if kind == "time-skipping":
        path = test_server_path()
        server = ServerProcess([path, str(port)], port, f"the Temporal test server ({path})")
        return _TimeSkippingEnvironment(await _connect(server, "default"), server)
    if kind == "dev":
        if ui and ui_port is None:
            ui_port = free_port()
        args = dev_server_args(port, namespace=namespace, ui_port=ui_port, db_filename=db_filename)
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
