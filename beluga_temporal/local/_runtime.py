"""`LocalRuntime`: a real Temporal server embedded in the process, plus workers."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterator, Sequence
from types import TracebackType
from typing import IO, Any, Literal

import temporalio.client
import temporalio.worker
from temporalio.testing import WorkflowEnvironment

from beluga_temporal.client import Orchestrator, StartTarget
from beluga_temporal.errors import ConfigurationError
from beluga_temporal.local._binaries import dev_server_path, test_server_path
from beluga_temporal.plugin import BelugaPlugin
from beluga_temporal.runtime import WorkflowTarget
from beluga_temporal.settings import BelugaSettings
from beluga_temporal.worker import create_worker

RuntimeKind = Literal["dev", "time-skipping"]

# The dev server polls its history transfer queue at 20/s by default, which costs ~50 ms
# per workflow task round trip; raised, a 3-step chain takes ~25 ms instead of ~200 ms.
# Eager workflow start lets an in-process starter hand the first workflow task straight
# to its own worker (one round trip less per run).
LATENCY_TUNING = (
    "--dynamic-config-value",
    "history.transferProcessorMaxPollRPS=10000",
    "--dynamic-config-value",
    "system.enableEagerWorkflowStart=true",
)


async def start_environment(
    kind: RuntimeKind,
    *,
    ui: bool = False,
    port: int | None = None,
    ui_port: int | None = None,
    db_filename: str | None = None,
    namespace: str = "default",
) -> WorkflowEnvironment:
    """Start an embedded Temporal server from the pip-installed binaries.

    Cancelled while the server starts (Ctrl+C), it lets the start finish and stops the
    server again before re-raising: a half-started server must not outlive the process.
    """
    starting = asyncio.ensure_future(
        _start_environment(kind, ui, port, ui_port, db_filename, namespace)
    )
    try:
        return await asyncio.shield(starting)
    except asyncio.CancelledError:
        with contextlib.suppress(Exception):
            await (await starting).shutdown()
        raise


async def _start_environment(
    kind: RuntimeKind,
    ui: bool,
    port: int | None,
    ui_port: int | None,
    db_filename: str | None,
    namespace: str,
) -> WorkflowEnvironment:
    plugins = [BelugaPlugin()]
    if kind == "time-skipping":
        return await WorkflowEnvironment.start_time_skipping(
            plugins=plugins, test_server_existing_path=test_server_path(), port=port
        )
    if kind == "dev":
        path = dev_server_path()
        with _child_output_captured() as capture:
            try:
                return await WorkflowEnvironment.start_local(
                    plugins=plugins,
                    namespace=namespace,
                    dev_server_existing_path=path,
                    dev_server_extra_args=list(LATENCY_TUNING),
                    dev_server_database_filename=db_filename,
                    ui=ui,
                    port=port,
                    ui_port=ui_port,
                )
            except Exception as error:
                said = _tail(capture) or "(nothing)"
                raise ConfigurationError(
                    f"the Temporal dev server ({path}) did not start: {error}; it said: {said}"
                ) from error
    raise ConfigurationError(f"unknown local runtime kind {kind!r}: use 'dev' or 'time-skipping'")


_saved_fds: list[int] = []  # fds 1 and 2 while any server start is in progress
_capture: list[IO[bytes]] = []  # where the servers' own output goes meanwhile
_silencers = 0


@contextlib.contextmanager
def _child_output_captured() -> Iterator[IO[bytes]]:
    """Point fds 1 and 2 at an anonymous file while server processes are spawned.

    The dev server inherits them and prints a banner and start-up warnings into the
    user's output; the embedded runtime is an implementation detail of `invoke()`. The
    file keeps what the server said, for the error when it fails to start. Overlapping
    starts share one redirection, restored when the last one ends.
    """
    global _silencers
    if _silencers == 0:
        sys.stdout.flush()
        sys.stderr.flush()
        _saved_fds[:] = [os.dup(1), os.dup(2)]
        _capture[:] = [tempfile.TemporaryFile()]  # noqa: SIM115 - closed by the last exit
        os.dup2(_capture[0].fileno(), 1)
        os.dup2(_capture[0].fileno(), 2)
    _silencers += 1
    capture = _capture[0]
    try:
        yield capture
    finally:
        _silencers -= 1
        if _silencers == 0:
            os.dup2(_saved_fds[0], 1)
            os.dup2(_saved_fds[1], 2)
            for fd in _saved_fds:
                os.close(fd)
            _saved_fds.clear()
            _capture.clear()
            capture.close()


def _tail(capture: IO[bytes], size: int = 2000) -> str:
    capture.flush()
    capture.seek(0, os.SEEK_END)
    capture.seek(max(0, capture.tell() - size))
    return capture.read().decode(errors="replace").strip()


class LocalRuntime:
    """An embedded Temporal server with in-process workers for the targets it runs.

    Example:
        ```python
        async with LocalRuntime(kind="time-skipping") as rt:
            result = await rt.execute(order_graph, order)
        ```
    """

    def __init__(self, kind: RuntimeKind = "dev", *, ui: bool = False, **server: Any) -> None:
        """Describe the runtime; nothing starts until `open()` or `async with`.

        Args:
            kind: `"dev"` (Temporal CLI dev server: real time, Web UI) or
                `"time-skipping"` (test server: timers skip ahead).
            ui: Serve the Web UI (dev server only).
            **server: `port`, `ui_port`, `db_filename` for `start_environment`.
        """
        self.kind: RuntimeKind = kind
        self._ui = ui
        self._server = server
        self._env: WorkflowEnvironment | None = None
        self._workers: dict[type, tuple[str, temporalio.worker.Worker, asyncio.Task[None]]] = {}
        self._lock = asyncio.Lock()

    async def open(self) -> LocalRuntime:
        """Start the server (idempotent); `async with` does this for you."""
        if self._env is None:
            self._env = await start_environment(self.kind, ui=self._ui, **self._server)
        return self

    async def shutdown(self) -> None:
        """Stop every worker, then the server."""
        for _, worker, task in self._workers.values():
            await worker.shutdown()
            await task
        self._workers.clear()
        if self._env is not None:
            await self._env.shutdown()
            self._env = None

    async def __aenter__(self) -> LocalRuntime:
        return await self.open()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.shutdown()

    @property
    def client(self) -> temporalio.client.Client:
        """The connected client (pydantic converter, beluga plugin)."""
        if self._env is None:
            raise ConfigurationError("the local runtime is not started: use `async with`")
        return self._env.client

    @property
    def environment(self) -> WorkflowEnvironment:
        """The underlying temporalio test environment."""
        if self._env is None:
            raise ConfigurationError("the local runtime is not started: use `async with`")
        return self._env

    def orchestrator(self, task_queue: str) -> Orchestrator:
        """An `Orchestrator` on this runtime's client."""
        return Orchestrator(self.client, task_queue)

    async def worker_for(
        self, target: StartTarget, activities: Sequence[Callable[..., Any]] = ()
    ) -> str:
        """Make sure an in-process worker hosts `target`; return its task queue."""
        if isinstance(target, str):
            raise ConfigurationError(
                f"the local runtime needs the Chain, Graph or workflow class, not {target!r}"
            )
        cls = target.workflow if isinstance(target, WorkflowTarget) else target
        async with self._lock:
            if cls not in self._workers:
                queue = f"beluga-local-{uuid.uuid4().hex[:8]}"
                worker = create_worker(self.client, queue, targets=[target], activities=activities)
                task = asyncio.create_task(worker.run())
                self._workers[cls] = (queue, worker, task)
            return self._workers[cls][0]

    async def start(
        self,
        target: StartTarget,
        input: Any = None,
        *,
        activities: Sequence[Callable[..., Any]] = (),
        **start_options: Any,
    ) -> temporalio.client.WorkflowHandle[Any, Any]:
        """Start a run on an in-process worker and return its temporalio handle."""
        queue = await self.worker_for(target, activities)
        _eager_on_hosted_queue(queue, start_options)
        return await self.orchestrator(queue).start_handle(target, input, **start_options)

    async def execute(
        self,
        target: StartTarget,
        input: Any = None,
        *,
        activities: Sequence[Callable[..., Any]] = (),
        **start_options: Any,
    ) -> Any:
        """Run `target` on an in-process worker and return its result.

        Raises:
            ExecutionError: The run failed (see `beluga_temporal.errors`).
        """
        queue = await self.worker_for(target, activities)
        _eager_on_hosted_queue(queue, start_options)
        return await self.orchestrator(queue).execute(target, input, **start_options)


def _eager_on_hosted_queue(queue: str, start_options: dict[str, Any]) -> None:
    """Ask for eager start when the run goes to the queue this runtime's worker polls.

    The server then hands the first workflow task back in the start response, to this
    process's worker: one round trip less per run. Another queue has no worker here.
    """
    hosted = start_options.get("task_queue") in (None, queue)
    start_options.setdefault("eager", hosted)


_shared: tuple[asyncio.AbstractEventLoop, LocalRuntime] | None = None
_shared_lock: tuple[asyncio.AbstractEventLoop, asyncio.Lock] | None = None


def _lock_for(loop: asyncio.AbstractEventLoop) -> asyncio.Lock:
    global _shared_lock
    if _shared_lock is None or _shared_lock[0] is not loop:
        _shared_lock = (loop, asyncio.Lock())
    return _shared_lock[1]


async def shared_runtime(kind: RuntimeKind | None = None) -> LocalRuntime:
    """Return the process-wide runtime used by `invoke()`, starting it on first use.

    The kind comes from settings (`local.kind`, env `BELUGA_LOCAL__KIND`), default
    `"dev"`: real time and the same server semantics as production.
    """
    global _shared
    loop = asyncio.get_running_loop()
    async with _lock_for(loop):  # two first `invoke()`s must not start two servers
        if _shared is not None and _shared[0] is loop and _shared[1]._env is not None:
            return _shared[1]
        runtime = LocalRuntime(kind or _default_kind())
        await runtime.open()
        _shared = (loop, runtime)
        return runtime


async def shutdown_shared_runtime() -> None:
    """Stop the process-wide runtime, if one is running in this event loop."""
    global _shared
    if _shared is not None and _shared[0] is asyncio.get_running_loop():
        await _shared[1].shutdown()
    _shared = None


def _default_kind() -> RuntimeKind:
    return BelugaSettings.load().local.kind
