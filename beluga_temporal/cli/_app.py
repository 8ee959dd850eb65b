"""The `beluga` root command: global options and error handling in one place."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from pathlib import Path
from typing import Any, NoReturn

import click

from beluga_temporal.cli._codec import codec_server
from beluga_temporal.cli._context import CliContext
from beluga_temporal.cli._control import cancel, describe, terminate
from beluga_temporal.cli._dev import dev
from beluga_temporal.cli._errors import EXIT_INTERRUPTED, to_click_exception
from beluga_temporal.cli._graph import graph
from beluga_temporal.cli._history import history, replay
from beluga_temporal.cli._runs import list_runs, result, run, start, watch
from beluga_temporal.cli._worker import worker


class BelugaGroup(click.Group):
    """A click group that turns every exception into a one-line error and exit code.

    With `--debug` exceptions propagate unchanged, so Python prints the traceback.
    """

    def invoke(self, ctx: click.Context) -> Any:
        """Run the subcommand, translating errors (the CLI's one error boundary)."""
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.Abort, click.ClickException):
            raise
        except KeyboardInterrupt:
            click.echo("Interrupted.", err=True)
            raise click.exceptions.Exit(EXIT_INTERRUPTED) from None
        except Exception as error:
            if ctx.params.get("debug"):
                raise
            raise to_click_exception(error) from error


@click.group(cls=BelugaGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="BELUGA_CONFIG",
    default=None,
    help="Settings file (default: $BELUGA_CONFIG, else ./beluga.yaml if present).",
)
@click.option("--address", default=None, help="Temporal frontend host:port (overrides settings).")
@click.option("--namespace", default=None, help="Temporal namespace (overrides settings).")
@click.option("--debug", is_flag=True, help="Show tracebacks on errors.")
@click.version_option(package_name="beluga-temporal", prog_name="beluga")
@click.pass_context
def cli(
    ctx: click.Context,
    config: Path | None,
    address: str | None,
    namespace: str | None,
    debug: bool,
) -> None:
    """beluga: run chains, graphs and workflows on Temporal.

    TARGET arguments are `module:attribute`, imported with the current directory on
    `sys.path` (e.g. `workflows.order_processing:order_graph`).
    """
    if config is not None:
        # Everything that loads settings later in this process (steps in a worker or a
        # `--local` run, chain defaults) must read the same file.
        os.environ["BELUGA_CONFIG"] = str(config.resolve())
    ctx.obj = CliContext(config=config, address=address, namespace=namespace, debug=debug)


_COMMANDS = (dev, worker, run, start, result, list_runs, watch, describe, cancel, terminate)
for command in (*_COMMANDS, history, replay, graph):
    cli.add_command(command)
cli.add_command(codec_server)


def exit_process(code: int) -> NoReturn:
    """Flush telemetry and output, then end the process without interpreter teardown.

    Temporal's Rust core keeps threads that may touch the GIL while CPython finalizes,
    which can abort a finished process with `PyGILState_Release` (temporalio/sdk-python
    issue 300); skipping finalization after an explicit flush avoids it.
    """
    with contextlib.suppress(Exception):
        from beluga_temporal.observability import shutdown_observability

        shutdown_observability()
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(code)


def _exit_code(error: SystemExit) -> int:
    if error.code is None:
        return 0
    return error.code if isinstance(error.code, int) else 1


def main(args: list[str] | None = None) -> NoReturn:
    """Run the `beluga` command line: the console-script entry point.

    Tests drive the click group `cli` with `CliRunner` instead; this function ends the
    process.
    """
    try:
        cli.main(args=args, prog_name="beluga")
    except SystemExit as error:
        exit_process(_exit_code(error))
    exit_process(0)
