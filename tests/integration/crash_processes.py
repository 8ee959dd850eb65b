"""Separate processes for the crash tests: a dev server and workers we can SIGKILL.

Everything waits on conditions with deadlines (a port accepting, a ledger row), never
on fixed sleeps.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from tests._net import free_port, port_open

APP = Path(__file__).with_name("crash_app.py")
REPO = Path(__file__).resolve().parents[2]


async def wait_until(
    condition: Callable[[], bool | Awaitable[bool]], what: str, timeout: float = 30.0
) -> None:
    """Poll `condition` until it holds; fail naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if not isinstance(result, bool):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.05)


class Process:
    """A child process that is SIGKILLed on `kill()` and logs to a file."""

    def __init__(self, args: list[str], log: Path, env: dict[str, str] | None = None) -> None:
        self.args, self.log, self.env = args, log, env
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        # Own process group: kill() takes children along (`beluga dev` runs the server).
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                self.args,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=self.env,
                cwd=REPO,
                start_new_session=True,
            )

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def kill(self) -> None:
        """SIGKILL the process (no graceful shutdown) and reap it."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        self.proc = None


class DevServer(Process):
    """`beluga dev` (the wheel's Temporal dev server), optionally on a SQLite file."""

    def __init__(self, workdir: Path, db_filename: Path | None = None) -> None:
        self.port = free_port()
        beluga = str(Path(sys.executable).with_name("beluga"))
        args = [beluga, "dev", "--port", str(self.port), "--ui-port", str(free_port())]
        if db_filename is not None:
            args += ["--db-filename", str(db_filename)]
        super().__init__(args, workdir / "server.log")

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    async def start_and_wait(self) -> None:
        self.start()
        await wait_until(lambda: port_open(self.port), f"the dev server on port {self.port}")


class Worker(Process):
    """A worker process serving the crash order graph (see `crash_app.py`)."""

    def __init__(self, workdir: Path, address: str, task_queue: str, ledger: Path) -> None:
        env = {**os.environ, "CRASH_LEDGER": str(ledger), "PYTHONPATH": str(REPO)}
        args = [sys.executable, str(APP), address, task_queue]
        super().__init__(args, workdir / "workers.log", env)
