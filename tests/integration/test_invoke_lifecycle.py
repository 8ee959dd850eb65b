"""Scripts that call `invoke()` exit promptly and cleanly, and leave no server behind.

Each case runs `invoke_script.py` as its own process, the way a user runs a script:
five times after a successful run, five times after a failed one (caught by the
script); once each interrupted mid-step by SIGINT (a terminal's Ctrl-C, sent to the
script's process group), SIGTERM and SIGKILL (sent to the script alone, as `kill`,
`timeout` or an OOM killer do); and once with Ctrl-C while it exits after a failed run.
The runs go four at a time.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import os
import re
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pytest

SCRIPT = Path(__file__).with_name("invoke_script.py")
REPO = Path(__file__).resolve().parents[2]
RUN_TIMEOUT = 40.0
"""A script still running after this long counts as hung (and is killed)."""
EXIT_LATENCY = 10.0
"""Most seconds from `main()` returning to the process ending. It takes 0.2 s on an idle
machine, 3 s on a loaded one (interpreter teardown; the runtime's own stop stays under
0.3 s). Hung runs never end; the eviction-retry bug, which cost 2 s, is caught by its
message instead."""
MEDIAN_EXIT_LATENCY = 2.5
"""Most seconds for the median exit latency of the successful runs: one slow exit on a
loaded machine is tolerated, a slow exit every time (issue 10.0: 3 s where 1 s was
expected) is not."""
SIGNAL_EXIT = 10.0
"""Most seconds from a signal to the process ending."""
NOISE = ("eviction", "Exception ignored", "Fatal Python error", "Task was destroyed", "WARN")


@dataclasses.dataclass
class Outcome:
    """What one script run did."""

    case: str
    returncode: int | None
    stdout: str
    stderr: str
    exit_latency: float | None
    """Seconds from `done` (main returned) or the signal to the process ending."""
    server: int | None

    def __str__(self) -> str:
        return f"{self.case}: rc={self.returncode}\n{self.stdout}\n{self.stderr[-3000:]}"


@dataclasses.dataclass(frozen=True)
class Case:
    """A script run: `mode` for the script, and a signal sent when it prints `after`."""

    mode: str
    signal: str = ""
    after: str = ""
    group: bool = False
    """Signal the script's process group (a terminal's Ctrl-C), not just the script."""

    @property
    def name(self) -> str:
        return f"{self.mode}+{self.signal}" if self.signal else self.mode


def _run(case: Case) -> Outcome:
    proc = subprocess.Popen(
        [sys.executable, str(SCRIPT), case.mode],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
        start_new_session=True,  # its own group, like a terminal's foreground job
    )
    stdout_lines: list[str] = []
    signalled_at = None
    if case.signal:
        assert proc.stdout is not None
        for line in proc.stdout:  # e.g. the step is running once it says so
            stdout_lines.append(line)
            if line.startswith(case.after):
                break
        signalled_at = time.time()
        send = os.killpg if case.group else os.kill
        send(proc.pid, getattr(signal, case.signal))
    try:
        rest, stderr = proc.communicate(timeout=RUN_TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        rest, stderr = proc.communicate()
        stderr += "\n[the script hung and was killed]"
    ended = time.time()
    stdout = "".join(stdout_lines) + rest
    done = re.search(r"^done (\S+)", stdout, re.MULTILINE)
    start = signalled_at or (float(done.group(1)) if done else None)
    server = re.search(r"^server (\d+)", stdout, re.MULTILINE)
    return Outcome(
        case.name,
        proc.returncode,
        stdout,
        stderr,
        None if start is None else ended - start,
        int(server.group(1)) if server else None,
    )


@pytest.fixture(scope="module")
def outcomes() -> dict[str, list[Outcome]]:
    cases = [Case("ok")] * 5 + [Case("fail")] * 5
    cases += [
        Case("block", "SIGINT", after="running", group=True),
        Case("block", "SIGTERM", after="running"),
        Case("block", "SIGKILL", after="running"),
        Case("fail", "SIGINT", after="server", group=True),
    ]
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(_run, cases))
    grouped: dict[str, list[Outcome]] = {}
    for outcome in results:
        grouped.setdefault(outcome.case, []).append(outcome)
    return grouped


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")  # a zombie is dead (PID 1 here may not reap it)


def _server_gone(outcome: Outcome, timeout: float = 5.0) -> bool:
    assert outcome.server is not None, f"no server pid reported\n{outcome}"
    deadline = time.monotonic() + timeout
    while _alive(outcome.server):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _tracebacks(stderr: str) -> list[str]:
    """The exception line ending each traceback in `stderr`."""
    blocks = stderr.split("Traceback (most recent call last):")[1:]
    endings = []
    for block in blocks:
        lines = [ln for ln in block.splitlines() if re.match(r"^\S+(Error|Interrupt)", ln)]
        endings.append(lines[0] if lines else block)
    return endings


def _assert_quiet(outcome: Outcome, allowed: tuple[str, ...]) -> None:
    for noise in NOISE:  # Temporal's core logs to stdout, Python's to stderr
        assert noise not in outcome.stderr + outcome.stdout, f"'{noise}' in output\n{outcome}"
    for ending in _tracebacks(outcome.stderr):
        assert ending.startswith(allowed), f"unexpected traceback ({ending})\n{outcome}"


@pytest.mark.parametrize("mode", ["ok", "fail"])
def test_scripts_exit_at_once_after_invoke(outcomes: dict[str, list[Outcome]], mode: str) -> None:
    for outcome in outcomes[mode]:
        assert outcome.returncode == 0, str(outcome)
        expected = "{'x': 1, 'y': 2}" if mode == "ok" else "caught GraphExecutionError"
        assert expected in outcome.stdout, str(outcome)
        assert outcome.exit_latency is not None, f"main() never returned\n{outcome}"
        assert outcome.exit_latency < EXIT_LATENCY, str(outcome)
        # The failing step's own log (temporalio logs a step failure with its traceback).
        _assert_quiet(outcome, allowed=("ValueError: nope",))
        assert _server_gone(outcome), f"server {outcome.server} outlived the script"


def test_successful_scripts_exit_promptly_on_median(outcomes: dict[str, list[Outcome]]) -> None:
    latencies = [outcome.exit_latency for outcome in outcomes["ok"]]
    assert None not in latencies, "\n".join(map(str, outcomes["ok"]))
    median = statistics.median(latency for latency in latencies if latency is not None)
    assert median < MEDIAN_EXIT_LATENCY, f"exit latencies {latencies}"


def test_ctrl_c_stops_the_script_and_its_server(outcomes: dict[str, list[Outcome]]) -> None:
    (outcome,) = outcomes["block+SIGINT"]
    assert outcome.returncode == -signal.SIGINT, str(outcome)
    assert outcome.exit_latency is not None
    assert outcome.exit_latency < SIGNAL_EXIT, str(outcome)
    # Python's own report of an uncaught Ctrl-C in `asyncio.run`, and nothing else.
    assert outcome.stderr.rstrip().endswith("KeyboardInterrupt"), str(outcome)
    _assert_quiet(outcome, allowed=("asyncio.exceptions.CancelledError", "KeyboardInterrupt"))
    assert _server_gone(outcome), f"server {outcome.server} outlived the script"


def test_sigterm_stops_the_script_and_its_server(outcomes: dict[str, list[Outcome]]) -> None:
    (outcome,) = outcomes["block+SIGTERM"]
    assert outcome.returncode == -signal.SIGTERM, str(outcome)
    assert outcome.exit_latency is not None
    assert outcome.exit_latency < SIGNAL_EXIT, str(outcome)
    _assert_quiet(outcome, allowed=())
    assert _server_gone(outcome), f"server {outcome.server} outlived the script"


def test_sigkill_of_the_script_takes_its_server_along(
    outcomes: dict[str, list[Outcome]],
) -> None:
    (outcome,) = outcomes["block+SIGKILL"]
    assert outcome.returncode == -signal.SIGKILL, str(outcome)
    assert _server_gone(outcome), f"server {outcome.server} orphaned by SIGKILL"


_LOOP_CLOSE_INTERRUPTED = re.compile(
    r"Exception ignored in: <function BaseEventLoop\.__del__.*?"
    r"ValueError: Invalid file descriptor: -1\n",
    re.DOTALL,
)


def _without_cpython_loop_close_report(outcome: Outcome) -> Outcome:
    """Drop CPython's own report of a Ctrl-C landing inside the script's `loop.close()`.

    When SIGINT arrives while `asyncio.run` closes the *caller's* loop (after `main()`
    returned), the `KeyboardInterrupt` leaves that loop half-closed and its `__del__`
    complains. Any asyncio script does this; it is not the framework's output. Only that
    exact report is dropped, and only when the interrupt came through `loop.close()`.
    """
    if "in close\n    loop.close()" not in outcome.stderr:
        return outcome
    stderr = _LOOP_CLOSE_INTERRUPTED.sub("", outcome.stderr)
    return dataclasses.replace(outcome, stderr=stderr)


def test_ctrl_c_while_exiting_after_a_failure(outcomes: dict[str, list[Outcome]]) -> None:
    (outcome,) = outcomes["fail+SIGINT"]
    outcome = _without_cpython_loop_close_report(outcome)
    # Already gone (0), or interrupted on its way out (-SIGINT): either way at once.
    assert outcome.returncode in (0, -signal.SIGINT), str(outcome)
    assert outcome.exit_latency is not None
    assert outcome.exit_latency < SIGNAL_EXIT, str(outcome)
    _assert_quiet(
        outcome,
        allowed=("ValueError: nope", "asyncio.exceptions.CancelledError", "KeyboardInterrupt"),
    )
    assert _server_gone(outcome), f"server {outcome.server} outlived the script"
