"""`Orchestrator`: start chains, graphs and workflows, and read their results."""

from __future__ import annotations

import asyncio
import dataclasses
import time
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import temporalio.client
import temporalio.common

from beluga_temporal import _sdk
from beluga_temporal.client._control import RunControl
from beluga_temporal.client._errors import translate
from beluga_temporal.client._pollers import annotate_waiting, check_pollers_soon
from beluga_temporal.client._session import ChainSession
from beluga_temporal.client._stalls import unless_stalled
from beluga_temporal.engine import CLOSE_SIGNAL, PROGRESS_QUERY, RunProgress, WorkflowTarget
from beluga_temporal.errors import ConfigurationError, DefinitionError
from beluga_temporal.plan import (
    MEMO_KEY,
    ChainPlan,
    Duration,
    process_defaults,
    run_summary,
    to_timedelta,
)
from beluga_temporal.plugin import BelugaPlugin, is_time_skipping
from beluga_temporal.resilience import check_start_input
from beluga_temporal.settings import BelugaSettings

DEFAULT_TASK_QUEUE = "beluga-workflows"
_CONTINUED = temporalio.client.WorkflowExecutionStatus.CONTINUED_AS_NEW
STARTING_SERVER_WAIT = 15.0
"""Seconds `connect` waits for a server that is up but reports it is still starting."""
StartTarget = WorkflowTarget | type | str
"""A `Chain`, a `Graph`, a `@workflow.defn` class, or a workflow type name."""


@dataclasses.dataclass(frozen=True)
class WorkflowRun:
    """Identifies one run: unpacks as `workflow_id, run_id = run`."""

    workflow_id: str
    run_id: str

    def __iter__(self) -> Any:
        return iter((self.workflow_id, self.run_id))


def workflow_type_of(target: StartTarget) -> str:
    """Return the workflow type name a target starts."""
    if isinstance(target, WorkflowTarget):
        return target.name
    if isinstance(target, str):
        return target
    name = _sdk.workflow_name(target)
    if name is None:
        raise DefinitionError(f"{target!r} is not a Chain, Graph or @workflow.defn class")
    return name


def _result_type(target: StartTarget) -> Any:
    if isinstance(target, WorkflowTarget):
        return target.output_type
    return _sdk.workflow_result_type(target)


class Orchestrator(RunControl):
    """A client for beluga workloads on a Temporal cluster.

    Besides starting runs and reading results, it talks to runs by workflow id:
    `signal`, `query`, `update`, `cancel`, `terminate`, `describe` (from `RunControl`).

    Example:
        ```python
        orch = await Orchestrator.connect("localhost:7233", task_queue="orders")
        run = await orch.start(order_graph, order, workflow_id="order-123")
        result = await orch.result(run.workflow_id, run.run_id)
        ```
    """

    def __init__(
        self,
        client: temporalio.client.Client,
        task_queue: str = DEFAULT_TASK_QUEUE,
        *,
        workflow_timeout: Duration | None = None,
    ) -> None:
        """Wrap a connected temporalio client (created with `BelugaPlugin`).

        Args:
            client: The client.
            task_queue: Default task queue for `start`.
            workflow_timeout: Default execution timeout of hand-written workflows
                (chains and graphs carry their own).
        """
        self.client = client
        self.task_queue = task_queue
        self.workflow_timeout = to_timedelta(workflow_timeout, "workflow_timeout")

    @classmethod
    async def from_settings(
        cls, settings: BelugaSettings | None = None, **connect_options: Any
    ) -> Orchestrator:
        """Connect as `orchestration.workflow.*` settings say (address, TLS, timeout)."""
        settings = settings or BelugaSettings.load()
        options = {**settings.temporal_connect_kwargs(), **connect_options}
        plugins = list(options.pop("plugins", ()))
        if not any(isinstance(p, BelugaPlugin) for p in plugins):  # these settings' keys
            plugins.append(BelugaPlugin(settings=settings))
        options["plugins"] = plugins
        workflow = settings.orchestration.workflow
        return await cls.connect(
            options.pop("target_host"),
            task_queue=options.pop("task_queue", workflow.temporal.task_queue),
            workflow_timeout=workflow.timeout,
            **options,
        )

    @classmethod
    async def connect(
        cls,
        address: str = "localhost:7233",
        *,
        namespace: str = "default",
        task_queue: str = DEFAULT_TASK_QUEUE,
        workflow_timeout: Duration | None = None,
        **connect_options: Any,
    ) -> Orchestrator:
        """Connect to a Temporal server.

        Args:
            address: `host:port` of the Temporal frontend.
            namespace: The Temporal namespace.
            task_queue: Default task queue for `start`.
            workflow_timeout: Default execution timeout of hand-written workflows.
            **connect_options: Passed to `temporalio.client.Client.connect` (`tls`,
                `api_key`, `interceptors`, `runtime`, ...).

        Raises:
            ConfigurationError: The server cannot be reached.
        """
        plugins = list(connect_options.pop("plugins", ()))
        if not any(isinstance(p, BelugaPlugin) for p in plugins):  # one codec, applied once
            plugins.append(BelugaPlugin())
        deadline = time.monotonic() + STARTING_SERVER_WAIT
        while True:
            try:
                client = await temporalio.client.Client.connect(
                    address, namespace=namespace, plugins=plugins, **connect_options
                )
                return cls(client, task_queue, workflow_timeout=workflow_timeout)
            except Exception as error:
                # A server that answers but is still starting gets a few seconds; an
                # unreachable one fails at once.
                if "not healthy yet" in str(error) and time.monotonic() < deadline:
                    await asyncio.sleep(0.2)
                    continue
                raise ConfigurationError(
                    f"cannot connect to Temporal at {address} (namespace {namespace!r}): {error}"
                ) from error

    async def start(
        self,
        target: StartTarget,
        input: Any = None,
        *,
        workflow_id: str | None = None,
        task_queue: str | None = None,
        execution_timeout: Duration | None = None,
        **start_options: Any,
    ) -> WorkflowRun:
        """Start a run and return its ids without waiting.

        Raises:
            WorkflowAlreadyStartedError: A run with `workflow_id` is already running.
        """
        handle = await self.start_handle(
            target,
            input,
            workflow_id=workflow_id,
            task_queue=task_queue,
            execution_timeout=execution_timeout,
            **start_options,
        )
        check_pollers_soon(self.client, target, task_queue or self.task_queue, handle.id)
        return WorkflowRun(handle.id, handle.result_run_id or "")

    async def start_handle(
        self,
        target: StartTarget,
        input: Any = None,
        *,
        workflow_id: str | None = None,
        task_queue: str | None = None,
        execution_timeout: Duration | None = None,
        eager: bool = False,
        **start_options: Any,
    ) -> temporalio.client.WorkflowHandle[Any, Any]:
        """Start a run and return the temporalio handle.

        Args:
            target: What to start.
            input: The run's input.
            workflow_id: The workflow id (default: the name plus a random suffix).
            task_queue: The task queue (default: the orchestrator's).
            execution_timeout: Bound on the run (default: the target's, else settings).
            eager: Ask the server to hand the first workflow task back in the start
                response; only useful when this process runs a worker for the queue.
            **start_options: Passed to `temporalio.client.Client.start_workflow`.

        Raises:
            InvalidInputError: The input does not fit the target's state model.
            WorkflowAlreadyStartedError: A run with `workflow_id` is already running.
        """
        name = workflow_type_of(target)
        workflow_id = workflow_id or f"{name}-{uuid.uuid4().hex[:12]}"
        timeout = to_timedelta(execution_timeout, "execution_timeout")
        if timeout is None:
            timeout = (
                target.execution_timeout
                if isinstance(target, WorkflowTarget)
                else self.workflow_timeout
            )
        if isinstance(target, WorkflowTarget):
            input = target.validate_input(input)
            settle = not await is_time_skipping(self.client)
            _describe_run(target, start_options, settle)
        args = [] if input is None and not isinstance(target, WorkflowTarget) else [input]
        raw = await check_start_input(self.client, name, workflow_id, args)
        try:
            return await self.client.start_workflow(
                name,
                args=raw,
                id=workflow_id,
                task_queue=task_queue or self.task_queue,
                execution_timeout=timeout,
                result_type=_result_type(target),
                request_eager_start=eager,
                **start_options,
            )
        except Exception as error:
            raise translate(error, workflow_id) from error

    async def result(
        self, workflow_id: str, run_id: str | None = None, *, result_type: Any = None
    ) -> Any:
        """Wait for a run's result.

        Raises:
            ExecutionError: The run failed (`StepFailedError`, `GraphExecutionError`,
                `RunTimeoutError`, `RunCancelledError`).
        """
        handle = self.client.get_workflow_handle(
            workflow_id, run_id=run_id or None, result_type=result_type
        )
        try:
            return await handle.result()
        except Exception as error:
            raise translate(error, workflow_id, run_id) from error

    async def execute(self, target: StartTarget, input: Any = None, **start_options: Any) -> Any:
        """Start a run and wait for its result."""
        handle = await self.start_handle(target, input, **start_options)
        return await self.result(handle.id, handle.result_run_id, result_type=_result_type(target))

    async def progress(self, workflow_id: str, run_id: str | None = None) -> RunProgress:
        """Query the live progress of a generated workflow run.

        Progress covers the whole run: a run that continued as new is queried in its
        latest Temporal run, which carries the states of every node so far.
        """
        if run_id and await self._status(workflow_id, run_id) == _CONTINUED:
            run_id = None  # the run went on in a new Temporal run: ask the latest
        handle = self.client.get_workflow_handle(workflow_id, run_id=run_id or None)
        try:
            query = handle.query(PROGRESS_QUERY, result_type=RunProgress)
            progress: RunProgress = await unless_stalled(self.client, query, workflow_id, run_id)
        except Exception as error:
            raise translate(error, workflow_id, run_id) from error
        return await annotate_waiting(self.client, workflow_id, run_id, progress)

    async def watch(
        self, workflow_id: str, run_id: str | None = None, *, interval: Duration = 0.2
    ) -> AsyncIterator[RunProgress]:
        """Follow a run: yield its progress each time it changes, until it finishes.

        Continue-as-new is followed: the watch moves on to the run's latest Temporal
        run. A run that ends without reaching its own end (terminated, timed out) is
        reported once more with `status == "failed"` and the watch stops.
        """
        delay = (to_timedelta(interval, "interval") or timedelta(seconds=0.2)).total_seconds()
        last: RunProgress | None = None
        while True:
            current = await self.progress(workflow_id, run_id)
            if not current.done:
                status = await self._status(workflow_id, run_id)
                if status == _CONTINUED:
                    run_id = None
                    continue
                if status != temporalio.client.WorkflowExecutionStatus.RUNNING:
                    current = await self.progress(workflow_id, run_id)  # its final answer
                    if not current.done:
                        current.status = "failed"
            if current != last:
                yield current
                last = current
            if current.done:
                return
            await asyncio.sleep(delay)

    async def _status(
        self, workflow_id: str, run_id: str | None
    ) -> temporalio.client.WorkflowExecutionStatus | None:
        handle = self.client.get_workflow_handle(workflow_id, run_id=run_id or None)
        try:
            description = await handle.describe()
        except Exception as error:
            raise translate(error, workflow_id, run_id) from error
        return description.status

    async def cancel(self, workflow_id: str, run_id: str | None = None) -> None:
        """Request cancellation of a run."""
        handle = self.client.get_workflow_handle(workflow_id, run_id=run_id or None)
        try:
            await handle.cancel()
        except Exception as error:
            raise translate(error, workflow_id, run_id) from error

    def session(self, chain: WorkflowTarget, session_id: str | None = None) -> ChainSession:
        """Open a session with a chain that has memory (its workflow id is `session_id`)."""
        plan = chain.compile()
        if not isinstance(plan, ChainPlan) or plan.memory is None:
            raise DefinitionError(f"chain '{chain.name}' has no memory: sessions need one")
        return ChainSession(self, chain, session_id or f"{chain.name}-{uuid.uuid4().hex[:12]}")

    def create_workflow(
        self, target: StartTarget, *, workflow_id: str | None = None
    ) -> WorkflowStarter:
        """Return a starter for `target` with a fixed workflow id (the seed's API)."""
        return WorkflowStarter(self, target, workflow_id)


class WorkflowStarter:
    """A target with a fixed workflow id: `start(input)`, then `get_result(id, run_id)`.

    The Beluga AI documents call this `CreateWorkflow(...).Execute(...)`, which starts a
    run and returns its ids without waiting; `execute` keeps that name and meaning for
    code ported from them. Unlike `Orchestrator.execute` it does not wait: prefer `start`.
    """

    def __init__(self, orch: Orchestrator, target: StartTarget, workflow_id: str | None) -> None:
        self._orch = orch
        self.target = target
        self.workflow_id = workflow_id

    async def start(self, input: Any = None, **start_options: Any) -> WorkflowRun:
        """Start the workflow and return `(workflow_id, run_id)` without waiting."""
        return await self._orch.start(
            self.target, input, workflow_id=self.workflow_id, **start_options
        )

    async def execute(self, input: Any = None, **start_options: Any) -> WorkflowRun:
        """The Beluga documents' name for `start`: returns `(workflow_id, run_id)`."""
        return await self.start(input, **start_options)

    async def get_result(self, workflow_id: str, run_id: str | None = None) -> Any:
        """Wait for the result of a run started by `start`."""
        return await self._orch.result(workflow_id, run_id, result_type=_result_type(self.target))


def _describe_run(target: WorkflowTarget, options: dict[str, Any], settle: bool) -> None:
    """Record the run's plan version and settings (memo) and label it for the Web UI."""
    plan = target.compile()
    context = target.start_context(process_defaults(), settle_cancelled=settle)
    options["memo"] = {**options.get("memo", {}), MEMO_KEY: context.to_json()}
    options.setdefault("static_summary", run_summary(plan, context.plan))
    if isinstance(plan, ChainPlan) and plan.memory is not None:
        # A plain start of a chain with memory is a one-turn session.
        options.setdefault("start_signal", CLOSE_SIGNAL)
