"""Embedded server processes: own session, killed by the kernel with their parent thread."""

from __future__ import annotations

import os
import sys
import threading
import time
import typing
from datetime import timedelta
from pathlib import Path

import pytest

from beluga_temporal.local import LocalRuntime
from beluga_temporal.local._server import ServerProcess

SLEEPER = [sys.executable, "-c", "import time; time.sleep(120)"]


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state not in ("Z", "X")


def _gone_within(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while _alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux")
def test_a_server_dies_with_the_thread_that_started_it() -> None:
    spawned: list[ServerProcess] = []
    thread = threading.Thread(target=lambda: spawned.append(ServerProcess(SLEEPER, 1, "x")))
    thread.start()
    thread.join()  # the thread ends without stopping its server
    (server,) = spawned
    try:
        assert _gone_within(server.pid, 10), "the server outlived the thread that started it"
    finally:
        server.kill()


def test_a_server_runs_in_its_own_session() -> None:
    server = ServerProcess(SLEEPER, 1, "x")
    try:
        # A terminal's Ctrl-C (SIGINT to our process group) does not reach it.
        assert os.getsid(server.pid) == server.pid != os.getsid(0)
    finally:
        server.kill()
    assert _gone_within(server.pid, 5)


async def test_time_skipping_still_skips() -> None:
    # The time-skipping environment is temporalio's, over a test server spawned here.
    async with LocalRuntime(kind="time-skipping") as runtime:
        env = runtime.environment
        assert env.supports_time_skipping
        before = await env.get_current_time()
        await env.sleep(timedelta(hours=2))
        assert await env.get_current_time() - before >= timedelta(hours=2)


async def test_shutdown_stops_the_server() -> None:
    runtime = await LocalRuntime(kind="time-skipping").open()
    server: ServerProcess = typing.cast(typing.Any, runtime.environment).server
    await runtime.shutdown()
    assert _gone_within(server.pid, 5)
    assert not runtime.is_open
