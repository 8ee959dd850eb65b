"""`beluga worker`: a worker process hosting everything found in some modules."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import click
import temporalio.common
import temporalio.worker

from beluga_temporal.cli._context import CliContext, pass_cli
from beluga_temporal.cli._errors import UsageError
from beluga_temporal.cli._processes import (
    SUPERVISED_OPTION,
    Supervisor,
    child_command,
    stop_when_stdin_closes,
)
from beluga_temporal.cli._signals import stop_on_signals
from beluga_temporal.cli._targets import Discovered, discover
from beluga_temporal.client import Orchestrator, workflow_type_of
from beluga_temporal.errors import DefinitionError
from beluga_temporal.observability import get_logger, setup_observability
from beluga_temporal.plan import RetryPolicy
from beluga_temporal.worker import create_worker

log = get_logger("beluga.worker")


def _check_unique_types(found: Discovered) -> list[str]:
    names: dict[str, Any] = {}
    for target in found.targets:
        name = workflow_type_of(target)
        if name in names and names[name] is not target:
            raise DefinitionError(
                f"two targets are named workflow type '{name}': {names[name]!r} and {target!r}"
            )
        names[name] = target
    return sorted(names)


def _activity_names(found: Discovered) -> list[str]:
    names = {str(getattr(a, "name", None) or getattr(a, "__name__", "?")) for a in found.activities}
    for target in found.targets:
        names.update(step.name for step in getattr(target, "activities", []))
    return sorted(names)


VERSIONING = {
    "auto-upgrade": temporalio.common.VersioningBehavior.AUTO_UPGRADE,
    "pinned": temporalio.common.VersioningBehavior.PINNED,
}


def deployment_options(
    deployment_name: str | None, build_id: str | None, versioning: str
) -> dict[str, Any]:
    """The worker options for Temporal's Worker Deployment versioning (none if unset).

    Raises:
        UsageError: Only one of the deployment name and the build id is given.
    """
    if deployment_name is None and build_id is None:
        return {}
    if deployment_name is None or build_id is None:
        raise UsageError("--deployment-name and --build-id go together (a deployment version)")
    version = temporalio.common.WorkerDeploymentVersion(deployment_name, build_id)
    config = temporalio.worker.WorkerDeploymentConfig(
        version=version,
        use_worker_versioning=True,
        default_versioning_behavior=VERSIONING[versioning],
    )
    return {"deployment_config": config}


async def run_worker(
    cli: CliContext,
    found: Discovered,
    task_queue: str,
    concurrency: int | None,
    grace: float,
    supervised: bool = False,
    **worker_options: Any,
) -> None:
    """Connect, run a worker on `task_queue` until SIGINT/SIGTERM, then drain it.

    `supervised`: also stop when standard input closes (a `--processes` child whose
    supervisor is gone). `worker_options` go to `create_worker` (e.g.
    `deployment_options(...)`).
    """
    # Before connecting: the client's BelugaPlugin then adds the tracing interceptor
    # and the process default runtime exports Temporal's SDK metrics.
    setup_observability(cli.settings())
    orch: Orchestrator = await cli.orchestrator(task_queue)
    worker = create_worker(
        orch.client,
        task_queue,
        targets=found.targets,
        activities=found.activities,
        max_concurrent_activities=concurrency,
        graceful_shutdown_timeout=timedelta(seconds=grace),
        default_retry=RetryPolicy(
            max_attempts=max(cli.settings().orchestration.workflow.max_retries, 1)
        ),
        **worker_options,
    )
    workflows = _check_unique_types(found)
    with stop_on_signals() as stop:
        orphaned = asyncio.ensure_future(stop_when_stdin_closes(stop)) if supervised else None
        async with worker:
            log.info(
                "worker started",
                task_queue=task_queue,
                namespace=orch.client.namespace,
                workflows=workflows,
                activities=_activity_names(found),
            )
            await stop.wait()
            log.info("worker stopping", task_queue=task_queue, grace_period_s=grace)
        if orphaned is not None:
            orphaned.cancel()
    log.info("worker stopped", task_queue=task_queue)


async def run_processes(
    cli: CliContext, worker_args: list[str], task_queue: str, processes: int
) -> int:
    """Run `processes` worker processes on `task_queue` until SIGINT/SIGTERM."""
    setup_observability(cli.settings())
    command = child_command(_global_args(cli), worker_args)
    log.info("worker processes starting", task_queue=task_queue, processes=processes)
    code = await Supervisor(command, processes).run()
    log.info("worker processes stopped", task_queue=task_queue, exit_code=code)
    return code


def _global_args(cli: CliContext) -> list[str]:
    # `--config` reaches the children through BELUGA_CONFIG, exported by the root.
    args = []
    if cli.address:
        args += ["--address", cli.address]
    if cli.namespace:
        args += ["--namespace", cli.namespace]
    if cli.debug:
        args.append("--debug")
    return args


def _discover_or_fail(specs: tuple[str, ...]) -> Discovered:
    found = discover(specs)
    if not found.targets and not found.activities:
        raise UsageError(
            f"nothing to host in {', '.join(specs)}: no Chain, Graph, @workflow.defn class "
            "or @step found"
        )
    return found


@click.command("worker")
@click.argument("modules", nargs=-1, required=True, metavar="MODULE_OR_TARGET...")
@click.option("--task-queue", "-q", default=None, help="Task queue (default: settings).")
@click.option(
    "--concurrency",
    "-c",
    type=click.IntRange(min=1),
    default=None,
    help="Most activities (steps) run at once (default: temporalio's, 100).",
)
@click.option(
    "--grace-period",
    type=click.FloatRange(min=0),
    default=30.0,
    show_default=True,
    help="Seconds in-flight activities get to finish after SIGINT/SIGTERM.",
)
@click.option(
    "--deployment-name",
    default=None,
    help="Worker Deployment versioning: the deployment this worker belongs to.",
)
@click.option("--build-id", default=None, help="Worker Deployment versioning: this build's id.")
@click.option(
    "--versioning",
    type=click.Choice(sorted(VERSIONING)),
    default="auto-upgrade",
    show_default=True,
    help="How runs move between deployment versions: pinned runs stay on their version.",
)
@click.option(
    "--processes",
    "-p",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Worker processes on the task queue (one core each; stopped together).",
)
@click.option(SUPERVISED_OPTION, "supervised", is_flag=True, hidden=True)
@pass_cli
def worker(
    cli: CliContext,
    modules: tuple[str, ...],
    task_queue: str | None,
    concurrency: int | None,
    grace_period: float,
    deployment_name: str | None,
    build_id: str | None,
    versioning: str,
    processes: int,
    supervised: bool,
) -> None:
    """Run a worker hosting every Chain, Graph, workflow class and step found.

    MODULE_OR_TARGET is a module (`workflows.order_processing`: everything it
    declares) or `module:attribute` (one target plus its module's steps). Stops
    gracefully on SIGINT/SIGTERM: polling stops, in-flight activities get the grace
    period to finish. With `--deployment-name` and `--build-id` the worker takes part
    in Temporal's Worker Deployment versioning (`temporal worker deployment
    set-current-version` routes new runs to a build). `--processes N` runs N such
    workers on the queue.
    """
    options = deployment_options(deployment_name, build_id, versioning)
    found = _discover_or_fail(modules)  # bad modules fail once, before any child starts
    queue = cli.task_queue(task_queue)
    if processes == 1:
        run = run_worker(cli, found, queue, concurrency, grace_period, supervised, **options)
        asyncio.run(run)
        return
    args = [*modules, "--task-queue", queue, "--grace-period", repr(grace_period)]
    if concurrency is not None:
        args += ["--concurrency", str(concurrency)]
    if options:
        args += ["--deployment-name", str(deployment_name), "--build-id", str(build_id)]
        args += ["--versioning", versioning]
    raise click.exceptions.Exit(asyncio.run(run_processes(cli, args, queue, processes)))
