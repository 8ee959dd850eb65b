"""Command-line input (`--input JSON | @file`) and JSON output."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
import pydantic_core

from beluga_temporal.cli._errors import UsageError


def parse_input(raw: str | None) -> Any:
    """Parse `--input`: inline JSON, or `@path` to a JSON file; `None` stays `None`.

    Raises:
        UsageError: The file cannot be read or the text is not JSON (naming where).
    """
    if raw is None:
        return None
    source = "--input"
    text = raw
    if raw.startswith("@"):
        path = Path(raw[1:])
        source = str(path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as error:
            raise UsageError(f"cannot read input file '{path}': {error.strerror}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise UsageError(
            f"{source} is not valid JSON: {error.msg} (line {error.lineno}, column {error.colno})"
        ) from None


def to_json(value: Any) -> str:
    """Render a result (models, dicts, lists, scalars) as indented JSON."""
    return json.dumps(pydantic_core.to_jsonable_python(value), indent=2, sort_keys=False)


def echo_json(value: Any) -> None:
    """Print `value` as JSON on stdout."""
    click.echo(to_json(value))
