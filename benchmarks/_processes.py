"""Throughput of three-step chains against the number of `beluga worker` processes.

Each process count gets a fresh task queue served by that many `beluga worker
benchmarks._shapes:three_chain[_local]` processes (the CLI, as users run it), connected to
the benchmark's dev server. This process only starts runs and waits for them.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import signal
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import temporalio.client
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest

from beluga_temporal import Orchestrator
from benchmarks import _harness as h
from benchmarks import _shapes

ROOT = Path(__file__).resolve().parent.parent
READY_TIMEOUT = 60.0
STOP_TIMEOUT = 20.0
WARMUP_SECONDS = 2.0

Point = dict[str, Any]


@contextlib.asynccontextmanager
async def worker_processes(
    client: temporalio.client.Client, target: str, queue: str, count: int
) -> AsyncIterator[list[int]]:
    """Start `count` `beluga worker` processes on `queue`; yield their pids; stop them."""
    env = {
        **os.environ,
        "BELUGA_TEMPORAL_ADDRESS": client.service_client.config.target_host,
        "BELUGA_TEMPORAL_NAMESPACE": client.namespace,
    }
    beluga = str(Path(sys.executable).parent / "beluga")
    command = [beluga, "worker", target, "--task-queue", queue, "--grace-period", "1"]
    with tempfile.TemporaryFile() as log:
        processes = [
            await asyncio.create_subprocess_exec(
                *command, cwd=ROOT, env=env, stdout=log, stderr=log
            )
            for _ in range(count)
        ]
        try:
            await _wait_for_pollers(client, queue, processes, log)
            yield [p.pid for p in processes]
        finally:
            for process in processes:
                if process.returncode is None:
                    process.send_signal(signal.SIGTERM)
            for process in processes:
                try:
                    await asyncio.wait_for(process.wait(), STOP_TIMEOUT)
                except TimeoutError:
                    process.kill()
                    await process.wait()


async def _wait_for_pollers(
    client: temporalio.client.Client,
    queue: str,
    processes: Sequence[asyncio.subprocess.Process],
    log: Any,
) -> None:
    """Poll the task queue until every process polls it (or one died, or time is up)."""
    deadline = time.monotonic() + READY_TIMEOUT
    request = DescribeTaskQueueRequest(
        namespace=client.namespace,
        task_queue=TaskQueue(name=queue),
        task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
    )
    while True:
        dead = [p for p in processes if p.returncode is not None]
        if dead:
            log.seek(0)
            said = log.read().decode(errors="replace")[-3000:]
            raise SystemExit(f"a worker process exited with {dead[0].returncode}:\n{said}")
        response = await client.workflow_service.describe_task_queue(request)
        if len({poller.identity for poller in response.pollers}) >= len(processes):
            return
        if time.monotonic() > deadline:
            raise SystemExit(f"{len(processes)} worker processes did not all poll {queue}")
        await asyncio.sleep(0.2)


def _cpu_seconds(pids: Sequence[int]) -> float:
    """User + system CPU of the processes (Linux /proc), plus this process's own."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = time.process_time()
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    return total


@dataclasses.dataclass
class Window:
    """What a throughput window measured."""

    rate: float
    """Runs completed in the window per second."""
    cpu_ms_per_run: float
    """Client + worker-process CPU in the window per completed run."""


async def _window(
    client: temporalio.client.Client,
    queue: str,
    pids: Sequence[int],
    *,
    local: bool,
    warmup: float,
    seconds: float,
    concurrency: int,
) -> Window:
    """Keep `concurrency` runs in flight; count the runs that finish inside the window.

    The first `warmup` seconds are not counted (pollers and caches ramp up), then the
    window lasts `seconds`; runs still in flight at its end are awaited, not counted.
    """
    orchestrator = Orchestrator(client, queue)
    target = _shapes.three_chain_local if local else _shapes.three_chain
    loop = asyncio.get_running_loop()
    start = loop.time() + warmup
    end = start + seconds
    finished: list[float] = []

    async def runner() -> None:
        while loop.time() < end:
            await orchestrator.execute(target, 0)
            finished.append(loop.time())

    async def cpu_at(moment: float) -> float:
        await asyncio.sleep(max(0.0, moment - loop.time()))
        return _cpu_seconds(pids)

    runners = [asyncio.create_task(runner()) for _ in range(concurrency)]
    cpu_start = await cpu_at(start)
    cpu_end = await cpu_at(end)
    await asyncio.gather(*runners)
    count = sum(start <= t < end for t in finished)
    return Window(count / seconds, (cpu_end - cpu_start) / max(count, 1) * 1000)


async def sweep(
    client: temporalio.client.Client,
    counts: Sequence[int],
    *,
    seconds: float,
    concurrency: int,
    rounds: int,
) -> list[Point]:
    """Runs per second and client+worker CPU per run, for each process count and mode.

    The grid is measured `rounds` times, every other round in reverse order, so a burst
    of load from other processes does not fall on one point only; the median of the
    rounds is the figure, their range the noise.
    """
    grid = [(count, local) for count in counts for local in (False, True)]
    windows: dict[tuple[int, bool], list[Window]] = {cell: [] for cell in grid}
    async with contextlib.AsyncExitStack() as stack:
        # Every cell's processes stay up for the whole sweep (idle ones only long-poll):
        # starting them once costs less than restarting them every round.
        cells = {}
        for count, local in grid:
            name = "three_chain_local" if local else "three_chain"
            queue = f"bench-procs-{uuid.uuid4().hex[:8]}"
            target = f"benchmarks._shapes:{name}"
            pids = await stack.enter_async_context(worker_processes(client, target, queue, count))
            cells[count, local] = (queue, pids)
        for round_no in range(rounds):
            for count, local in grid if round_no % 2 == 0 else grid[::-1]:
                queue, pids = cells[count, local]
                window = await _window(client, queue, pids, local=local, warmup=WARMUP_SECONDS,
                                       seconds=seconds, concurrency=concurrency)  # fmt: skip
                windows[count, local].append(window)
                print(f"  round {round_no + 1}: {count} process(es), "
                      f"{_shapes.mode_name(local):>6}: {window.rate:6.1f} runs/s, "
                      f"{window.cpu_ms_per_run:.1f} ms CPU per run", flush=True)  # fmt: skip
    points = []
    for (count, local), measured in windows.items():
        rates = [w.rate for w in measured]
        cpu = statistics.median(w.cpu_ms_per_run for w in measured)
        points.append({"processes": count, "mode": _shapes.mode_name(local),
                       "rate": statistics.median(rates), "min": min(rates), "max": max(rates),
                       "cpu_ms_per_run": cpu})  # fmt: skip
    return points


def table(points: Sequence[Point]) -> str:
    rows = [[str(p["processes"]), p["mode"], f"{p['rate']:.1f}",
             f"{p['min']:.1f}-{p['max']:.1f}", f"{p['cpu_ms_per_run']:.1f} ms"]
            for p in points]  # fmt: skip
    headers = ["worker processes", "mode", "runs/s (median)", "range", "client+worker CPU/run"]
    return h.table(headers, rows)
