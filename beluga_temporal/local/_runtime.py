"""`LocalRuntime`: a real Temporal server embedded in the process, plus workers."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Callable, Coroutine, Sequence
from datetime import timedelta
from types import TracebackType
from typing import Any, TypeVar

import temporalio.client
from temporalio.testing import WorkflowEnvironment

from beluga_temporal.client import (
    Orchestrator,
    StartTarget,
    failing_workflow_task,
    last_workflow_task_failure,
    workflow_type_of,
)
from beluga_temporal.errors import ConfigurationError, ExecutionError, RunTimeoutError
from beluga_temporal.local._environment import RuntimeKind, start_environment
from beluga_temporal.local._threads import foreign_threads_left
from beluga_temporal.local._workers import Workers
from beluga_temporal.plan import Duration, to_timedelta
from beluga_temporal.settings import BelugaSettings
from beluga_temporal.worker import Overrides

T = TypeVar("T")

STALL_CHECK_INTERVAL = 1.0
"""Seconds between checks that a run waited on by `execute` is not stuck."""
STALL_ATTEMPTS = 3
"""A run whose workflow task reached this attempt (failed twice in a row) fails
`execute`: no other worker will come to run it. One failure can be transient (a
deadlock-detector timeout on a starved machine); "not registered" ones fail at once."""


class LocalRuntime:
    """An embedded Temporal server with in-process workers for the targets it runs.

    Workers serve every task queue a target uses: its workflow's (private to the
    runtime) and each queue its steps name. Everything runs in the event loop that
    opened the runtime; calls from other loops are handed over to it.

    Example:
        ```python
        async with LocalRuntime(kind="time-skipping") as rt:
            result = await rt.execute(order_graph, order)
        ```
    """

    def __init__(
        self,
        kind: RuntimeKind = "dev",
        *,
        ui: bool = False,
        workflow_timeout: Duration | None = None,
        **server: Any,
    ) -> None:
        """Describe the runtime; nothing starts until `open()` or `async with`.

        Args:
            kind: `"dev"` (Temporal CLI dev server: real time, Web UI) or
                `"time-skipping"` (test server: timers skip ahead).
            ui: Serve the Web UI (dev server only).
            workflow_timeout: Execution timeout of hand-written workflows started without
                one; default: settings `orchestration.workflow.timeout` (1 h), as for
                `Orchestrator` runs. Chains and graphs carry their own.
            **server: `port`, `ui_port`, `db_filename`, `server_args` for
                `start_environment`.
        """
        self.kind: RuntimeKind = kind
        self._ui = ui
        self._server = server
        self._workflow_timeout = to_timedelta(workflow_timeout, "workflow_timeout")
        self._env: WorkflowEnvironment | None = None
        self._workers: Workers | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._background: set[asyncio.Future[None]] = set()

    async def open(self) -> LocalRuntime:
        """Start the server (idempotent); `async with` does this for you."""
        if self._env is None:
            if self._workflow_timeout is None:
                self._workflow_timeout = _settings_workflow_timeout()
            self._env = await start_environment(self.kind, ui=self._ui, **self._server)
            self._workers = Workers(self._env.client)
            self._loop = asyncio.get_running_loop()
        return self

    async def shutdown(self) -> None:
        """Stop every worker, then the server (idempotent)."""
        await self._at_home(self._shutdown())

    async def _shutdown(self) -> None:
        if self._background:  # cancel requests of callers that gave up go out first
            await asyncio.wait(self._background, timeout=2.0)
        env, workers = self._env, self._workers
        self._env, self._workers = None, None
        try:
            if workers is not None:
                await workers.shutdown()
        finally:
            if env is not None:
                await env.shutdown()
                await foreign_threads_left()

    async def __aenter__(self) -> LocalRuntime:
        return await self.open()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.shutdown()

    def kill_server(self) -> None:
        """Kill the server at once, from any thread, without stopping the workers first.

        For exit paths where the runtime's event loop cannot run any more.
        """
        server = getattr(self._env, "server", None)
        if server is not None:
            server.kill()

    @property
    def is_open(self) -> bool:
        """Whether the server is running."""
        return self._env is not None

    @property
    def client(self) -> temporalio.client.Client:
        """The connected client (pydantic converter, beluga plugin)."""
        return self.environment.client

    @property
    def environment(self) -> WorkflowEnvironment:
        """The underlying temporalio test environment."""
        if self._env is None:
            raise ConfigurationError("the local runtime is not started: use `async with`")
        return self._env

    @property
    def task_queues(self) -> list[str]:
        """Every task queue the in-process workers poll."""
        return self._workers.queues() if self._workers is not None else []

    def orchestrator(self, task_queue: str) -> Orchestrator:
        """An `Orchestrator` on this runtime's client (with the runtime's default timeout)."""
        return Orchestrator(self.client, task_queue, workflow_timeout=self._workflow_timeout)

    async def worker_for(
        self,
        target: StartTarget,
        activities: Sequence[Callable[..., Any]] = (),
        overrides: Overrides | None = None,
    ) -> str:
        """Make sure in-process workers serve `target` and its steps' queues.

        Returns:
            The task queue of `target`'s workflow.
        """
        return await self._at_home(self._serve(target, activities, overrides))

    async def _serve(
        self,
        target: StartTarget,
        activities: Sequence[Callable[..., Any]],
        overrides: Overrides | None = None,
    ) -> str:
        if self._workers is None:
            raise ConfigurationError("the local runtime is not started: use `async with`")
        if isinstance(target, str):
            raise ConfigurationError(
                f"the local runtime needs the Chain, Graph or workflow class, not {target!r}"
            )
        return await self._workers.serve(target, activities, overrides)

    async def start(
        self,
        target: StartTarget,
        input: Any = None,
        *,
        activities: Sequence[Callable[..., Any]] = (),
        overrides: Overrides | None = None,
        **start_options: Any,
    ) -> temporalio.client.WorkflowHandle[Any, Any]:
        """Start a run on in-process workers and return its temporalio handle.

        Args:
            target: The chain, graph or workflow class.
            input: The run's input.
            activities: Extra steps or activities (those a hand-written workflow calls).
            overrides: Steps to run with another function in this run, e.g. a fake in a
                test: `{charge: fake_charge}` (registered under `charge`'s name, with
                its options, on a queue of the run's own).
            **start_options: Passed to `Orchestrator.start_handle`.
        """
        return await self._at_home(self._start(target, input, activities, start_options, overrides))

    async def _start(
        self,
        target: StartTarget,
        input: Any,
        activities: Sequence[Callable[..., Any]],
        options: dict[str, Any],
        overrides: Overrides | None = None,
    ) -> temporalio.client.WorkflowHandle[Any, Any]:
        queue = await self._serve(target, activities, overrides)
        _eager_on_hosted_queue(queue, options)
        return await self.orchestrator(queue).start_handle(target, input, **options)

    async def execute(
        self,
        target: StartTarget,
        input: Any = None,
        *,
        activities: Sequence[Callable[..., Any]] = (),
        overrides: Overrides | None = None,
        **start_options: Any,
    ) -> Any:
        """Run `target` on in-process workers and return its result.

        `overrides` swaps steps for this run, as for `start`.

        A run whose workflow task keeps failing (a local step or a workflow the
        workers cannot run) fails here with that failure's message, and is terminated.

        Raises:
            ExecutionError: The run failed (see `beluga_temporal.errors`).
        """
        return await self._at_home(
            self._execute(target, input, activities, start_options, overrides)
        )

    async def _execute(
        self,
        target: StartTarget,
        input: Any,
        activities: Sequence[Callable[..., Any]],
        options: dict[str, Any],
        overrides: Overrides | None = None,
    ) -> Any:
        queue = await self._serve(target, activities, overrides)
        _eager_on_hosted_queue(queue, options)
        workflow_id = options.pop("workflow_id", None)
        workflow_id = workflow_id or f"{workflow_type_of(target)}-{uuid.uuid4().hex[:12]}"
        run = asyncio.ensure_future(
            self.orchestrator(queue).execute(target, input, workflow_id=workflow_id, **options)
        )
        try:
            return await self._watch_over(run, workflow_id)
        except asyncio.CancelledError:
            # The caller gave up (Ctrl-C in a notebook): its run must not go on spending.
            self._cancel_soon(workflow_id)
            raise
        except RunTimeoutError as error:
            handle = self.client.get_workflow_handle(workflow_id)
            failure = await last_workflow_task_failure(handle)
            if failure is None:
                raise
            raise RunTimeoutError(
                f"{error}; its workflow task was failing: {failure}",
                timeout_kind=error.timeout_kind,
                workflow_id=error.workflow_id,
                run_id=error.run_id,
            ) from error
        finally:
            run.cancel()

    async def _watch_over(self, run: asyncio.Future[Any], workflow_id: str) -> Any:
        while True:
            await asyncio.wait({run}, timeout=STALL_CHECK_INTERVAL)
            if run.done():
                return run.result()
            failure = await failing_workflow_task(
                self.client, workflow_id, from_history=self.kind == "time-skipping"
            )
            if failure is not None and (failure.permanent or failure.attempt >= STALL_ATTEMPTS):
                message = failure.describe(workflow_id) + (
                    " (a LocalRuntime registers the steps of chains and graphs; pass those a "
                    "hand-written workflow calls in `activities=`). The run was terminated."
                )
                await self.client.get_workflow_handle(workflow_id).terminate(reason=message)
                raise ExecutionError(message, workflow_id=workflow_id)

    def _cancel_soon(self, workflow_id: str) -> None:
        if self._env is None:
            return  # shutting down: the server goes, and the run with it

        async def cancel() -> None:
            with contextlib.suppress(Exception):
                await self.client.get_workflow_handle(workflow_id).cancel()

        task = asyncio.ensure_future(cancel())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _at_home(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run `coro` in the loop that opened the runtime (its workers live there)."""
        home = self._loop
        if home is None or home is asyncio.get_running_loop():
            return await coro
        if home.is_closed() or not home.is_running():
            coro.close()
            raise ConfigurationError(
                "this LocalRuntime was opened in an event loop that has stopped; open "
                "a new one (or use `invoke()`, whose runtime outlives event loops)"
            )
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, home))


def _eager_on_hosted_queue(queue: str, options: dict[str, Any]) -> None:
    """Ask for eager start when the run goes to the queue this runtime's worker polls.

    The server then hands the first workflow task back in the start response, to this
    process's worker: one round trip less per run. Another queue has no worker here.
    """
    options.setdefault("eager", options.get("task_queue") in (None, queue))


def _settings_workflow_timeout() -> timedelta:
    return BelugaSettings.load().orchestration.workflow.timeout
