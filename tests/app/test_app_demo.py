"""`make demo`: the order graph with live progress, a scripted offline decision, and a
dev server kept running for the Web UI until Ctrl+C — every process stopped at the end.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.cli._procs import (
    REPO,
    Proc,
    child_env,
    child_pids,
    group_commands,
    group_is_gone,
    processes_gone,
)

DEMO = [sys.executable, "-m", "workers.demo"]


def demo_env(tmp_path: Path) -> dict[str, str]:
    return child_env(BELUGA_LEDGER_PATH=str(tmp_path / "ledger.db"))


def run_demo(tmp_path: Path, *args: str) -> str:
    done = subprocess.run(
        [*DEMO, *args],
        cwd=REPO,
        env=demo_env(tmp_path),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def table_row(text: str, node: str) -> list[str]:
    line = next(line for line in text.splitlines() if line.startswith(f"│ {node} "))
    return [cell.strip() for cell in line.strip("│").split("│")]


def test_demo_prints_the_order_result(tmp_path: Path) -> None:
    out = run_demo(tmp_path)
    assert "uses the offline 'test' provider" in out
    assert "it always picks the first choice, 'expedite'" in out
    assert "make demo ARGS='--choice standard'" in out
    assert 'llm.register("test", lambda config: TestModel(output={"choice": "standard"})' in out
    assert table_row(out.replace("┃", "│"), "node")[3:5] == ["attempts", "duration"]
    assert table_row(out, "decide_expedite")[2:4] == ["succeeded", "1"]
    assert re.fullmatch(r"\d+ ms|\d+\.\d\d s", table_row(out, "decide_expedite")[4])
    assert table_row(out, "decide_expedite")[5] == "chose → fulfill_express"
    assert table_row(out, "fulfill")[2] == "skipped"
    assert "Order result:" in out
    assert '"status": "completed"' in out
    assert "Decision: 'decide_expedite' answered 'expedite'" in out
    assert "Web UI: http://localhost:" in out
    assert out.endswith("\n")


def test_demo_scripts_another_choice(tmp_path: Path) -> None:
    out = run_demo(tmp_path, "--choice", "standard")
    assert "Its choice is scripted to 'standard'" in out
    assert table_row(out, "fulfill")[2] == "succeeded"
    assert table_row(out, "decide_expedite")[5] == "chose → fulfill"
    assert table_row(out, "fulfill_express")[2] == "skipped"
    assert '"shipping": "standard"' in out


def test_make_passes_args_to_the_demo() -> None:
    dry = subprocess.run(
        ["make", "-n", "demo", "ARGS=--keep-running --choice standard"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert "-m workers.demo --keep-running --choice standard" in dry.stdout


@pytest.mark.parametrize(
    ("sig", "to_group"),
    [(signal.SIGINT, True), (signal.SIGTERM, False)],
    ids=["ctrl-c-in-a-terminal", "sigterm"],
)
def test_keep_running_serves_the_web_ui_until_stopped(
    tmp_path: Path, sig: signal.Signals, to_group: bool
) -> None:
    demo = Proc([*DEMO, "--keep-running"], env=demo_env(tmp_path))
    try:
        demo.wait_for_line("press Ctrl+C to stop", timeout=60)
        url = re.search(r"Web UI: (\S+)", demo.output)
        assert url is not None
        with urllib.request.urlopen(url.group(1), timeout=10) as page:
            assert page.status == 200
        servers = child_pids(demo.popen.pid, "start-dev")  # in a session of their own
        assert servers, "no embedded dev server found"
        (os.killpg if to_group else os.kill)(demo.popen.pid, sig)
        code = demo.popen.wait(30)
        demo.wait_for_line("Stopped.")
        assert code == 0, demo.output
        assert group_is_gone(demo.popen.pid), group_commands(demo.popen.pid)
        assert processes_gone(servers), f"server {servers} outlived the demo"
    finally:
        demo.stop()


def test_ctrl_c_while_the_server_starts_leaves_no_server(tmp_path: Path) -> None:
    demo = Proc(DEMO, env=demo_env(tmp_path))
    try:
        deadline = time.monotonic() + 30
        # Interrupt once the dev server process exists, before it serves.
        while not (servers := child_pids(demo.popen.pid, "start-dev")):
            assert time.monotonic() < deadline, demo.output
            time.sleep(0.01)
        os.kill(demo.popen.pid, signal.SIGINT)  # the demo only: the server must be stopped by it
        code = demo.popen.wait(30)
        assert code == 130, demo.output
        demo.wait_for_line("Interrupted before the order finished")
        assert group_is_gone(demo.popen.pid), group_commands(demo.popen.pid)
        assert processes_gone(servers), f"server {servers} outlived the demo"
    finally:
        demo.stop()
