"""Rich consoles for the CLI's tables: the terminal's width, or unlimited when piped."""

from __future__ import annotations

from typing import IO

from rich.console import Console

PIPED_WIDTH = 100_000
"""Width used when output is not a terminal: tables keep whole values (no `…`)."""


def make_console(*, stderr: bool = False, file: IO[str] | None = None) -> Console:
    """Return a console for tables and live progress.

    On a terminal it wraps to the terminal's width. Written to a file or a pipe, rich
    would assume 80 columns and cut values; there the width is unlimited instead, so
    ids and error messages reach the file whole.

    Args:
        stderr: Write to standard error (progress shown next to a JSON result on stdout).
        file: Write to this stream instead (tests).
    """
    console = Console(stderr=stderr, file=file)
    if console.is_terminal:
        return console
    return Console(stderr=stderr, file=file, width=PIPED_WIDTH)
