"""Embedded server processes that never outlive the thread that started them.

The servers are spawned here rather than by temporalio's bridge because only the
spawning side can set up two protections:

- **Parent-death signal** (Linux): the child asks the kernel, between `fork` and
  `exec`, for `SIGKILL` when its parent thread ends (`prctl(PR_SET_PDEATHSIG)`). The
  kernel delivers it however the parent ends, `SIGKILL` and crashes included, with no
  extra process and no polling. A watchdog process was the alternative; it costs a
  Python start per server and can itself be killed first. Elsewhere, `stop()` at
  shutdown (and the shared runtime's exit hooks) are all there is.
- **Own session**: a terminal's Ctrl-C (SIGINT to the foreground process group) and
  `killpg` of the caller's group reach the caller only, so the server is still up
  while the caller shuts its workers down, then the caller stops it.

The kernel ties the signal to the spawning *thread*: a runtime is opened and shut down
in one thread (its event loop's), so the server lives exactly as long as it may.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from typing import IO

import temporalio.client

from beluga_temporal.errors import ConfigurationError
from beluga_temporal.plugin import BelugaPlugin

START_TIMEOUT = 60.0
"""Seconds a server gets to accept clients (slow, shared CI machines included)."""
STOP_GRACE = 5.0
"""Seconds between SIGTERM and SIGKILL when stopping a server."""
_PR_SET_PDEATHSIG = 1
_LIBC = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _accepts(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _die_with_parent(parent: int) -> Callable[[], None] | None:
    if _LIBC is None:
        return None
    prctl = _LIBC.prctl  # resolved before fork: the child must not import or allocate much

    def preexec() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent:  # the parent died before the signal was armed
            os._exit(1)

    return preexec


class ServerProcess:
    """One Temporal server child process (dev server or time-skipping test server)."""

    def __init__(
        self, args: Sequence[str], port: int, what: str, *, graceful: bool = False
    ) -> None:
        """Spawn `args`, a server that will listen on 127.0.0.1:`port`.

        Args:
            args: The command line.
            port: The frontend port it listens on.
            what: How error messages name it, e.g. "the Temporal dev server (path)".
            graceful: Stop it with SIGTERM first (a server with a database file);
                otherwise it is killed at once, as temporalio does (its state is in
                memory, and a graceful stop of the dev server takes ~1.5 s).
        """
        self.port = port
        self.what = what
        self.graceful = graceful
        self._output: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 - closed by stop()
        # The output goes to a file, never to the user's terminal, and is kept for the
        # error message when the server fails to start.
        self._proc = subprocess.Popen(
            list(args),
            stdin=subprocess.DEVNULL,
            stdout=self._output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_die_with_parent(os.getpid()),
        )

    @property
    def pid(self) -> int:
        """The server's process id (also its process group id)."""
        return self._proc.pid

    @property
    def target(self) -> str:
        """`host:port` for clients."""
        return f"127.0.0.1:{self.port}"

    async def connect(self, namespace: str = "default") -> temporalio.client.Client:
        """Wait until the server serves clients and return a connected one.

        Raises:
            ConfigurationError: The server exited or did not serve in time; the message
                says what it printed.
        """
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            self._check_alive()
            if _accepts(self.port):
                try:
                    return await temporalio.client.Client.connect(
                        self.target, namespace=namespace, plugins=[BelugaPlugin()]
                    )
                except Exception as error:  # still starting ("not healthy yet", resets)
                    if time.monotonic() > deadline:
                        raise self._failed(f"no client could connect: {error}") from error
            elif time.monotonic() > deadline:
                raise self._failed(f"it did not open port {self.port} in {START_TIMEOUT:.0f}s")
            await asyncio.sleep(0.02)

    def _check_alive(self) -> None:
        code = self._proc.poll()
        if code is not None:
            raise self._failed(f"it exited with code {code}")

    def _failed(self, why: str) -> ConfigurationError:
        said = self._tail() or "(nothing)"
        self.kill()
        return ConfigurationError(f"{self.what} did not start: {why}; it said: {said}")

    def _tail(self, size: int = 2000) -> str:
        if self._output.closed:
            return ""
        self._output.flush()
        self._output.seek(0, os.SEEK_END)
        self._output.seek(max(0, self._output.tell() - size))
        return self._output.read().decode(errors="replace").strip()

    async def shutdown(self) -> None:
        """Stop the server (graceful ones: SIGTERM, then SIGKILL after `STOP_GRACE` s)."""
        if self.graceful and self._proc.poll() is None:
            self._signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                await asyncio.to_thread(self._proc.wait, STOP_GRACE)
        self.kill()

    def kill(self) -> None:
        """Kill the server's process group at once and reap it (safe to repeat)."""
        if self._proc.poll() is None:
            self._signal(signal.SIGKILL)
            self._proc.wait()
        self._output.close()

    def _signal(self, sig: signal.Signals) -> None:
        # The group: anything the server spawned goes too.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self._proc.pid, sig)
