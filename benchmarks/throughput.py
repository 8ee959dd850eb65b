"""Throughput of three-step local chains on the dev server: beluga vs hand-written temporalio.

    .venv/bin/python benchmarks/throughput.py                      # defaults below
    .venv/bin/python benchmarks/throughput.py --topology embedded --processes 2
    .venv/bin/python benchmarks/throughput.py --rounds 6 --seconds 8 --in-flight 32

Variants, all on one dev server started like `LocalRuntime` (latency tuning, eager start):

- `beluga`: `Chain("tp-chain", [one, two, three], local=True)`, started with `Orchestrator`.
- `hand`: the same three steps hand-written in plain temporalio: a `@workflow.defn` calling
  `workflow.execute_local_activity` three times, plain activities, the default converter,
  sandboxed with its module passed through (what a careful temporalio user writes).
- `noop` (context, `--floor`): a hand-written workflow that returns its input at once.

Topologies:

- `workers` (default): this process only starts runs and waits for their results (a
  client without a worker: no eager start); `--processes N` worker processes serve the
  queue: `beluga worker --processes N` for beluga, N plain temporalio worker processes
  for the others.
- `embedded`: `--processes N` processes each host a worker and start their own runs
  with eager start, like `LocalRuntime` and `invoke()`.

Each round runs every variant for `--seconds`, in alternating order (A B, B A, ...),
`--in-flight` runs at a time in all. It prints, per variant, the median runs/s and the
per-round range (the noise of a shared machine), CPU per run of the client, the workers
and the Temporal server (Linux /proc), and the beluga/hand ratios; it exits 1 when
beluga's median is under `--target` runs/s (default 100).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import os
import platform
import statistics
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import temporalio.activity
import temporalio.client
import temporalio.worker
from temporalio import workflow
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

with workflow.unsafe.imports_passed_through():
    from beluga_temporal import Chain, Orchestrator, create_worker, step
    from beluga_temporal.local import start_environment

ROOT = Path(__file__).resolve().parent.parent
STEP_TIMEOUT = timedelta(seconds=60)
INPUT = {"order": 1}

# -- what runs -----------------------------------------------------------------------------


@step
async def one(value: dict[str, int]) -> dict[str, int]:
    return {**value, "one": 1}


@step
async def two(value: dict[str, int]) -> dict[str, int]:
    return {**value, "two": 2}


@step
async def three(value: dict[str, int]) -> dict[str, int]:
    return {**value, "three": 3}


CHAIN = Chain("tp-chain", steps=[one, two, three], local=True)


@temporalio.activity.defn(name="tp_one")
async def hand_one(value: dict[str, int]) -> dict[str, int]:
    return {**value, "one": 1}


@temporalio.activity.defn(name="tp_two")
async def hand_two(value: dict[str, int]) -> dict[str, int]:
    return {**value, "two": 2}


@temporalio.activity.defn(name="tp_three")
async def hand_three(value: dict[str, int]) -> dict[str, int]:
    return {**value, "three": 3}


@workflow.defn(name="tp-hand")
class HandChain:
    """The chain, hand-written: three local activities."""

    @workflow.run
    async def run(self, value: dict[str, int]) -> dict[str, int]:
        for name in ("tp_one", "tp_two", "tp_three"):
            value = await workflow.execute_local_activity(
                name, value, start_to_close_timeout=STEP_TIMEOUT
            )
        return value


@workflow.defn(name="tp-noop")
class Noop:
    """The floor: a workflow that does nothing."""

    @workflow.run
    async def run(self, value: dict[str, int]) -> dict[str, int]:
        return value


HAND_WORKFLOWS = {"hand": "tp-hand", "noop": "tp-noop"}

# -- one process's part ----------------------------------------------------------------------


def hand_worker(client: temporalio.client.Client, queue: str) -> temporalio.worker.Worker:
    """A plain temporalio worker for the hand-written workflows."""
    runner = SandboxedWorkflowRunner(
        restrictions=SandboxRestrictions.default.with_passthrough_modules("benchmarks")
    )
    return temporalio.worker.Worker(
        client,
        task_queue=queue,
        workflows=[HandChain, Noop],
        activities=[hand_one, hand_two, hand_three],
        workflow_runner=runner,
    )


async def connect(variant: str, address: str, queue: str) -> Callable[[bool], Awaitable[Any]]:
    """Connect the variant's client; return `start_and_wait(eager)`."""
    if variant == "beluga":
        orch = await Orchestrator.connect(address, task_queue=queue)

        async def beluga(eager: bool) -> Any:
            return await orch.execute(CHAIN, INPUT, eager=eager)

        beluga.client = orch.client  # type: ignore[attr-defined]
        return beluga
    client = await temporalio.client.Client.connect(address)
    name = HAND_WORKFLOWS[variant]

    async def hand(eager: bool) -> Any:
        return await client.execute_workflow(
            name, INPUT, id=f"{name}-{uuid.uuid4().hex}", task_queue=queue,
            request_eager_start=eager,
        )  # fmt: skip

    hand.client = client  # type: ignore[attr-defined]
    return hand


async def load(run: Callable[[bool], Awaitable[Any]], seconds: float, in_flight: int,
               eager: bool) -> int:  # fmt: skip
    """Keep `in_flight` runs going for `seconds`; return how many completed in that time."""
    deadline = time.monotonic() + seconds
    done = 0

    async def loop() -> None:
        nonlocal done
        while time.monotonic() < deadline:
            await run(eager)
            if time.monotonic() <= deadline:
                done += 1

    await asyncio.gather(*(loop() for _ in range(in_flight)))
    return done


async def child_main(variant: str, role: str, address: str, queue: str) -> None:
    """A benchmark child process: a hand-written worker, or an embedded load process.

    An embedded child answers each `run SECONDS IN_FLIGHT` line on stdin with one JSON
    line: `{"runs": N}`.
    """
    run = await connect(variant, address, queue)
    client = run.client  # type: ignore[attr-defined]
    if variant == "beluga":
        worker = create_worker(client, queue, targets=[CHAIN])
    else:
        worker = hand_worker(client, queue)
    async with worker:
        print(json.dumps({"ready": os.getpid()}), flush=True)
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader()
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
        while line := (await reader.readline()).decode().split():
            if role == "embedded" and line[0] == "run":
                runs = await load(run, float(line[1]), int(line[2]), eager=True)
                print(json.dumps({"runs": runs}), flush=True)


# -- the coordinator ---------------------------------------------------------------------------


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU of processes (Linux /proc), children they reaped included."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += sum(int(f) for f in fields[11:15]) / ticks  # utime stime cutime cstime
    return total


def descendants(pid: int) -> list[int]:
    """`pid` and every process below it."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                parents.setdefault(int(fields[1]), []).append(int(entry.name))
    found, stack = [], [pid]
    while stack:
        current = stack.pop()
        found.append(current)
        stack.extend(parents.get(current, []))
    return found


@dataclasses.dataclass
class Window:
    """What one variant did in one round."""

    rate: float
    client_ms: float
    worker_ms: float
    server_ms: float


class Processes:
    """The worker (or embedded load) processes of one variant."""

    def __init__(self, variant: str, topology: str, count: int, address: str) -> None:
        self.variant = variant
        self.topology = topology
        self.count = count
        self.address = address
        self.queue = f"tp-{variant}-{uuid.uuid4().hex[:8]}"
        self.procs: list[asyncio.subprocess.Process] = []

    def _commands(self) -> list[list[str]]:
        if self.variant == "beluga" and self.topology == "workers":
            beluga = [sys.executable, "-m", "beluga_temporal"]  # `beluga`, from ROOT
            return [[*beluga, "--address", self.address, "worker", "benchmarks.throughput:CHAIN",
                     "--task-queue", self.queue, "--processes", str(self.count),
                     "--grace-period", "1"]]  # fmt: skip
        role = "embedded" if self.topology == "embedded" else "worker"
        child = [sys.executable, "-m", "benchmarks.throughput", "--child", self.variant, role,
                 self.address, self.queue]  # fmt: skip
        return [child] * self.count

    async def start(self) -> None:
        for command in self._commands():
            self.procs.append(await asyncio.create_subprocess_exec(
                *command, cwd=ROOT, stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE, env={**os.environ, "PYTHONUNBUFFERED": "1"},
            ))  # fmt: skip
        if self.variant == "beluga" and self.topology == "workers":
            await asyncio.sleep(0)  # `beluga worker` prints logs, not a ready line
            await self._wait_polling()
            return
        for proc in self.procs:
            assert proc.stdout is not None
            line = await asyncio.wait_for(proc.stdout.readline(), 120)
            if not line:
                raise SystemExit(f"a {self.variant} process died while starting")

    async def _wait_polling(self) -> None:
        # Polling workers pick up a probe run; the supervisor's children all log first.
        run = await connect("beluga", self.address, self.queue)
        await asyncio.wait_for(run(False), 120)

    def pids(self) -> list[int]:
        return [pid for proc in self.procs for pid in descendants(proc.pid)]

    async def embedded_window(self, seconds: float, in_flight: int) -> int:
        per_process = max(1, in_flight // self.count)
        for proc in self.procs:
            assert proc.stdin is not None
            proc.stdin.write(f"run {seconds} {per_process}\n".encode())
        total = 0
        for proc in self.procs:
            assert proc.stdout is not None
            total += json.loads(await proc.stdout.readline())["runs"]
        return total

    async def stop(self) -> None:
        for proc in self.procs:
            if proc.stdin is not None:
                proc.stdin.close()
            with contextlib.suppress(ProcessLookupError):
                proc.terminate()
        for proc in self.procs:
            try:
                await asyncio.wait_for(proc.wait(), 20)
            except TimeoutError:
                proc.kill()
                await proc.wait()


async def window(processes: Processes, server: list[int], args: argparse.Namespace,
                 client: Callable[[bool], Awaitable[Any]] | None) -> Window:  # fmt: skip
    """Run one measurement window of `processes`' variant."""
    pids = processes.pids()
    before = (time.process_time(), cpu_seconds(pids), cpu_seconds(server), time.monotonic())
    if client is None:
        runs = await processes.embedded_window(args.seconds, args.in_flight)
    else:
        runs = await load(client, args.seconds, args.in_flight, eager=False)
    after = (time.process_time(), cpu_seconds(pids), cpu_seconds(server), time.monotonic())
    runs = max(runs, 1)
    ms = [1000 * (b - a) / runs for a, b in zip(before[:3], after[:3], strict=True)]
    return Window(runs / (after[3] - before[3]), ms[0], ms[1], ms[2])


@contextlib.asynccontextmanager
async def started(variants: list[str], args: argparse.Namespace,
                  address: str) -> AsyncIterator[dict[str, Processes]]:  # fmt: skip
    all_processes = {v: Processes(v, args.topology, args.processes, address) for v in variants}
    try:
        for processes in all_processes.values():
            await processes.start()
        yield all_processes
    finally:
        for processes in all_processes.values():
            await processes.stop()


async def measure(args: argparse.Namespace) -> dict[str, list[Window]]:
    variants = ["beluga", "hand", *(["noop"] if args.floor else [])]
    env = await start_environment("dev")
    results: dict[str, list[Window]] = {v: [] for v in variants}
    try:
        address = env.client.service_client.config.target_host
        server = [pid for pid in descendants(os.getpid()) if pid != os.getpid()]
        async with started(variants, args, address) as processes:
            clients = {}
            if args.topology == "workers":
                for v in variants:
                    clients[v] = await connect(v, address, processes[v].queue)
            for v in variants:  # warm-up: pollers, caches, connections
                await window(processes[v], server, _warmup(args), clients.get(v))
            for number in range(args.rounds):
                order = variants if number % 2 == 0 else variants[::-1]
                for v in order:
                    results[v].append(await window(processes[v], server, args, clients.get(v)))
                print(f"round {number + 1}: " + ", ".join(
                    f"{v} {results[v][-1].rate:.1f}/s" for v in variants), flush=True)  # fmt: skip
    finally:
        await env.shutdown()
    return results


def _warmup(args: argparse.Namespace) -> argparse.Namespace:
    return argparse.Namespace(**{**vars(args), "seconds": min(2.0, args.seconds)})


def _median(windows: list[Window], field: str) -> float:
    return statistics.median(getattr(window, field) for window in windows)


def report(results: dict[str, list[Window]], args: argparse.Namespace) -> bool:
    """Print the table and ratios; return whether beluga met the target."""
    print(f"\n{args.topology} topology, {args.processes} process(es), {args.in_flight} runs "
          f"in flight, {args.rounds} rounds x {args.seconds:g} s; {platform.machine()}, "
          f"{os.cpu_count()} cores, load average before/after {args.load_before} / "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}")  # fmt: skip
    print("| variant | runs/s (median) | per-round range | CPU ms/run client | workers | server |")
    print("|---|---|---|---|---|---|")
    for variant, windows in results.items():
        rates = [w.rate for w in windows]
        cpu = [_median(windows, field) for field in ("client_ms", "worker_ms", "server_ms")]
        print(f"| {variant} | {statistics.median(rates):.1f} | {min(rates):.1f}-{max(rates):.1f} "
              f"| {cpu[0]:.2f} | {cpu[1]:.2f} | {cpu[2]:.2f} |")  # fmt: skip
    beluga, hand = results["beluga"], results["hand"]
    ratios = [b.rate / h.rate for b, h in zip(beluga, hand, strict=True)]
    cpu = [
        (b.client_ms + b.worker_ms) / (h.client_ms + h.worker_ms)
        for b, h in zip(beluga, hand, strict=True)
    ]
    print(f"\nbeluga/hand runs/s: median {statistics.median(ratios):.3f} "
          f"(rounds {', '.join(f'{r:.2f}' for r in ratios)})")  # fmt: skip
    print(f"beluga/hand client+worker CPU per run: median {statistics.median(cpu):.3f} "
          f"(rounds {', '.join(f'{r:.2f}' for r in cpu)})")  # fmt: skip
    rate = statistics.median(w.rate for w in beluga)
    met = rate >= args.target
    print(f"target: beluga >= {args.target:g} runs/s: {rate:.1f} -> {'met' if met else 'MISSED'}")
    return met


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--topology", choices=["workers", "embedded"], default="workers")
    parser.add_argument("--processes", type=int, default=2, help="worker processes (2)")
    parser.add_argument("--seconds", type=float, default=5.0, help="seconds per window (5)")
    parser.add_argument("--rounds", type=int, default=4, help="rounds (4)")
    parser.add_argument("--in-flight", type=int, default=32, help="runs in flight, in all (32)")
    parser.add_argument("--target", type=float, default=100.0, help="beluga runs/s to reach")
    parser.add_argument("--floor", action="store_true", help="also measure a no-op workflow")
    return parser.parse_args(argv)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        asyncio.run(child_main(*sys.argv[2:6]))
        return
    args = parse()
    args.load_before = " ".join(f"{x:.1f}" for x in os.getloadavg())
    results = asyncio.run(measure(args))
    sys.exit(0 if report(results, args) else 1)


if __name__ == "__main__":
    # Run the definitions from `benchmarks.throughput`, a module the sandbox can pass
    # through by name (a `__main__` module cannot be), not from this `__main__` copy.
    sys.path.insert(0, str(ROOT))
    from benchmarks.throughput import main as imported_main

    imported_main()
