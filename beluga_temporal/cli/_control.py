"""`beluga cancel`, `terminate` and `describe`: act on one run by workflow id."""

from __future__ import annotations

import asyncio
import dataclasses
import shlex
from typing import Any

import click
import pydantic_core

from beluga_temporal.cli._context import CliContext, pass_cli
from beluga_temporal.cli._errors import CliError
from beluga_temporal.cli._io import echo_json
from beluga_temporal.cli._progress import format_duration
from beluga_temporal.client import RunDescription

_run_id_option = click.option(
    "--run-id", default=None, help="A specific run (default: the latest)."
)


def beluga_command(cli: CliContext, *args: str) -> str:
    """The `beluga ...` command line that reaches the same server as this invocation."""
    words = ["beluga"]
    if cli.config is not None:
        words += ["--config", str(cli.config)]
    if cli.address:
        words += ["--address", cli.address]
    if cli.namespace:
        words += ["--namespace", cli.namespace]
    return shlex.join([*words, *args])


def _closed_error(found: RunDescription, verb: str) -> CliError:
    status = found.status.name if found.status is not None else "closed"
    return CliError(f"run '{found.workflow_id}' has already closed ({status}): nothing to {verb}")


@click.command("cancel")
@click.argument("workflow_id")
@_run_id_option
@pass_cli
def cancel(cli: CliContext, workflow_id: str, run_id: str | None) -> None:
    """Request cancellation of run WORKFLOW_ID.

    The run's cancellation handlers and compensations run. Returns once the server
    has recorded the request; `beluga result` then reports the run as cancelled.
    Exits 1 if the run is unknown or has already closed.
    """

    async def go() -> None:
        orch = await cli.orchestrator()
        found = await orch.describe(workflow_id, run_id)
        if not found.running:
            # The server accepts a cancel of a closed run silently; say it did nothing.
            raise _closed_error(found, "cancel")
        await orch.cancel(workflow_id, found.run_id)

    asyncio.run(go())
    click.echo(f"Cancellation requested for run '{workflow_id}'.")
    click.echo(f"Its outcome: {beluga_command(cli, 'result', workflow_id)}")


@click.command("terminate")
@click.argument("workflow_id")
@click.option("--reason", default=None, help="Why (recorded in the run's history).")
@_run_id_option
@pass_cli
def terminate(cli: CliContext, workflow_id: str, reason: str | None, run_id: str | None) -> None:
    """End run WORKFLOW_ID at once, without cleanup.

    No cancellation handlers or compensations run: prefer `beluga cancel`; terminate
    a run that is stuck. Exits 1 if the run is unknown or has already closed.
    """

    async def go() -> None:
        orch = await cli.orchestrator()
        await orch.terminate(workflow_id, reason=reason, run_id=run_id)

    asyncio.run(go())
    click.echo(f"Terminated run '{workflow_id}'.")


def _jsonable(found: RunDescription) -> dict[str, Any]:
    data: dict[str, Any] = pydantic_core.to_jsonable_python(dataclasses.asdict(found))
    data["status"] = found.status.name if found.status is not None else None
    return data


def _describe_lines(found: RunDescription) -> list[str]:
    closed = "-"
    if found.close_time is not None:
        ran = format_duration(found.close_time - found.start_time)
        closed = f"{found.close_time:%Y-%m-%d %H:%M:%S} UTC (ran {ran})"
    lines = [
        f"workflow id:  {found.workflow_id}",
        f"run id:       {found.run_id}",
        f"type:         {found.workflow_type}",
        f"status:       {found.status.name if found.status is not None else '?'}",
        f"task queue:   {found.task_queue}",
        f"started:      {found.start_time:%Y-%m-%d %H:%M:%S} UTC",
        f"closed:       {closed}",
        f"history:      {found.history_length} events",
    ]
    if found.summary:
        lines.append(f"summary:      {found.summary}")
    lines.append("memo:" + ("" if found.memo else "         -"))
    for key in sorted(found.memo):
        value = pydantic_core.to_json(found.memo[key]).decode()
        lines.append(f"  {key}: {value}")
    return lines


@click.command("describe")
@click.argument("workflow_id")
@_run_id_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead.")
@pass_cli
def describe(cli: CliContext, workflow_id: str, run_id: str | None, as_json: bool) -> None:
    """Show run WORKFLOW_ID as the server sees it.

    Prints its status, type, task queue, start and close times, summary and memo.
    Exits 0 whatever the run's status (1 if the run is unknown).
    """

    async def go() -> RunDescription:
        orch = await cli.orchestrator()
        return await orch.describe(workflow_id, run_id)

    found = asyncio.run(go())
    if as_json:
        echo_json(_jsonable(found))
        return
    for line in _describe_lines(found):
        click.echo(line)
