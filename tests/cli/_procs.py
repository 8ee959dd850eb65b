"""Real subprocesses for CLI tests: `beluga dev`, `beluga worker`, the `temporal` CLI.

Synchronisation is by condition with a deadline (a port accepting, a line printed),
never by fixed sleeps. Every process runs in its own session so teardown can stop the
whole group (the dev server's `temporal` child included).
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import os
import pty
import re
import signal
import struct
import subprocess
import sys
import termios
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from tests._net import free_port

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
BELUGA = str(BIN / "beluga")
TEMPORAL = str(BIN / "temporal")


def child_env(**extra: str) -> dict[str, str]:
    """The test's environment, offline (no OpenAI key), unbuffered, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if k != "OPENAI_API_KEY"}
    env.update(PYTHONUNBUFFERED="1", **extra)
    return env


class Proc:
    """A child process whose combined output is collected line by line."""

    # Bytes for a `TerminalProc`, which reads its terminal itself: only the process
    # control (pid, poll, signals, wait) is shared, and that is the same for both.
    popen: subprocess.Popen[str] | subprocess.Popen[bytes]

    def __init__(self, args: list[str], env: dict[str, str] | None = None) -> None:
        self.args = args
        self.lines: list[str] = []
        self._changed = threading.Condition()
        self._eof = False
        popen = subprocess.Popen(
            args,
            cwd=REPO,
            env=env or child_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self.popen = popen
        assert popen.stdout is not None
        threading.Thread(target=self._read, args=(popen.stdout,), daemon=True).start()

    def _read(self, stdout: IO[str]) -> None:
        for line in stdout:
            self._add(line.rstrip("\n"))
        self._end_of_output()

    def _end_of_output(self) -> None:
        with self._changed:
            self._eof = True
            self._changed.notify_all()

    def _add(self, line: str) -> None:
        with self._changed:
            self.lines.append(line)
            self._changed.notify_all()

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_for_line(self, text: str, timeout: float = 30.0) -> str:
        """Wait until a line containing `text` was printed; fail if the process exits."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = next((line for line in self.lines if text in line), None)
                if found is not None:
                    return found
                if self._eof and self.popen.poll() is not None:
                    # Only once all its output was read: a process that just exited may
                    # still have lines in the pipe.
                    raise AssertionError(
                        f"{self.args} exited before printing {text!r}:\n{self.output}"
                    )
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(
                        f"timed out waiting for {text!r} from {self.args}:\n{self.output}"
                    )
                self._changed.wait(remaining)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> int:
        """Signal the process, wait for it, then kill whatever is left of its group."""
        if self.popen.poll() is None:
            self.popen.send_signal(sig)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(timeout)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.popen.pid, signal.SIGKILL)
        return self.popen.wait(5)


_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07|\r")


class TerminalProc(Proc):
    """A child process attached to a pseudo-terminal, as in an interactive shell.

    Its output (stdout and stderr) is collected line by line with terminal control
    sequences removed, so live displays can be read like plain output.
    """

    def __init__(self, args: list[str], env: dict[str, str] | None = None) -> None:
        self.args = args
        self.lines = []
        self._changed = threading.Condition()
        self._eof = False
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
        self._master = master
        self.popen = subprocess.Popen(
            args, cwd=REPO, env=env or child_env(), stdin=slave, stdout=slave, stderr=slave,
            start_new_session=True,
        )  # fmt: skip
        os.close(slave)
        threading.Thread(target=self._read_terminal, daemon=True).start()

    def _read_terminal(self) -> None:
        pending = b""
        while True:
            try:
                chunk = os.read(self._master, 4096)
            except OSError:  # EIO: every holder of the terminal has exited
                chunk = b""
            if not chunk:
                break
            pending += chunk
            *complete, pending = pending.split(b"\n")
            for raw in complete:
                self._add(_ANSI.sub("", raw.decode(errors="replace")))
        if pending:
            self._add(_ANSI.sub("", pending.decode(errors="replace")))
        os.close(self._master)
        self._end_of_output()


@dataclasses.dataclass
class Cluster:
    """A `beluga dev` server and a `beluga worker` for the order application."""

    address: str
    task_queue: str
    ledger: Path
    dev: Proc
    worker: Proc

    def beluga(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        """Run `beluga --address ADDRESS ARGS...` and capture its output."""
        return subprocess.run(
            [BELUGA, "--address", self.address, *args],
            cwd=REPO,
            env=child_env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )


@contextlib.contextmanager
def running_cluster(tmp: Path) -> Iterator[Cluster]:
    """Start `beluga dev` and `beluga worker workflows.order_processing` as processes."""
    port = free_port()
    dev = Proc([BELUGA, "dev", "--port", str(port), "--ui-port", str(free_port())])
    worker: Proc | None = None
    try:
        dev.wait_for_line("Press Ctrl+C")
        address = f"localhost:{port}"
        queue = f"cli-{uuid.uuid4().hex[:8]}"
        ledger = tmp / "ledger.db"
        worker = Proc(
            [
                BELUGA,
                "--address",
                address,
                "worker",
                "workflows.order_processing",
                "--task-queue",
                queue,
                "--grace-period",
                "5",
            ],
            env=child_env(BELUGA_LEDGER_PATH=str(ledger)),
        )
        worker.wait_for_line("worker started")
        yield Cluster(address, queue, ledger, dev, worker)
    finally:
        if worker is not None:
            worker.stop()
        dev.stop(signal.SIGINT)


def group_is_gone(pgid: int) -> bool:
    """Whether no process of group `pgid` is left (a server a command started, say)."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return True
    return False


def group_commands(pgid: int) -> list[str]:
    """The command lines of the live processes in process group `pgid` (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:  # exited meanwhile
            continue
        fields = stat.rsplit(")", 1)[1].split()  # after "pid (comm)": state, ppid, pgrp
        if int(fields[2]) == pgid and fields[0] != "Z":
            found.append(cmdline.replace(b"\0", b" ").decode(errors="replace").strip())
    return found


def child_pids(pid: int, marker: str) -> list[int]:
    """Live children of `pid` whose command line contains `marker` (e.g. "start-dev").

    Embedded servers run in their own session, outside their parent's process group:
    find them by parent, while the parent lives.
    """
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:  # exited meanwhile
            continue
        fields = stat.rsplit(")", 1)[1].split()  # after "pid (comm)": state, ppid, pgrp
        if int(fields[1]) == pid and fields[0] != "Z" and marker.encode() in cmdline:
            found.append(int(entry.name))
    return found


def processes_gone(pids: list[int], timeout: float = 10.0) -> bool:
    """Whether every process in `pids` has ended (zombies count as ended) in time."""
    deadline = time.monotonic() + timeout
    while True:
        alive = []
        for pid in pids:
            try:
                state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
            except OSError:
                continue
            if state not in ("Z", "X"):
                alive.append(pid)
        if not alive:
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
