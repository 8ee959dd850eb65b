"""`beluga run`, `start`, `result`, `list` and `watch`: runs on a Temporal cluster."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from typing import Any

import click
import temporalio.client
import temporalio.service
from rich.table import Table

from beluga_temporal.cli._console import make_console
from beluga_temporal.cli._context import CliContext, pass_cli
from beluga_temporal.cli._control import beluga_command
from beluga_temporal.cli._errors import Interrupted, UsageError
from beluga_temporal.cli._io import echo_json, parse_input
from beluga_temporal.cli._progress import follow_progress, result_with_progress
from beluga_temporal.cli._targets import discover_module, import_module, load_target
from beluga_temporal.client import (
    Orchestrator,
    StartTarget,
    poller_checks_done,
    unless_stalled,
)
from beluga_temporal.engine import WorkflowTarget
from beluga_temporal.local import LocalRuntime
from beluga_temporal.observability import setup_observability
from beluga_temporal.plan import MEMO_KEY, StartContext

_input_option = click.option(
    "--input",
    "-i",
    "raw_input",
    default=None,
    metavar="JSON|@FILE",
    help="The run's input: inline JSON or @path/to/file.json.",
)
_id_option = click.option("--id", "workflow_id", default=None, help="Workflow id (default: new).")
_queue_option = click.option(
    "--task-queue", "-q", default=None, help="Task queue (default: settings)."
)


def resolve_start_target(spec: str) -> StartTarget:
    """`module:attribute` imports a target; a bare name is a workflow type name."""
    return load_target(spec) if ":" in spec else spec


def _result_type(target: StartTarget) -> Any:
    return target.output_type if isinstance(target, WorkflowTarget) else None


@contextlib.contextmanager
def _goes_on_when_interrupted(cli: CliContext, workflow_id: str) -> Iterator[None]:
    """Turn Ctrl+C while waiting into a message: the run continues on the server."""
    try:
        yield
    except asyncio.CancelledError:
        # asyncio.run cancels the main task on SIGINT; only waiting stops, not the run.
        raise Interrupted(
            f"Interrupted: run '{workflow_id}' goes on on the server; only waiting for it "
            f"stopped.\n  cancel it:      {beluga_command(cli, 'cancel', workflow_id)}"
            f"\n  its result:     {beluga_command(cli, 'result', workflow_id)}"
        ) from None


async def _run_remote(
    cli: CliContext, target: StartTarget, value: Any, options: dict[str, Any], watch: bool
) -> Any:
    orch = await cli.orchestrator(options.pop("task_queue"))
    run = await orch.start(target, value, **options)
    click.echo(
        f"Started run '{run.workflow_id}'; waiting for its result "
        "(Ctrl+C stops waiting, not the run).",
        err=True,
    )
    with _goes_on_when_interrupted(cli, run.workflow_id):
        if watch:
            waiting = result_with_progress(
                orch, run.workflow_id, run.run_id, console=make_console(stderr=True)
            )
        else:
            waiting = orch.result(run.workflow_id, run.run_id, result_type=_result_type(target))
        # A run whose workflow task keeps failing would wait silently: name the failure.
        return await unless_stalled(orch.client, waiting, run.workflow_id, run.run_id)


def _module_steps(target: WorkflowTarget | type) -> list[Any]:
    # A hand-written workflow calls steps its module imports; register them all.
    if isinstance(target, WorkflowTarget):
        return []
    return discover_module(import_module(target.__module__)).activities


async def _run_local(
    cli: CliContext, target: StartTarget, value: Any, options: dict[str, Any], watch: bool
) -> Any:
    if isinstance(target, str):
        raise UsageError(f"--local needs a 'module:attribute' target, not the type name '{target}'")
    options.pop("task_queue")
    setup_observability(cli.settings())  # step logs go to stderr, never into the JSON result
    async with LocalRuntime(kind=cli.settings().local.kind) as runtime:
        handle = await runtime.start(target, value, activities=_module_steps(target), **options)
        orch = Orchestrator(runtime.client, "unused")
        if watch:
            return await result_with_progress(
                orch, handle.id, handle.result_run_id, console=make_console(stderr=True)
            )
        return await orch.result(handle.id, handle.result_run_id, result_type=_result_type(target))


@click.command("run")
@click.argument("target")
@_input_option
@_id_option
@_queue_option
@click.option(
    "--local", is_flag=True, help="Run on the embedded runtime with an in-process worker."
)
@click.option("--watch", "-w", is_flag=True, help="Show live node progress until the run ends.")
@pass_cli
def run(
    cli: CliContext,
    target: str,
    raw_input: str | None,
    workflow_id: str | None,
    task_queue: str | None,
    local: bool,
    watch: bool,
) -> None:
    """Start TARGET and wait for its result (printed as JSON).

    TARGET is `module:attribute` (a Chain, Graph or workflow class) or, without
    `--local`, a workflow type name served by a running worker.
    """
    resolved = resolve_start_target(target)
    value = parse_input(raw_input)
    options: dict[str, Any] = {"workflow_id": workflow_id, "task_queue": task_queue}
    runner = _run_local if local else _run_remote
    echo_json(asyncio.run(runner(cli, resolved, value, options, watch)))


@click.command("start")
@click.argument("target")
@_input_option
@_id_option
@_queue_option
@pass_cli
def start(
    cli: CliContext,
    target: str,
    raw_input: str | None,
    workflow_id: str | None,
    task_queue: str | None,
) -> None:
    """Start TARGET without waiting; print its workflow id and run id."""
    resolved = resolve_start_target(target)
    value = parse_input(raw_input)

    async def go() -> tuple[str, str]:
        orch = await cli.orchestrator(task_queue)
        started = await orch.start(resolved, value, workflow_id=workflow_id)
        await poller_checks_done()  # its warnings (no worker polls ...) before we exit
        return started.workflow_id, started.run_id

    started_id, run_id = asyncio.run(go())
    click.echo(f"workflow_id: {started_id}")
    click.echo(f"run_id: {run_id}")


@click.command("result")
@click.argument("workflow_id")
@click.option("--run-id", default=None, help="A specific run (default: the latest).")
@pass_cli
def result(cli: CliContext, workflow_id: str, run_id: str | None) -> None:
    """Wait for the result of run WORKFLOW_ID and print it as JSON."""

    async def go() -> Any:
        orch = await cli.orchestrator()
        return await orch.result(workflow_id, run_id)

    echo_json(asyncio.run(go()))


@click.command("watch")
@click.argument("workflow_id")
@click.option("--run-id", default=None, help="A specific run (default: the latest).")
@pass_cli
def watch(cli: CliContext, workflow_id: str, run_id: str | None) -> None:
    """Show a live table of the node statuses of a chain or graph run until it ends."""

    async def go() -> None:
        orch = await cli.orchestrator()
        last = await follow_progress(orch, workflow_id, run_id)
        if last is not None and last.status == "failed":
            raise click.exceptions.Exit(1)

    asyncio.run(go())


def _list_table(rows: list[tuple[Any, str]]) -> Table:
    table = Table(title="workflow runs", title_justify="left")
    for column in ("workflow id", "run id", "type", "plan", "status", "started", "task queue"):
        table.add_column(column)
    for row, plan in rows:
        status = row.status.name if row.status is not None else "?"
        table.add_row(
            row.id,
            row.run_id,
            row.workflow_type,
            plan,
            status,
            f"{row.start_time:%Y-%m-%d %H:%M:%S}",
            row.task_queue,
        )
    return table


async def _plan_of(row: temporalio.client.WorkflowExecution) -> str:
    """The plan fingerprint a chain or graph run records in its memo, else `-`."""
    try:
        context = StartContext.from_json((await row.memo()).get(MEMO_KEY))
    except Exception:  # e.g. encrypted with a key this process lacks: still list the run
        return "?"
    return "-" if context is None else context.plan


@click.command("list")
@click.option("--query", "-q", "query", default=None, help="A visibility query (list filter).")
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True)
@pass_cli
def list_runs(cli: CliContext, query: str | None, limit: int) -> None:
    """List workflow runs, newest first, optionally filtered by a visibility query."""

    async def go() -> list[tuple[Any, str]]:
        orch = await cli.orchestrator()
        try:
            return [
                (row, await _plan_of(row))
                async for row in orch.client.list_workflows(query, limit=limit)
            ]
        except temporalio.service.RPCError as error:
            if error.status == temporalio.service.RPCStatusCode.INVALID_ARGUMENT:
                raise UsageError(f"invalid --query: {error.message}") from None
            raise

    make_console().print(_list_table(asyncio.run(go())))
