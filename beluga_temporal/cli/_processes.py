"""`beluga worker --processes N`: N worker processes on one task queue, stopped together.

A Python worker runs workflow code on one core at a time (the GIL), so a machine with
more cores serves more runs with more processes. The supervising process starts N
`beluga worker ... --processes 1` children, each a complete worker, and does no
Temporal work itself:

- SIGINT/SIGTERM: every child gets one SIGTERM and drains (its grace period); the
  supervisor exits 0 once all have stopped cleanly. A second signal stops them at once
  (exit 130).
- A child that ends by itself (cannot connect, crashed) stops the others; the
  supervisor exits with that child's code (1 if it was killed by a signal).
- Children run in their own session, so a terminal's Ctrl+C reaches only the
  supervisor (which forwards it once), and they read a pipe from it: if the supervisor
  dies without a word (SIGKILL), the pipe closes and they drain and exit too.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from collections.abc import Sequence

from beluga_temporal.cli._errors import EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_OK
from beluga_temporal.cli._signals import STOP_SIGNALS

SUPERVISED_OPTION = "--supervised"
"""Hidden option telling a child worker to stop when its standard input closes."""


def child_command(global_args: Sequence[str], worker_args: Sequence[str]) -> list[str]:
    """The command line of one child: this interpreter running `beluga`, one process."""
    return [
        sys.executable,
        "-m",
        "beluga_temporal",
        *global_args,
        "worker",
        *worker_args,
        "--processes",
        "1",
        SUPERVISED_OPTION,
    ]


class Supervisor:
    """Runs N copies of a command and stops them together."""

    def __init__(self, command: Sequence[str], count: int) -> None:
        """Describe the processes; `run()` starts them.

        Args:
            command: The child command line.
            count: How many children.
        """
        self.command = list(command)
        self.count = count
        self._children: list[asyncio.subprocess.Process] = []
        self._signals = 0
        self._stopping = asyncio.Event()

    async def run(self) -> int:
        """Start the children, wait until they have all ended; return the exit code."""
        loop = asyncio.get_running_loop()
        for sig in STOP_SIGNALS:
            loop.add_signal_handler(sig, self._on_signal)
        try:
            for _ in range(self.count):
                if self._stopping.is_set():
                    break
                self._children.append(await self._spawn())
            if self._stopping.is_set():  # a signal came while the children started
                self._send(signal.SIGTERM)
            return await self._wait()
        finally:
            for sig in STOP_SIGNALS:
                loop.remove_signal_handler(sig)
            await self._reap()

    async def _spawn(self) -> asyncio.subprocess.Process:
        return await asyncio.create_subprocess_exec(
            *self.command, stdin=asyncio.subprocess.PIPE, start_new_session=True
        )

    def _on_signal(self) -> None:
        self._signals += 1
        self._stopping.set()
        # The first signal asks for a graceful stop; a second one for an immediate
        # stop, which each child does on its own second signal. Another signal number:
        # two pending SIGTERMs would reach a busy child as one.
        self._send(signal.SIGTERM if self._signals == 1 else signal.SIGINT)

    def _send(self, sig: signal.Signals) -> None:
        for child in self._children:
            if child.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    child.send_signal(sig)

    async def _wait(self) -> int:
        waits = {asyncio.ensure_future(child.wait()): child for child in self._children}
        first_failure: int | None = None
        pending = set(waits)
        while pending:
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            for finished in done:
                code = finished.result()
                if not self._stopping.is_set():
                    # A child ended on its own: the others stop too.
                    first_failure = _failure_code(code)
                    self._stopping.set()
                    self._send(signal.SIGTERM)
                elif not _stopped_cleanly(code) and first_failure is None:
                    first_failure = _failure_code(code)
        if self._signals >= 2:
            return EXIT_INTERRUPTED
        return first_failure if first_failure is not None else EXIT_OK

    async def _reap(self) -> None:
        """Never leave a child behind (the supervisor itself is being torn down)."""
        for child in self._children:
            if child.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    child.kill()
                await child.wait()
            if child.stdin is not None:
                child.stdin.close()


def _stopped_cleanly(code: int) -> bool:
    # A child stopped by our SIGTERM before it installed its handler dies of it.
    return code in (EXIT_OK, -signal.SIGTERM)


def _failure_code(code: int) -> int:
    """A child's exit code as the supervisor's: a signal death is a plain failure."""
    return code if code > 0 else EXIT_FAILURE


async def stop_when_stdin_closes(stop: asyncio.Event) -> None:
    """Set `stop` when standard input reaches end of file (the supervisor is gone)."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    await reader.read()
    stop.set()
