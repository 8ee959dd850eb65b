"""`beluga history export` and `beluga replay`: determinism checks against histories."""

from __future__ import annotations

import asyncio
import collections
from pathlib import Path

import click
import temporalio.worker

from beluga_temporal.cli._context import CliContext, pass_cli
from beluga_temporal.cli._errors import EXIT_FAILURE, UsageError
from beluga_temporal.cli._targets import discover
from beluga_temporal.plugin import BelugaPlugin
from beluga_temporal.replay import HistoryChecker, Outcome, quiet_runtime, sdk_logs_silenced
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
    """Export the event history of WORKFLOW_ID as JSON (the format `replay` reads).

    Name the file after the workflow id (`-o WORKFLOW_ID.json`): `replay` takes the
    workflow id from the file name, and child workflow ids derive from it.
    """

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
    """Replay HISTORY.json files against TARGET and its previous versions (for CI).

    Prints one line per file: the plan version (fingerprint) the run executed, then
    `OK`, `UNKNOWN PLAN` (no declaration for it: add it to `previous=`),
    `NON-DETERMINISTIC` (naming the history event where the code diverges) or `FAIL`
    (an unreadable file, an unknown workflow type). Exits 0 when every history
    replays, 1 when any does not, 2 on bad usage.
    """
    found = discover(targets)
    if not found.targets:
        raise UsageError(f"no Chain, Graph or workflow class found in {', '.join(targets)}")
    workflows = workflows_of(found.targets)
    replayer = temporalio.worker.Replayer(
        workflows=workflows,
        plugins=[BelugaPlugin(settings=cli.settings())],  # the keys of `--config`
        runtime=None if cli.debug else quiet_runtime(),
    )
    checker = HistoryChecker(replayer, workflows)

    async def check_all() -> list[Outcome]:
        return [await checker.check(Path(path)) for path in histories]

    with sdk_logs_silenced(not cli.debug):
        outcomes = asyncio.run(check_all())
    for outcome in outcomes:
        click.echo(outcome.line())
    failed = [outcome for outcome in outcomes if not outcome.ok]
    if failed:
        counts = collections.Counter(outcome.status.lower() for outcome in failed)
        kinds = ", ".join(f"{count} {status}" for status, count in sorted(counts.items()))
        click.echo(
            f"{len(failed)} of {len(outcomes)} histories failed to replay ({kinds})", err=True
        )
        raise click.exceptions.Exit(EXIT_FAILURE)
