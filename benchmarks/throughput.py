"""Throughput of three-step local chains on the dev server: beluga vs hand-written temporalio.

    .venv/bin/python benchmarks/throughput.py                  # embedded, 2 processes
    .venv/bin/python benchmarks/throughput.py --topology workers --processes 2
    .venv/bin/python benchmarks/throughput.py --rounds 6 --seconds 8 --floor
    .venv/bin/python benchmarks/throughput.py --server-arg=--log-level --server-arg=error

Variants, on one dev server started like `LocalRuntime` (latency tuning, eager start,
visibility batching; `--server-arg` adds `temporal server start-dev` arguments, last):

- `beluga`: `Chain("tp-chain", [one, two, three], local=True)` started by `Orchestrator`.
- `hand`: the same three steps in plain temporalio, as its documentation writes them: a
  `@workflow.defn` calling `workflow.execute_local_activity` three times, plain
  activities, the default converter, temporalio's sandbox (its module passed through).
- `hand-unsandboxed`: the same workflow declared with `sandboxed=False` (the floor for
  this shape in Python: no framework, no sandbox).
- `noop` (with `--floor`): a workflow that returns its input at once.

Topologies:

- `embedded` (default): `--processes N` processes each host a worker and start their own
  runs with eager start, as `LocalRuntime`, `invoke()` and `beluga run --local` do. A
  run then costs the server no task-queue round trip. Client and worker share a process,
  so their CPU is reported together.
- `workers`: this process starts runs and waits for results (a client without a
  worker: no eager start); `--processes N` worker processes serve the queue (`beluga
  worker --processes N` for beluga, N plain temporalio workers for the others).

Each round runs every variant for `--seconds` (order alternating round by round),
`--in-flight` runs at a time in all. Printed: per variant the median runs/s and the
per-round range (the noise of a shared machine); CPU per run of the client, the workers
and the Temporal server (Linux /proc); the ceiling those CPU costs allow on this
machine's cores; the beluga/hand ratios. Exit status 1 when beluga's median is under
`--target` runs/s (default 100).
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
Run = Callable[[bool], Awaitable[Any]]
"""Start one run and wait for its result; the argument asks for eager start."""

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


async def _three_local_activities(value: dict[str, int]) -> dict[str, int]:
    for name in ("tp_one", "tp_two", "tp_three"):
        value = await workflow.execute_local_activity(
            name, value, start_to_close_timeout=STEP_TIMEOUT
        )
    return value


@workflow.defn(name="tp-hand")
class HandChain:
    """The chain, hand-written: three local activities, in temporalio's sandbox."""

    @workflow.run
    async def run(self, value: dict[str, int]) -> dict[str, int]:
        return await _three_local_activities(value)


@workflow.defn(name="tp-hand-unsandboxed", sandboxed=False)
class UnsandboxedHandChain:
    """The same, without the sandbox."""

    @workflow.run
    async def run(self, value: dict[str, int]) -> dict[str, int]:
        return await _three_local_activities(value)


@workflow.defn(name="tp-noop")
class Noop:
    """The floor: a workflow that does nothing."""

    @workflow.run
    async def run(self, value: dict[str, int]) -> dict[str, int]:
        return value


HAND_WORKFLOWS = {"hand": "tp-hand", "hand-unsandboxed": "tp-hand-unsandboxed", "noop": "tp-noop"}

# -- one process's part ----------------------------------------------------------------------


def hand_worker(client: temporalio.client.Client, queue: str) -> temporalio.worker.Worker:
    """A plain temporalio worker for the hand-written workflows."""
    runner = SandboxedWorkflowRunner(
        restrictions=SandboxRestrictions.default.with_passthrough_modules("benchmarks")
    )
    return temporalio.worker.Worker(
        client,
        task_queue=queue,
        workflows=[HandChain, UnsandboxedHandChain, Noop],
        activities=[hand_one, hand_two, hand_three],
        workflow_runner=runner,
    )


async def connect(variant: str, address: str, queue: str) -> tuple[temporalio.client.Client, Run]:
    """Connect the variant's client; return it and its `Run`."""
    if variant == "beluga":
        orch = await Orchestrator.connect(address, task_queue=queue)

        async def beluga(eager: bool) -> Any:
            return await orch.execute(CHAIN, INPUT, eager=eager)

        return orch.client, beluga
    client = await temporalio.client.Client.connect(address)
    name = HAND_WORKFLOWS[variant]

    async def hand(eager: bool) -> Any:
        return await client.execute_workflow(
            name, INPUT, id=f"{name}-{uuid.uuid4().hex}", task_queue=queue,
            request_eager_start=eager,
        )  # fmt: skip

    return client, hand


async def load(run: Run, seconds: float, in_flight: int, eager: bool) -> int:
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
    """A benchmark process: a worker (`workers`), or a worker that starts runs (`embedded`).

    It prints `{"ready": PID}` once polling; an embedded one then answers each
    `run SECONDS IN_FLIGHT` line on stdin with `{"runs": N}`. End of stdin stops it.
    """
    client, run = await connect(variant, address, queue)
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
    """User + system CPU of processes so far (Linux /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    return total


def descendants(pid: int) -> list[int]:
    """`pid` and every process below it."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, stack = [], [pid]
    while stack:
        current = stack.pop()
        found.append(current)
        stack.extend(children.get(current, []))
    return found


@dataclasses.dataclass
class Window:
    """What one variant did in one measurement window."""

    rate: float
    client_ms: float
    worker_ms: float
    server_ms: float
    runs: int = 0

    @property
    def total_ms(self) -> float:
        return self.client_ms + self.worker_ms + self.server_ms


class Processes:
    """The worker (or embedded) processes of one variant."""

    def __init__(self, variant: str, topology: str, count: int, address: str) -> None:
        self.variant = variant
        self.topology = topology
        self.count = count
        self.address = address
        self.queue = f"tp-{variant}-{uuid.uuid4().hex[:8]}"
        self.procs: list[asyncio.subprocess.Process] = []

    @property
    def _beluga_workers(self) -> bool:
        return self.variant == "beluga" and self.topology == "workers"

    def _commands(self) -> list[list[str]]:
        if self._beluga_workers:  # `beluga worker --processes N`, run from ROOT
            return [[sys.executable, "-m", "beluga_temporal", "--address", self.address,
                     "worker", "benchmarks.throughput:CHAIN", "--task-queue", self.queue,
                     "--processes", str(self.count), "--grace-period", "1"]]  # fmt: skip
        child = [sys.executable, "-m", "benchmarks.throughput", "--child", self.variant,
                 self.topology, self.address, self.queue]  # fmt: skip
        return [child] * self.count

    async def start(self) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        for command in self._commands():
            self.procs.append(await asyncio.create_subprocess_exec(
                *command, cwd=ROOT, env=env, stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
            ))  # fmt: skip
        if self._beluga_workers:
            # `beluga worker` prints logs, not a ready line: a first run proves it polls.
            _, run = await connect("beluga", self.address, self.queue)
            await asyncio.wait_for(run(False), 120)
            return
        for proc in self.procs:
            assert proc.stdout is not None
            if not await asyncio.wait_for(proc.stdout.readline(), 120):
                raise SystemExit(f"a {self.variant} process died while starting")

    def pids(self) -> list[int]:
        return [pid for proc in self.procs for pid in descendants(proc.pid)]

    async def embedded_window(self, seconds: float, in_flight: int) -> int:
        for proc in self.procs:
            assert proc.stdin is not None
            proc.stdin.write(f"run {seconds} {max(1, in_flight // self.count)}\n".encode())
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


async def window(
    processes: Processes, server: list[int], seconds: float, in_flight: int, run: Run | None
) -> Window:
    """Run one measurement window of `processes`' variant."""
    pids = processes.pids()
    before = (time.process_time(), cpu_seconds(pids), cpu_seconds(server), time.monotonic())
    if run is None:
        runs = await processes.embedded_window(seconds, in_flight)
    else:
        runs = await load(run, seconds, in_flight, eager=False)
    after = (time.process_time(), cpu_seconds(pids), cpu_seconds(server), time.monotonic())
    runs = max(runs, 1)
    spent = [1000 * (b - a) / runs for a, b in zip(before[:3], after[:3], strict=True)]
    client, worker, server_cpu = spent
    return Window(runs / (after[3] - before[3]), client, worker, server_cpu, runs)


@contextlib.asynccontextmanager
async def started(
    variants: list[str], args: argparse.Namespace, address: str
) -> AsyncIterator[dict[str, Processes]]:
    processes = {v: Processes(v, args.topology, args.processes, address) for v in variants}
    try:
        for group in processes.values():
            await group.start()
        yield processes
    finally:
        for group in processes.values():
            await group.stop()


async def measure(args: argparse.Namespace, variants: list[str]) -> dict[str, list[Window]]:
    """Start the server and every variant's processes; run the rounds."""
    env = await start_environment("dev", server_args=args.server_arg)
    results: dict[str, list[Window]] = {v: [] for v in variants}
    try:
        address = env.client.service_client.config.target_host
        server = [pid for pid in descendants(os.getpid()) if pid != os.getpid()]
        async with started(variants, args, address) as processes:
            runs: dict[str, Run | None] = dict.fromkeys(variants)
            if args.topology == "workers":
                for v in variants:
                    runs[v] = (await connect(v, address, processes[v].queue))[1]
            for v in variants:  # warm-up: pollers, caches, connections
                await window(processes[v], server, 2.0, args.in_flight, runs[v])
            for number in range(args.rounds):
                order = variants if number % 2 == 0 else variants[::-1]
                for v in order:
                    measured = await window(
                        processes[v], server, args.seconds, args.in_flight, runs[v]
                    )
                    results[v].append(measured)
                rates = ", ".join(f"{v} {results[v][-1].rate:.1f}/s" for v in variants)
                print(f"round {number + 1}: {rates}", flush=True)
    finally:
        await env.shutdown()
    return results


def _median(windows: list[Window], field: str) -> float:
    return statistics.median(getattr(window, field) for window in windows)


def _ratios(results: dict[str, list[Window]], base: str, field: str) -> str:
    pairs = zip(results["beluga"], results[base], strict=True)
    ratios = [getattr(b, field) / getattr(h, field) for b, h in pairs]
    rounds = ", ".join(f"{r:.2f}" for r in ratios)
    return f"{statistics.median(ratios):.3f} (rounds {rounds})"


def report(results: dict[str, list[Window]], args: argparse.Namespace) -> bool:
    """Print the tables; return whether beluga met the target."""
    cores = os.cpu_count() or 1
    embedded = args.topology == "embedded"
    print(
        f"\n{args.topology} topology, {args.processes} process(es), {args.in_flight} runs in "
        f"flight, {args.rounds} rounds x {args.seconds:g} s; {platform.machine()}, {cores} "
        f"cores, Python {platform.python_version()}; load average before {args.load_before}, "
        f"after {' '.join(f'{x:.1f}' for x in os.getloadavg())}"
    )
    if args.server_arg:
        print(f"extra dev server arguments: {' '.join(args.server_arg)}")
    client = "client (in worker)" if embedded else "client"
    print(f"\n| variant | runs/s (median) | per-round range | CPU ms/run: {client} | "
          "worker processes | Temporal server | ceiling on these cores |")  # fmt: skip
    print("|---|---|---|---|---|---|---|")
    for variant, windows in results.items():
        rates = [w.rate for w in windows]
        ceiling = 1000 * cores / _median(windows, "total_ms")
        print(f"| {variant} | {statistics.median(rates):.1f} | {min(rates):.1f}-{max(rates):.1f} "
              f"| {_median(windows, 'client_ms'):.2f} | {_median(windows, 'worker_ms'):.2f} "
              f"| {_median(windows, 'server_ms'):.2f} | {ceiling:.0f} runs/s |")  # fmt: skip
    print("\n(ceiling: runs/s if the client, workers and server had every core to themselves)")
    for base in [v for v in results if v.startswith("hand")]:
        print(f"beluga/{base} runs/s: {_ratios(results, base, 'rate')}")
        print(f"beluga/{base} CPU per run, client+worker: {_ratios_cpu(results, base)}")
    rate = _median(results["beluga"], "rate")
    met = rate >= args.target
    verdict = "met" if met else "MISSED"
    print(f"target: beluga >= {args.target:g} runs/s: {rate:.1f} runs/s -> {verdict}")
    return met


def _ratios_cpu(results: dict[str, list[Window]], base: str) -> str:
    pairs = zip(results["beluga"], results[base], strict=True)
    ratios = [(b.client_ms + b.worker_ms) / (h.client_ms + h.worker_ms) for b, h in pairs]
    rounds = ", ".join(f"{r:.2f}" for r in ratios)
    return f"{statistics.median(ratios):.3f} (rounds {rounds})"


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--topology", choices=["embedded", "workers"], default="embedded")
    parser.add_argument("--processes", type=int, default=2, help="processes per variant (2)")
    parser.add_argument("--seconds", type=float, default=5.0, help="seconds per window (5)")
    parser.add_argument("--rounds", type=int, default=4, help="rounds (4)")
    parser.add_argument("--in-flight", type=int, default=32, help="runs in flight, in all (32)")
    parser.add_argument("--target", type=float, default=100.0, help="beluga runs/s (100)")
    parser.add_argument("--floor", action="store_true", help="also run a no-op workflow")
    parser.add_argument(
        "--only-hand", action="store_true", help="compare with `hand` only, not unsandboxed"
    )
    parser.add_argument(
        "--server-arg",
        action="append",
        default=[],
        metavar="ARG",
        help="an extra `temporal server start-dev` argument, after the embedded server's own "
        "(repeatable: `--server-arg=--log-level --server-arg=error`)",
    )
    return parser.parse_args(argv)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        asyncio.run(child_main(*sys.argv[2:6]))
        return
    args = parse()
    args.load_before = " ".join(f"{x:.1f}" for x in os.getloadavg())
    variants = ["beluga", "hand"]
    if not args.only_hand:
        variants.append("hand-unsandboxed")
    if args.floor:
        variants.append("noop")
    results = asyncio.run(measure(args, variants))
    code = 0 if report(results, args) else 1
    # Without interpreter teardown, which Temporal's Core threads can abort
    # (temporalio/sdk-python issue 300) and so change the exit status.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    # Run the definitions from `benchmarks.throughput`, a module the sandbox can pass
    # through by name (a `__main__` module cannot be), not from this `__main__` copy.
    sys.path.insert(0, str(ROOT))
    from benchmarks.throughput import main as imported_main

    imported_main()
