"""The process-wide runtime behind `invoke()`: its own thread, stopped at exit.

The runtime's event loop runs in a daemon thread, not in the caller's loop. A script's
`asyncio.run(main())` ends by cancelling every task left in its loop; a Temporal worker
whose internal tasks are cancelled that way hangs the exit or logs eviction failures.
In its own loop, the worker is beyond that reach and is shut down in order instead:

- at interpreter exit, before other threads are joined (a `threading` exit hook, which
  runs ahead of `atexit` and of the step thread pool's own hook);
- on SIGTERM (when the process has no handler of its own): the runtime stops, then the
  signal takes its default course, so the exit status still says "terminated";
- on SIGINT the caller's `KeyboardInterrupt` unwinds the script and the exit hook runs;
- on SIGKILL the kernel stops the server (see `_server.py`).

One runtime serves every event loop of the process (several `asyncio.run` calls, a
notebook's loop), so it outlives the loops that use it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures

# Imported before our exit hook is registered so that its own hook, which refuses new
# work to every thread pool, runs after ours: the worker's shutdown still needs its pools.
import concurrent.futures.thread
import logging
import os
import signal
import threading
from types import FrameType

from beluga_temporal._sdk import register_early_exit_hook
from beluga_temporal.local._environment import RuntimeKind
from beluga_temporal.local._runtime import LocalRuntime
from beluga_temporal.local._threads import wait_for_foreign_threads

logger = logging.getLogger(__name__)

STOP_TIMEOUT = 20.0
"""Seconds the exit hooks give the workers and the server to stop."""


class _Shared:
    """A `LocalRuntime` whose event loop runs in a thread of its own."""

    def __init__(self, kind: RuntimeKind) -> None:
        self.pid = os.getpid()
        self.runtime = LocalRuntime(kind)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._run, name="beluga-runtime", daemon=True)
        self.thread.start()
        self.opened = asyncio.run_coroutine_threadsafe(self.runtime.open(), self.loop)
        self._stopped: concurrent.futures.Future[None] | None = None

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_forever()
        finally:
            self.loop.run_until_complete(self.loop.shutdown_asyncgens())
            self.loop.run_until_complete(self.loop.shutdown_default_executor())
            self.loop.close()

    def stop_soon(self) -> concurrent.futures.Future[None]:
        """Shut the runtime down in its loop (idempotent).

        Returns:
            A future done once the runtime stopped and its thread ended.
        """
        if self._stopped is None:
            self._stopped = concurrent.futures.Future()
            stopping = asyncio.run_coroutine_threadsafe(self._stop(), self.loop)
            # Reported from the loop's own thread: join it from another one.
            stopping.add_done_callback(
                lambda f: threading.Thread(target=self._join, args=(f,), daemon=True).start()
            )
        return self._stopped

    async def _stop(self) -> None:
        try:
            await self.runtime.shutdown()
            # Callers' runs still waited on (their processes are exiting): with the
            # server gone they can only fail; end them here rather than abandon them.
            leftovers = asyncio.all_tasks() - {asyncio.current_task()}
            for task in leftovers:
                task.cancel()
            await asyncio.gather(*leftovers, return_exceptions=True)
        finally:
            self.loop.stop()

    def _join(self, stopping: concurrent.futures.Future[None]) -> None:
        self.thread.join()
        assert self._stopped is not None
        error = None if stopping.cancelled() else stopping.exception()
        if error is None:
            self._stopped.set_result(None)
        else:
            self._stopped.set_exception(error)

    def stop_blocking(self, timeout: float = STOP_TIMEOUT) -> None:
        """Stop from synchronous code (exit hooks, signal handlers); never raises.

        A second Ctrl-C while it waits kills the server at once.
        """
        try:
            self.stop_soon().result(timeout)
        except BaseException as error:  # KeyboardInterrupt included: stop now
            if not isinstance(error, KeyboardInterrupt):
                logger.warning("the embedded Temporal runtime did not stop cleanly: %s", error)
            self.runtime.kill_server()
        wait_for_foreign_threads()


# Re-entrant: the SIGTERM handler runs in the main thread, maybe inside `_take`.
_lock = threading.RLock()
_current: _Shared | None = None
_exit_hook_installed = False


def _take(kind: RuntimeKind | None) -> _Shared:
    global _current
    with _lock:
        if _current is None or _current.pid != os.getpid():  # a forked child starts anew
            _current = _Shared(kind or _default_kind())
            _install_exit_hooks()
        return _current


def _detach(expected: _Shared | None = None) -> _Shared | None:
    """Take the current runtime out of service (only `expected`, when given)."""
    global _current
    with _lock:
        shared = _current
        if shared is None or (expected is not None and shared is not expected):
            return None
        _current = None
    return shared if shared.pid == os.getpid() else None


async def shared_runtime(kind: RuntimeKind | None = None) -> LocalRuntime:
    """Return the process-wide runtime used by `invoke()`, starting it on first use.

    Its event loop runs in a thread of its own, so it serves every event loop of the
    process and survives them; it stops by itself at interpreter exit and on SIGTERM.
    Calls from any loop are handed over to it (`execute`, `start`, `worker_for`).

    Args:
        kind: The server kind when this call starts it. Default: settings
            `local.kind` (env `BELUGA_LOCAL__KIND`), else `"dev"`: real time and the
            same server semantics as production.

    Raises:
        ConfigurationError: The server could not start (the message says why).
    """
    shared = _take(kind)
    try:
        await asyncio.wrap_future(shared.opened)
    except Exception:
        if _detach(shared) is not None:
            shared.stop_soon()  # ends its thread; the next call starts afresh
        raise
    return shared.runtime


async def shutdown_shared_runtime() -> None:
    """Stop the process-wide runtime behind `invoke()`: its workers, then its server.

    Scripts need not call it: it runs at interpreter exit (and on SIGTERM). Call it in
    a notebook or a long-lived process to free the server's memory and ports now, e.g.
    in a notebook's last cell or before switching `local.kind`; the next `invoke()`
    starts a fresh runtime. Safe to call when none runs, and from any event loop.
    """
    shared = _detach()
    if shared is not None:
        await asyncio.wrap_future(shared.stop_soon())
        _restore_sigterm()


def _stop_at_exit() -> None:
    shared = _detach()
    if shared is not None:
        shared.stop_blocking()


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    _stop_at_exit()
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGTERM)  # the default action: exit status "terminated"


def _install_exit_hooks() -> None:
    global _exit_hook_installed
    if not _exit_hook_installed:
        _exit_hook_installed = True
        # Ahead of `atexit` and of the thread pools' own hook, which joins step threads
        # the worker's shutdown would cancel.
        register_early_exit_hook(_stop_at_exit)
    # Only a process without a SIGTERM handler of its own gets ours (main thread only).
    main = threading.current_thread() is threading.main_thread()
    if main and signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _on_sigterm)


def _restore_sigterm() -> None:
    if threading.current_thread() is not threading.main_thread():
        return
    with _lock:
        if _current is None and signal.getsignal(signal.SIGTERM) is _on_sigterm:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _default_kind() -> RuntimeKind:
    from beluga_temporal.settings import BelugaSettings

    return BelugaSettings.load().local.kind
