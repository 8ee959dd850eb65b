"""`beluga history export` and `beluga replay`: determinism checks against histories."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path

import click
import temporalio.client
import temporalio.runtime
import temporalio.worker

from beluga_temporal.cli._context import CliContext, pass_cli
from beluga_temporal.cli._errors import EXIT_FAILURE, UsageError
from beluga_temporal.cli._targets import discover
from beluga_temporal.plugin import BelugaPlugin
from beluga_temporal.worker import workflows_of


@click.group("history")
def history() -> None:
    """Workflow histories (for replay tests and debugging)."""


@history.command("export")
@click.argument("workflow_id")
@click.option("--run-id", default=None, help="A specific run (default: the latest).")
@click.option(
    "--output", "-o", type=click.Path(dir_okay=False), default=None, help="File (default: stdout)."
)
@pass_cli
def export(cli: CliContext, workflow_id: str, run_id: str | None, output: str | None) -> None:
    """Export the event history of WORKFLOW_ID as JSON (the format `replay` reads)."""

    async def go() -> str:
        orch = await cli.orchestrator()
        handle = orch.client.get_workflow_handle(workflow_id, run_id=run_id)
        return (await handle.fetch_history()).to_json()

    text = asyncio.run(go())
    if output is None:
        click.echo(text)
        return
    Path(output).write_text(text, encoding="utf-8")
    click.echo(f"exported history of {workflow_id} to {output}", err=True)


def load_history(path: Path) -> temporalio.client.WorkflowHistory:
    """Read an exported history; the workflow id is taken from the file name."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise UsageError(f"cannot read history '{path}': {error.strerror}") from None
    except json.JSONDecodeError as error:
        raise UsageError(f"history '{path}' is not JSON: {error.msg}") from None
    try:
        return temporalio.client.WorkflowHistory.from_json(path.stem, data)
    except Exception as error:
        raise UsageError(f"'{path}' is not a Temporal workflow history: {error}") from None


# Core wraps the interesting line in a debug dump: `Failure { message: "...", ... }`.
_CORE_MESSAGE = re.compile(r'message: "((?:[^"\\]|\\.)*)"')
_SCHEDULED = re.compile(r"scheduled event '([^']+)'")


def _scheduled_event(
    history: temporalio.client.WorkflowHistory, activity_type: str, after: int = 0
) -> str:
    # Core names the activity type, not the event: take the first event scheduling that
    # type at or after the first workflow task that fails to replay.
    for event in history.events:
        attributes = event.activity_task_scheduled_event_attributes
        if (
            event.event_id >= after
            and event.HasField("activity_task_scheduled_event_attributes")
            and attributes.activity_type.name == activity_type
        ):
            return f" (history event {event.event_id}: ActivityTaskScheduled '{activity_type}')"
    return ""


async def first_failing_task(
    replayer: temporalio.worker.Replayer, history: temporalio.client.WorkflowHistory
) -> int:
    """Return the id of the first event after the last workflow task that still replays."""
    events = list(history.events)
    after = 0
    for index, event in enumerate(events):
        if not event.HasField("workflow_task_completed_event_attributes"):
            continue
        # A prefix ending with the next task's commands checks this task's commands.
        end = next(
            (
                i
                for i in range(index + 1, len(events))
                if events[i].HasField("workflow_task_completed_event_attributes")
            ),
            len(events) - 1,
        )
        prefix = temporalio.client.WorkflowHistory(history.workflow_id, events[: end + 1])
        result = await replayer.replay_workflow(prefix, raise_on_replay_failure=False)
        if result.replay_failure is not None:
            return event.event_id
        after = event.event_id
    return after


def describe_failure(
    error: Exception, history: temporalio.client.WorkflowHistory, after: int = 0
) -> str:
    """One line naming the divergence and the history event where it happens."""
    text = " ".join(str(error).split())
    found = _CORE_MESSAGE.search(text)
    message = found.group(1) if found else text or type(error).__name__
    scheduled = _SCHEDULED.search(message)
    if scheduled is not None:
        message += _scheduled_event(history, scheduled.group(1), after)
    kind = "non-determinism" if "Nondeterminism" in text else type(error).__name__
    return f"{kind}: {message}"


def quiet_runtime() -> temporalio.runtime.Runtime:
    """A Temporal runtime whose core logs only errors (a replay failure is our output)."""
    quiet = temporalio.runtime.TelemetryFilter(core_level="ERROR", other_level="ERROR")
    return temporalio.runtime.Runtime(
        telemetry=temporalio.runtime.TelemetryConfig(
            logging=temporalio.runtime.LoggingConfig(filter=quiet)
        )
    )


async def replay_files(
    replayer: temporalio.worker.Replayer, paths: list[Path]
) -> dict[Path, str | None]:
    """Replay each file; map it to `None` (OK) or the failure description."""
    outcomes: dict[Path, str | None] = {}
    for path in paths:
        try:
            history = load_history(path)
        except UsageError as error:  # one bad file must not hide the others' results
            outcomes[path] = error.message
            continue
        result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
        failure = result.replay_failure
        if failure is None:
            outcomes[path] = None
            continue
        after = await first_failing_task(replayer, history)
        outcomes[path] = describe_failure(failure, history, after)
    return outcomes


@contextlib.contextmanager
def _sdk_logs_silenced(silenced: bool) -> Iterator[None]:
    # The SDK logs each failed activation with a traceback; the report says it once.
    logger = logging.getLogger("temporalio")
    previous = logger.level
    if silenced:
        logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(previous)


@click.command("replay")
@click.argument("histories", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--target",
    "-t",
    "targets",
    multiple=True,
    required=True,
    help="module:attribute or module whose workflows to replay against (repeatable).",
)
@pass_cli
def replay(cli: CliContext, histories: tuple[str, ...], targets: tuple[str, ...]) -> None:
    """Replay HISTORY.json files against the current code of TARGET.

    Prints `OK` or `FAIL` with the non-determinism (naming the event where the code
    diverges) per file; exits non-zero if any file fails.
    """
    found = discover(targets)
    if not found.targets:
        raise UsageError(f"no Chain, Graph or workflow class found in {', '.join(targets)}")
    replayer = temporalio.worker.Replayer(
        workflows=workflows_of(found.targets),
        plugins=[BelugaPlugin(settings=cli.settings())],  # the keys of `--config`
        runtime=None if cli.debug else quiet_runtime(),
    )
    with _sdk_logs_silenced(not cli.debug):
        outcomes = asyncio.run(replay_files(replayer, [Path(p) for p in histories]))
    for path, failure in outcomes.items():
        click.echo(f"OK    {path}" if failure is None else f"FAIL  {path}: {failure}")
    failed = sum(failure is not None for failure in outcomes.values())
    if failed:
        click.echo(f"{failed} of {len(outcomes)} histories failed to replay", err=True)
        raise click.exceptions.Exit(EXIT_FAILURE)
