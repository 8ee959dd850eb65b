"""The `beluga` command line (click): dev server, workers, runs, histories, graphs.

`main` is the console-script entry point (`beluga = "beluga_temporal.cli:main"`), also
run by `python -m beluga_temporal`; `cli` is the click group (for `CliRunner`).
"""

from beluga_temporal.cli._app import BelugaGroup, cli, exit_process, main
from beluga_temporal.cli._console import make_console
from beluga_temporal.cli._errors import (
    EXIT_CONFIGURATION,
    EXIT_DEFINITION,
    EXIT_FAILURE,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    CliError,
)
from beluga_temporal.cli._progress import (
    follow_progress,
    format_duration,
    progress_table,
    result_with_progress,
)
from beluga_temporal.cli._signals import stop_on_signals

__all__ = [
    "EXIT_CONFIGURATION",
    "EXIT_DEFINITION",
    "EXIT_FAILURE",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_USAGE",
    "BelugaGroup",
    "CliError",
    "cli",
    "exit_process",
    "follow_progress",
    "format_duration",
    "main",
    "make_console",
    "progress_table",
    "result_with_progress",
    "stop_on_signals",
]
