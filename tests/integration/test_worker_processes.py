"""`beluga worker --processes N` as a real process tree, against the dev server.

The supervisor starts N children, each a full worker on the same queue; signals stop
them all (gracefully, then at once on a second signal), a child that cannot run stops
the others with its exit code, and children never outlive a killed supervisor.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from temporalio.api.enums.v1 import EventType

from beluga_temporal import LocalRuntime, Orchestrator
from beluga_temporal.cli import EXIT_CONFIGURATION, EXIT_INTERRUPTED, EXIT_USAGE
from tests._net import free_port
from tests.cli._procs import BELUGA, Proc
from tests.integration.process_app import pid_chain

APP = "tests.integration.process_app"


def _kill_all(proc: Proc, children: list[int]) -> None:
    """Teardown: no process of the test may survive it, whatever happened."""
    proc.stop(signal.SIGKILL)
    for pid in children:
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)


def _workers(address: str, queue: str, *extra: str) -> Proc:
    return Proc(
        [BELUGA, "--address", address, "worker", APP, "--task-queue", queue, *extra],
    )


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


async def _until(condition: Callable[[], bool], what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        await asyncio.sleep(0.05)


async def _step_running(orch: Orchestrator, workflow_id: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while (await orch.progress(workflow_id)).nodes["report_pid"].status != "running":
        assert time.monotonic() < deadline, "the step never ran"
        await asyncio.sleep(0.05)


async def _serving(proc: Proc, count: int) -> list[int]:
    """Wait until `count` children said they poll; return their pids."""
    deadline = time.monotonic() + 90  # a loaded 2-core machine starts them slowly
    while proc.output.count('"worker started"') < count:
        assert proc.popen.poll() is None, proc.output
        assert time.monotonic() < deadline, f"{count} workers never started:\n{proc.output}"
        await asyncio.sleep(0.1)
    return _children(proc.popen.pid)


async def _completed_activities(runtime: LocalRuntime, workflow_id: str) -> int:
    history = await runtime.client.get_workflow_handle(workflow_id).fetch_history()
    completed = EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED
    return sum(1 for event in history.events if event.event_type == completed)


async def test_processes_share_the_queue_and_drain_on_sigterm(
    dev_runtime: LocalRuntime, task_queue: str
) -> None:
    address = dev_runtime.client.service_client.config.target_host
    # One step at a time per process: two steps in flight must be in two processes.
    proc = _workers(address, task_queue, "--processes", "2", "--concurrency", "1")
    children: list[int] = []
    try:
        children = await _serving(proc, 2)
        assert len(children) == 2
        orch = Orchestrator(dev_runtime.client, task_queue)
        runs = [await orch.start(pid_chain, {"sleep": 1.5}) for _ in range(2)]
        results = [await orch.result(*run) for run in runs]
        assert {r["pid"] for r in results} == set(children)

        # Steps in flight when SIGTERM arrives finish within the grace period.
        runs = [await orch.start(pid_chain, {"sleep": 1.0}) for _ in range(2)]
        for run in runs:
            await _step_running(orch, run.workflow_id)
        assert proc.stop(signal.SIGTERM, timeout=30) == 0, proc.output
        assert not [pid for pid in children if _alive(pid)]
    finally:
        _kill_all(proc, children)
    for run in runs:
        assert await _completed_activities(dev_runtime, run.workflow_id) == 1
    assert proc.output.count('"worker stopped"') == 2
    assert '"worker processes stopped"' in proc.output


async def test_a_second_signal_stops_every_process_at_once(
    dev_runtime: LocalRuntime, task_queue: str
) -> None:
    address = dev_runtime.client.service_client.config.target_host
    proc = _workers(address, task_queue, "--processes", "2", "--grace-period", "60")
    children: list[int] = []
    try:
        children = await _serving(proc, 2)
        orch = Orchestrator(dev_runtime.client, task_queue)
        run = await orch.start(pid_chain, {"sleep": 50})
        await _step_running(orch, run.workflow_id)
        started = time.monotonic()
        proc.popen.send_signal(signal.SIGINT)
        proc.wait_for_line('"worker stopping"')
        proc.popen.send_signal(signal.SIGINT)
        assert proc.popen.wait(20) == EXIT_INTERRUPTED, proc.output
        assert time.monotonic() - started < 20  # not the 50 s step, nor the 60 s grace
        await _until(lambda: not [p for p in children if _alive(p)], "the children exited")
    finally:
        _kill_all(proc, children)


async def test_children_stop_when_the_supervisor_is_killed(
    dev_runtime: LocalRuntime, task_queue: str
) -> None:
    address = dev_runtime.client.service_client.config.target_host
    proc = _workers(address, task_queue, "--processes", "2", "--grace-period", "1")
    children: list[int] = []
    try:
        children = await _serving(proc, 2)
        os.kill(proc.popen.pid, signal.SIGKILL)  # no chance to stop anyone
        await _until(lambda: not [pid for pid in children if _alive(pid)], "orphans exited")
    finally:
        _kill_all(proc, children)
    assert proc.output.count('"worker stopped"') == 2


def test_a_child_that_cannot_connect_ends_the_supervisor_with_its_code() -> None:
    address = f"127.0.0.1:{free_port()}"  # nothing listens there
    proc = _workers(address, "nowhere", "--processes", "3")
    try:
        assert proc.popen.wait(60) == EXIT_CONFIGURATION, proc.output
    finally:
        proc.stop(signal.SIGKILL)
    assert proc.output.count("cannot connect to Temporal") >= 1


@pytest.mark.parametrize("processes", ["0", "two"])
def test_bad_process_counts_are_usage_errors(processes: str) -> None:
    proc = Proc([BELUGA, "worker", APP, "--processes", processes])
    try:
        assert proc.popen.wait(30) == EXIT_USAGE
    finally:
        proc.stop(signal.SIGKILL)
    assert "--processes" in proc.output


def test_a_bad_module_fails_once_before_any_child_starts() -> None:
    proc = Proc([BELUGA, "worker", "tests.integration.no_such_module", "--processes", "4"])
    try:
        assert proc.popen.wait(30) == EXIT_USAGE
    finally:
        proc.stop(signal.SIGKILL)
    assert proc.output.count("Error:") == 1, proc.output
