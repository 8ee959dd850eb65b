"""`beluga codec-server`: decrypt payloads for the Temporal Web UI and CLI."""

from __future__ import annotations

import asyncio

import click

from beluga_temporal.cli._context import CliContext, pass_cli
from beluga_temporal.cli._errors import EXIT_CONFIGURATION, CliError
from beluga_temporal.cli._signals import stop_on_signals
from beluga_temporal.security import CodecServer, EncryptionCodec

DEFAULT_CODEC_PORT = 8081


def build_server(
    cli: CliContext, host: str, port: int, origins: tuple[str, ...], namespaces: tuple[str, ...]
) -> CodecServer:
    """The codec server for the configured keys (`security.*`)."""
    codec = EncryptionCodec.from_settings(cli.settings())
    if not codec.key_ids:
        raise CliError(
            "no encryption key is configured: set BELUGA_ENCRYPTION_KEY "
            "(security.encryption_key) to the key your workers use",
            EXIT_CONFIGURATION,
        )
    try:
        return CodecServer(
            codec, host=host, port=port, cors_origins=origins, namespaces=namespaces or None
        )
    except OSError as error:
        raise CliError(
            f"cannot listen on {host}:{port}: {error.strerror}", EXIT_CONFIGURATION
        ) from None


async def serve(server: CodecServer) -> None:
    """Serve until SIGINT or SIGTERM."""
    with stop_on_signals() as stop:
        server.start()
        try:
            await stop.wait()
        finally:
            server.stop()


def _describe(server: CodecServer) -> list[str]:
    codec = server.codec
    assert isinstance(codec, EncryptionCodec)
    keys = [f"{k} (current)" if k == codec.key_id else k for k in codec.key_ids]
    lines = [f"Codec server: {server.endpoint}", f"Keys: {', '.join(keys)}"]
    if server.cors_origins:
        lines.append(f"Browser origins: {', '.join(sorted(server.cors_origins))}")
    lines.append(
        f"Web UI: set the codec endpoint to {server.endpoint} (or start the dev server with "
        f"`temporal server start-dev --ui-codec-endpoint {server.endpoint}`)"
    )
    lines.append("Press Ctrl+C to stop.")
    return lines


@click.command("codec-server")
@click.option(
    "--port", type=int, default=DEFAULT_CODEC_PORT, show_default=True, help="Port to listen on."
)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Interface to listen on. Whoever reaches it can decrypt: keep it private.",
)
@click.option(
    "--cors-origin",
    "origins",
    multiple=True,
    help="Browser origin allowed to call it, e.g. the Web UI http://localhost:8233 "
    "(repeatable; '*' allows any).",
)
@click.option(
    "--allow-namespace",
    "namespaces",
    multiple=True,
    help="Serve only requests for this namespace (X-Namespace header; repeatable).",
)
@pass_cli
def codec_server(
    cli: CliContext,
    port: int,
    host: str,
    origins: tuple[str, ...],
    namespaces: tuple[str, ...],
) -> None:
    """Serve Temporal's remote codec protocol with the configured encryption keys.

    The Web UI (and `temporal --codec-endpoint`) POSTs payloads to /encode and /decode
    and shows them decrypted. Keys come from BELUGA_ENCRYPTION_KEY and
    security.previous_keys, as for workers.
    """
    server = build_server(cli, host, port, origins, namespaces)
    for line in _describe(server):
        click.echo(line)
    asyncio.run(serve(server))
    click.echo("Codec server stopped.")
