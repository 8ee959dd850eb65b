"""Scaling curves: latency against fan-out width and chain length, throughput against
worker processes; drawn as PNG charts next to this file.

- **Fan-out**: source -> W parallel no-op nodes -> sink (`max_workers=W`), W from 1 to
  1,000; the latency of one run, remote and local mode.
- **Chain length**: a chain of L no-op steps, L from 10 to `--max-chain-length` (1,000
  by default, for time; 10,000 works: long chains continue as new, and a 10,000-step
  remote chain takes ~4 minutes here); the latency of one run, remote and local mode.
- **Worker processes**: 1, 2, 4 `beluga worker` processes hosting a three-step chain;
  runs per second with `--concurrency` runs in flight, started from this process.

Local-mode runs started here are started eagerly (this process hosts their worker);
remote-mode runs and the worker-process sweep start normally. All on one tuned
embedded dev server with eager workflow start enabled.

Target (exit 1 when missed): the best worker-process count reaches 100 three-step chain
runs/s in local mode (issue 13).

    .venv/bin/python benchmarks/scaling.py                     # ~3 min
    .venv/bin/python benchmarks/scaling.py --skip fanout --skip processes --max-chain-length 10000

Results go to `scaling.json` and the `scaling_*.png` charts in `--out` (this folder); a
sweep left out with `--skip` keeps its earlier results there.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import statistics
import sys
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import temporalio.client

from beluga_temporal import Chain, Graph, Orchestrator
from benchmarks import _harness as h
from benchmarks import _peers, _processes, _shapes

HERE = Path(__file__).resolve().parent
WIDTHS = [1, 3, 10, 30, 100, 300, 1000]
LENGTHS = [10, 30, 100, 300, 1000, 3000, 10000]
PROCESSES = [1, 2, 4]
MODES = (False, True)  # remote, local
THROUGHPUT_TARGET = 100.0
WARM_UP_BELOW = 100
"""Sizes up to this get an unmeasured first run per mode (bigger runs dwarf the set-up)."""

Point = dict[str, Any]


async def run_once(
    client: temporalio.client.Client,
    queue: str,
    target: Chain | Graph,
    arg: Any,
    *,
    local: bool,
    workflow_id: str | None = None,
) -> float:
    """One run through `Orchestrator`, as users start them; seconds start to result."""
    started = time.perf_counter()
    handle = await Orchestrator(client, queue).start_handle(
        target,
        arg,
        eager=local,
        workflow_id=workflow_id or f"{target.name}-{uuid.uuid4().hex}",
    )
    await handle.result()
    return time.perf_counter() - started


async def sweep(
    client: temporalio.client.Client,
    queue: str,
    what: str,
    targets: dict[tuple[int, bool], Chain | Graph],
    arg: Any,
    args: argparse.Namespace,
) -> list[Point]:
    """Latency of every (size, mode), modes alternating within a size.

    Sizes whose runs are short get a warm-up run (the first run of a workflow type sets
    its class up) and up to `--repeats` runs; a mode stops repeating once its runs of the
    point took `--point-seconds`, so the longest points are measured once. A run that
    fails is a missed target; its mode is not measured at larger sizes.
    """
    points = []
    failed: set[bool] = set()
    for size in sorted({size for size, _ in targets}):
        times: dict[bool, list[float]] = {mode: [] for mode in MODES}
        last_id: dict[bool, str] = {}
        warm_up = [-1] if size <= WARM_UP_BELOW else []  # round -1: not recorded
        for repeat in [*warm_up, *range(args.repeats)]:
            for mode in MODES if repeat % 2 == 0 else MODES[::-1]:
                if mode in failed or sum(times[mode]) > args.point_seconds:
                    continue
                target = targets[size, mode]
                started = time.perf_counter()
                workflow_id = f"{target.name}-{uuid.uuid4().hex}"
                try:
                    seconds = await run_once(
                        client, queue, target, arg, local=mode, workflow_id=workflow_id
                    )
                except temporalio.client.WorkflowFailureError as error:
                    failed.add(mode)
                    points.append(await _failure(client, error, workflow_id, size, mode, started))
                    continue
                if repeat >= 0:
                    times[mode].append(seconds)
                    last_id[mode] = workflow_id
        for mode in MODES:
            if times[mode]:
                points.append(await _point(client, size, mode, times[mode], last_id[mode]))
        print(f"  {what} {size:>6}: " + ", ".join(_summary(p) for p in points if p["size"] == size),
              flush=True)  # fmt: skip
    return points


async def _point(
    client: temporalio.client.Client, size: int, mode: bool, times: list[float], last_id: str
) -> Point:
    p50 = statistics.median(times)
    history = await h.history_stats(client, last_id)
    return {"size": size, "mode": _shapes.mode_name(mode), "p50": p50, "min": min(times),
            "max": max(times), "runs": len(times), "per_node_ms": p50 / size * 1000,
            "workflow_tasks": history.workflow_tasks, "events": history.events}  # fmt: skip


async def _failure(
    client: temporalio.client.Client,
    error: temporalio.client.WorkflowFailureError,
    workflow_id: str,
    size: int,
    mode: bool,
    started: float,
) -> Point:
    """Record a failed run: why (the cause's message), after how long and how many events."""
    seconds = time.perf_counter() - started
    reason = str(error.cause or error)
    events = None
    with contextlib.suppress(Exception):  # the figure is a detail; the failure is the point
        events = (await h.history_stats(client, workflow_id)).events
    name = _shapes.mode_name(mode)
    h.MISSED.append(f"size {size}, {name} mode: the run failed after {seconds:.0f} s: {reason}")
    return {"size": size, "mode": name, "failed": reason, "after": seconds, "events": events}


def _summary(point: Point) -> str:
    if "failed" in point:
        return f"{point['mode']} FAILED after {point['after']:.0f} s ({point['failed']})"
    return f"{point['mode']} {h.ms(point['p50']):>11} ({point['runs']} runs)"


def table_of(points: Sequence[Point], what: str) -> str:
    by = {(p["size"], p["mode"]): p for p in points}

    def cells(size: int, mode: str) -> list[str]:
        point = by.get((size, mode))
        if point is None:
            return ["-", "", ""]
        if "failed" in point:
            return [f"failed after {point['after']:.0f} s", "", f"{point['events'] or '?'} events"]
        return [h.ms(point["p50"]), f"{point['per_node_ms']:.2f} ms",
                f"{point['workflow_tasks']} / {point['events']}"]  # fmt: skip

    rows = []
    for size in sorted({p["size"] for p in points}):
        remote, local = by.get((size, "remote"), {}), by.get((size, "local"), {})
        ratio = f"{remote['p50'] / local['p50']:.2f}x" if "p50" in remote and "p50" in local else ""
        rows.append([str(size), *cells(size, "remote"), *cells(size, "local"), ratio])
    headers = [what, "remote p50", "per node", "WFTs / events", "local p50", "per node",
               "WFTs / events", "remote/local"]  # fmt: skip
    return h.table(headers, rows)


def arguments() -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Scaling curves (fan-out, chain length, processes).")
    p.add_argument("--widths", type=int, nargs="+", default=WIDTHS)
    p.add_argument("--lengths", type=int, nargs="+", default=LENGTHS)
    p.add_argument(
        "--max-chain-length",
        type=int,
        default=1000,
        help="longest chain measured (1000, to keep the default run near 3 minutes; "
        "a 10000-step remote chain alone takes ~4 minutes)",
    )
    p.add_argument("--processes", type=int, nargs="+", default=PROCESSES)
    p.add_argument("--repeats", type=int, default=5, help="most runs per point and mode (5)")
    p.add_argument(
        "--point-seconds",
        type=float,
        default=2.0,
        help="a mode stops repeating a point once its runs took this long (2)",
    )
    p.add_argument(
        "--throughput-seconds",
        type=float,
        default=5.0,
        help="measuring window per process count and mode, after 2 s of warm-up (5)",
    )
    p.add_argument(
        "--throughput-rounds",
        type=int,
        default=2,
        help="times the process grid is measured, alternating order (2)",
    )
    p.add_argument(
        "--concurrency", type=int, default=32, help="runs in flight, throughput sweep (32)"
    )
    p.add_argument("--out", type=Path, default=HERE, help="where the charts go")
    p.add_argument(
        "--redraw", action="store_true", help="measure nothing: redraw the charts from the data"
    )
    p.add_argument("--skip", choices=["fanout", "chain", "processes"], action="append",
                   default=[], help="leave a sweep out (repeatable)")  # fmt: skip
    return p.parse_args()


async def measure(args: argparse.Namespace, results: dict[str, Any]) -> None:
    """Run the sweeps not skipped; store each one's points in `results`."""
    lengths = [n for n in args.lengths if n <= args.max_chain_length]
    fanouts, chains = {}, {}
    if "fanout" not in args.skip:
        fanouts = {(w, m): _shapes.fanout_graph(w, local=m) for w in args.widths for m in MODES}
    if "chain" not in args.skip:
        chains = {(n, m): _shapes.long_chain(n, local=m) for n in lengths for m in MODES}
    command = " ".join(["scaling.py", *sys.argv[1:]])
    async with contextlib.AsyncExitStack() as stack:
        env = await stack.enter_async_context(h.server("dev"))
        queue = await stack.enter_async_context(
            h.running_worker(env.client, targets=[*fanouts.values(), *chains.values()],
                             activities=_shapes.STEPS)
        )  # fmt: skip
        if fanouts:
            print("\nFan-out width (latency of one run):")
            measured = h.machine()
            points = await sweep(env.client, queue, "width", fanouts, {}, args)
            results["fanout"] = {"measured": measured, "load_after": h.load(), "points": points,
                                 "command": command}  # fmt: skip
            print(table_of(points, "width"))
        if chains:
            print("\nChain length (latency of one run):")
            measured = h.machine()
            points = await sweep(env.client, queue, "length", chains, 0, args)
            results["chain"] = {"measured": measured, "load_after": h.load(), "points": points,
                                "command": command,
                                "max_chain_length": args.max_chain_length}  # fmt: skip
            print(table_of(points, "length"))
        if "processes" not in args.skip:
            print(f"\nWorker processes (three-step chains, {args.concurrency} in flight, "
                  f"runs finished in a {args.throughput_seconds:g} s window, "
                  f"{args.throughput_rounds} rounds):")  # fmt: skip
            measured = h.machine()
            points = await _processes.sweep(
                env.client, args.processes, seconds=args.throughput_seconds,
                concurrency=args.concurrency, rounds=args.throughput_rounds,
            )  # fmt: skip
            results["processes"] = {"measured": measured, "load_after": h.load(), "points": points,
                                    "command": command,
                                    "seconds": args.throughput_seconds,
                                    "rounds": args.throughput_rounds,
                                    "concurrency": args.concurrency}  # fmt: skip
            print(_processes.table(points))
            best = max(p["rate"] for p in points if p["mode"] == "local")
            verdict = h.check("three-step chains/s, local mode, best process count", best,
                              THROUGHPUT_TARGET, at_least=True, unit="runs/s")  # fmt: skip
            print(f"best local-mode rate: {best:.1f} runs/s, target {verdict}")


async def main() -> None:
    args = arguments()
    _peers.require_peers("matplotlib")
    from benchmarks import _charts  # matplotlib, from the bench extra

    print(f"scaling · {h.machine()}")
    started = time.perf_counter()
    data = args.out / "scaling.json"
    results: dict[str, Any] = json.loads(data.read_text()) if data.exists() else {}
    if not args.redraw:
        await measure(args, results)
        data.write_text(json.dumps(results, indent=1) + "\n")
    for path in _charts.draw(results, args.out):
        print(f"wrote {path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}")
    print(f"\n({time.perf_counter() - started:.0f} s including server start; "
          f"load average now {h.load()})")  # fmt: skip


if __name__ == "__main__":
    # Run the definitions from `benchmarks.scaling`, a module the sandbox can pass through
    # by name (a `__main__` module cannot be), not from this `__main__` copy.
    from benchmarks.scaling import main as imported_main

    asyncio.run(imported_main())
    raise SystemExit(h.exit_status())
