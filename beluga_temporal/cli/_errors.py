"""Exit codes, and the one place where exceptions become one-line CLI errors."""

from __future__ import annotations

from typing import Any

import click

from beluga_temporal.errors import (
    BelugaError,
    ConfigurationError,
    DefinitionError,
    ExecutionError,
)

EXIT_OK = 0
EXIT_FAILURE = 1
"""A run failed, a replay diverged, or an unexpected error occurred."""
EXIT_USAGE = 2
"""Bad command line: unknown option, bad `TARGET`, bad `--input` (click's own code)."""
EXIT_CONFIGURATION = 3
"""Settings are invalid, a binary is missing, or the Temporal server is unreachable."""
EXIT_DEFINITION = 4
"""A chain, graph or step declaration is invalid."""
EXIT_INTERRUPTED = 130
"""Stopped by SIGINT before finishing (the shell's convention: 128 + 2)."""


class CliError(click.ClickException):
    """A failure shown as one `Error: ...` line, exiting with `exit_code`."""

    def __init__(self, message: str, exit_code: int = EXIT_FAILURE) -> None:
        """Create the error.

        Args:
            message: The one line shown after `Error: `.
            exit_code: The process exit code (see the `EXIT_*` constants).
        """
        super().__init__(message)
        # click declares `exit_code` on the class; each error carries its own code.
        self.__dict__["exit_code"] = exit_code


class UsageError(CliError):
    """A bad argument (unknown target module or attribute, unreadable input)."""

    def __init__(self, message: str) -> None:
        """Create the error with exit code `EXIT_USAGE`."""
        super().__init__(message, EXIT_USAGE)


class Interrupted(CliError):
    """Ctrl+C: a message that says what goes on without us, exiting with 130."""

    def __init__(self, message: str) -> None:
        """Create the error with exit code `EXIT_INTERRUPTED`."""
        super().__init__(message, EXIT_INTERRUPTED)

    def show(self, file: Any = None) -> None:
        """Print the message without click's `Error: ` prefix: stopping is not a failure."""
        click.echo(self.format_message(), err=True, file=file)


def _one_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return " ".join(lines) or "unknown error"


def exit_code_for(error: BaseException) -> int:
    """Return the exit code an exception ends the CLI with."""
    if isinstance(error, ConfigurationError):
        return EXIT_CONFIGURATION
    if isinstance(error, DefinitionError):
        return EXIT_DEFINITION
    return EXIT_FAILURE


def to_click_exception(error: BaseException) -> click.ClickException:
    """Turn any exception into a `CliError` with a one-line message and its exit code."""
    if isinstance(error, click.ClickException):
        return error
    if isinstance(error, ExecutionError | ConfigurationError | DefinitionError):
        message = str(error)
    elif isinstance(error, BelugaError):
        message = f"{type(error).__name__}: {error}"
    else:
        message = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
    return CliError(_one_line(message), exit_code_for(error))
