"""Shared benchmark machinery: servers, workers, timing, percentiles, history, tables.

Both `chain_overhead.py` and `graph_overhead.py` compare a generated workflow with a
hand-written temporalio workflow on the same server, in the same worker, in the same run.
Everything that is not the workflow under test (client, converter, worker, sandbox,
activities, activity options) is shared, so a difference is the workflow's own cost.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import datetime
import math
import os
import platform
import statistics
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from typing import Any, Literal

import temporalio.client
import temporalio.worker
from temporalio.testing import WorkflowEnvironment
from temporalio.worker.workflow_sandbox import (
    SandboxedWorkflowRunner,
    SandboxRestrictions,
)

from beluga_temporal import BelugaPlugin, create_worker
from beluga_temporal.declare import Target
from beluga_temporal.local import dev_server_path, start_environment

ServerKind = Literal["dev", "dev-untuned", "time-skipping"]
SERVER_KINDS: tuple[ServerKind, ...] = ("dev", "dev-untuned", "time-skipping")
SERVER_LABELS: dict[ServerKind, str] = {
    "dev": "dev server, tuned (transferProcessorMaxPollRPS=10000, eager start enabled)",
    "dev-untuned": "dev server, untuned (stock: transferProcessorMaxPollRPS=20)",
    "time-skipping": "time-skipping test server",
}
TARGET_RATIO = 1.05
HISTORY_SAMPLES = 10
"""Sequential runs per variant whose histories are analysed."""
GENERATED = "generated"
HAND_WRITTEN = "hand-written"


# -- servers and workers -----------------------------------------------------------------


@contextlib.asynccontextmanager
async def server(kind: ServerKind) -> AsyncIterator[WorkflowEnvironment]:
    """Start an embedded server of `kind` from the pip-installed binaries."""
    with _server_output_silenced():
        if kind == "dev-untuned":
            # `start_environment("dev")` minus its flags (latency tuning, eager start, batching).
            env = await WorkflowEnvironment.start_local(
                plugins=[BelugaPlugin()], dev_server_existing_path=dev_server_path()
            )
        else:
            env = await start_environment(kind)
    try:
        if env.supports_time_skipping:
            # Nothing here waits on a timer; with auto time skipping on, the test server
            # skips ahead while activities of other runs are in flight and times them out
            # under concurrent load. Real time keeps the comparison about the workflows.
            with env.auto_time_skipping_disabled():
                yield env
        else:
            yield env
    finally:
        await env.shutdown()


@contextlib.contextmanager
def _server_output_silenced() -> Iterator[None]:
    """Give server processes started in this block /dev/null as stdout (their banner)."""
    sys.stdout.flush()
    saved = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)


@contextlib.asynccontextmanager
async def running_worker(
    client: temporalio.client.Client,
    *,
    targets: Sequence[Target | type],
    activities: Sequence[Callable[..., Any]],
    passthrough: Sequence[str] = ("benchmarks",),
) -> AsyncIterator[str]:
    """Run one worker hosting every workflow under test; yield its task queue.

    The benchmark script's own module is passed through the sandbox like beluga's
    generated-workflow module is, so neither workflow pays a per-run module re-import:
    the comparison is workflow code against workflow code.
    """
    queue = f"bench-{uuid.uuid4().hex[:8]}"
    runner = SandboxedWorkflowRunner(
        restrictions=SandboxRestrictions.default.with_passthrough_modules(*passthrough)
    )
    worker = create_worker(
        client, queue, targets=targets, activities=activities, workflow_runner=runner
    )
    async with worker:
        yield queue


# -- one measurement -----------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Variant:
    """One workflow under test: its type name and the input every run gets."""

    label: str
    workflow: str
    arg: Any


async def execute(
    client: temporalio.client.Client, queue: str, variant: Variant
) -> tuple[float, str, Any]:
    """Run `variant` once (start + wait for result); return seconds, workflow id, result."""
    workflow_id = f"{variant.label}-{uuid.uuid4().hex[:12]}"
    started = time.perf_counter()
    result = await client.execute_workflow(
        variant.workflow, variant.arg, id=workflow_id, task_queue=queue
    )
    return time.perf_counter() - started, workflow_id, result


@dataclasses.dataclass
class Samples:
    """Latencies in seconds, with the percentiles the tables print."""

    values: list[float] = dataclasses.field(default_factory=list)

    def percentile(self, q: float) -> float:
        """Nearest-rank percentile (q in 0..100)."""
        ordered = sorted(self.values)
        rank = max(1, math.ceil(q / 100 * len(ordered)))
        return ordered[rank - 1]

    @property
    def p50(self) -> float:
        return statistics.median(self.values)

    @property
    def p95(self) -> float:
        return self.percentile(95)

    @property
    def mean(self) -> float:
        return statistics.fmean(self.values)


async def latency(
    client: temporalio.client.Client,
    queue: str,
    variants: Sequence[Variant],
    *,
    runs: int,
    warmup: int,
) -> dict[str, Samples]:
    """Sequential end-to-end latency, variants interleaved run by run.

    The order within each round alternates (A B, B A, ...) so drift and any
    "second in a pair" effect fall on every variant alike.
    """
    for _ in range(warmup):
        for variant in variants:
            await execute(client, queue, variant)
    samples = {v.label: Samples() for v in variants}
    for round_no in range(runs):
        order = variants if round_no % 2 == 0 else list(reversed(variants))
        for variant in order:
            seconds, _, _ = await execute(client, queue, variant)
            samples[variant.label].values.append(seconds)
    return samples


@dataclasses.dataclass
class Throughput:
    """Batch rates (executions per second) per variant, and this process's CPU per run."""

    rates: dict[str, list[float]]
    """Label -> rate of each of its batches, in round order."""
    cpu_per_run: dict[str, float]

    def rate(self, label: str) -> float:
        """The median batch rate of `label`."""
        return statistics.median(self.rates[label])

    def ratios(self, slower: str, faster: str) -> list[float]:
        """Per round: `faster`'s rate over `slower`'s (batches of one round are adjacent)."""
        return [f / s for s, f in zip(self.rates[slower], self.rates[faster], strict=True)]


async def throughput(
    client: temporalio.client.Client,
    queue: str,
    variants: Sequence[Variant],
    *,
    runs: int,
    concurrency: int,
) -> Throughput:
    """Executions per second with `concurrency` runs in flight.

    After an unmeasured warm-up burst of every variant, each variant's `runs` executions
    go in batches of `concurrency` started at once; the variants' batches alternate
    (A B, B A, A B, ...), so each round compares two adjacent batches.

    The CPU figure is this process's CPU time (client, worker, workflow and activity code,
    temporalio's core threads; not the server) over the variant's batches, per execution.
    """
    limit = asyncio.Semaphore(concurrency)

    async def one(variant: Variant) -> None:
        async with limit:
            await execute(client, queue, variant)

    cpu = {v.label: 0.0 for v in variants}

    async def batch(variant: Variant, size: int) -> float:
        started, cpu_started = time.perf_counter(), time.process_time()
        await asyncio.gather(*(one(variant) for _ in range(size)))
        cpu[variant.label] += time.process_time() - cpu_started
        return size / (time.perf_counter() - started)

    # The first concurrent burst after sequential runs pays for the worker's pollers and
    # caches ramping up, which would penalise whichever variant goes first.
    for variant in variants:
        await batch(variant, concurrency)
    cpu = {v.label: 0.0 for v in variants}
    rates: dict[str, list[float]] = {v.label: [] for v in variants}
    for round_no in range(max(1, math.ceil(runs / concurrency))):
        size = min(concurrency, runs - round_no * concurrency)
        for variant in variants if round_no % 2 == 0 else list(reversed(variants)):
            rates[variant.label].append(await batch(variant, size))
    return Throughput(rates, {label: seconds / runs for label, seconds in cpu.items()})


# -- histories -----------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class HistoryStats:
    """What a run's event history says about it."""

    events: int
    workflow_tasks: int
    activities: int
    server_seconds: float
    """From WorkflowExecutionStarted to the close event, by server timestamps."""
    timeline: list[tuple[str, float, float]]
    """(activity type, scheduled offset, completed offset) in seconds from the start."""
    task_dispatch: float
    """Seconds workflow tasks spent between scheduled and started (server, queue)."""
    task_processing: float
    """Seconds workflow tasks spent between started and completed (worker side)."""


async def history_stats(client: temporalio.client.Client, workflow_id: str) -> HistoryStats:
    """Count events and workflow tasks, and extract the activity timeline."""
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    events = history.events
    start = events[0].event_time.ToDatetime()

    def offset(event: Any) -> float:
        return float((event.event_time.ToDatetime() - start).total_seconds())

    scheduled: dict[int, tuple[str, float]] = {}
    timeline: list[tuple[str, float, float]] = []
    tasks = 0
    dispatch = processing = 0.0
    for event in events:
        if event.HasField("workflow_task_started_event_attributes"):
            task_scheduled = event.workflow_task_started_event_attributes.scheduled_event_id
            dispatch += offset(event) - offset(events[task_scheduled - 1])
        elif event.HasField("workflow_task_completed_event_attributes"):
            tasks += 1
            task_started = event.workflow_task_completed_event_attributes.started_event_id
            processing += offset(event) - offset(events[task_started - 1])
        elif event.HasField("activity_task_scheduled_event_attributes"):
            attrs = event.activity_task_scheduled_event_attributes
            scheduled[event.event_id] = (attrs.activity_type.name, offset(event))
        elif event.HasField("activity_task_completed_event_attributes"):
            name, at = scheduled[event.activity_task_completed_event_attributes.scheduled_event_id]
            timeline.append((name, at, offset(event)))
    return HistoryStats(
        events=len(events),
        workflow_tasks=tasks,
        activities=len(scheduled),
        server_seconds=offset(events[-1]),
        timeline=timeline,
        task_dispatch=dispatch,
        task_processing=processing,
    )


# -- printing ------------------------------------------------------------------------------


def ms(seconds: float) -> str:
    """Format seconds as milliseconds."""
    return f"{seconds * 1000:.1f} ms"


MISSED: list[str] = []
"""Every target missed so far in this process; `exit_status()` turns it into the exit code."""


def check(what: str, value: float, limit: float, *, at_least: bool = False, unit: str = "x") -> str:
    """Compare a figure with its target, remember a miss, return `≤1.05x ok` / `MISSED`."""
    ok = value >= limit if at_least else value <= limit
    sign = "≥" if at_least else "≤"
    if unit == "x":
        shown, target = f"{value:.3f}x", f"{sign}{limit:.2f}x"
    else:
        shown, target = f"{value:.1f} {unit}", f"{sign}{limit:g} {unit}"
    if not ok:
        MISSED.append(f"{what}: {shown}, target {target}")
    return f"{target} {'ok' if ok else 'MISSED'}"


def verdict(ratio: float, target: float = TARGET_RATIO, what: str = "ratio") -> str:
    """`check()` for an at-most target (the overhead ratios)."""
    return check(what, ratio, target)


def exit_status() -> int:
    """Print the targets missed in this run; the process exit code (1 if any was missed)."""
    if not MISSED:
        print("\nAll targets met.")
        return 0
    print(f"\n{len(MISSED)} target(s) MISSED:")
    for miss in MISSED:
        print(f"  - {miss}")
    return 1


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], title: str = "") -> str:
    """Render a plain-text table (Markdown-compatible pipes)."""
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    out = [f"\n{title}"] if title else []
    out.append(line(headers))
    out.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    out.extend(line(r) for r in rows)
    return "\n".join(out)


@dataclasses.dataclass
class Comparison:
    """Generated vs hand-written figures for one server kind."""

    server: ServerKind
    latency: dict[str, Samples]
    throughput: Throughput
    history: dict[str, list[HistoryStats]]
    """Label -> the histories of `HISTORY_SAMPLES` sequential runs."""
    runs: int
    throughput_runs: int
    concurrency: int

    def rate(self, label: str) -> float:
        return self.throughput.rate(label)

    def cpu(self, label: str) -> float:
        return self.throughput.cpu_per_run[label]

    @property
    def latency_ratio(self) -> float:
        return self.latency[GENERATED].p50 / self.latency[HAND_WRITTEN].p50

    @property
    def throughput_ratios(self) -> list[float]:
        """Per round, hand-written over generated throughput: > 1: generated is slower."""
        return self.throughput.ratios(GENERATED, HAND_WRITTEN)

    @property
    def throughput_ratio(self) -> float:
        """Hand-written over generated median batch rate: > 1 means generated is slower."""
        return self.rate(HAND_WRITTEN) / self.rate(GENERATED)

    @property
    def throughput_spread(self) -> str:
        ratios = self.throughput_ratios
        return f"{min(ratios):.2f}-{max(ratios):.2f}x (median {statistics.median(ratios):.2f}x)"

    @property
    def cpu_ratio(self) -> float:
        return self.cpu(GENERATED) / self.cpu(HAND_WRITTEN)

    def render(self) -> str:
        gen, hand = self.latency[GENERATED], self.latency[HAND_WRITTEN]

        def mean(label: str, field: str) -> float:
            return statistics.fmean(getattr(h, field) for h in self.history[label])

        def pair(field: str, fmt: Callable[[float], str]) -> list[str]:
            gen_value, hand_value = mean(GENERATED, field), mean(HAND_WRITTEN, field)
            ratio = f"{gen_value / hand_value:.3f}x" if hand_value else ""
            return [fmt(gen_value), fmt(hand_value), ratio]

        def count(value: float) -> str:
            return f"{value:.1f}"

        n = HISTORY_SAMPLES
        rows = [
            ["latency p50", ms(gen.p50), ms(hand.p50), f"{self.latency_ratio:.3f}x",
             verdict(self.latency_ratio, what=f"{self.server}: latency p50 gen/hand")],
            ["latency p95", ms(gen.p95), ms(hand.p95), f"{gen.p95 / hand.p95:.3f}x", ""],
            ["latency mean", ms(gen.mean), ms(hand.mean), f"{gen.mean / hand.mean:.3f}x", ""],
            [f"throughput ({self.concurrency} in flight)", f"{self.rate(GENERATED):.1f} wf/s",
             f"{self.rate(HAND_WRITTEN):.1f} wf/s", f"{self.throughput_ratio:.3f}x (hand/gen)",
             verdict(self.throughput_ratio, what=f"{self.server}: throughput hand/gen")],
            ["  hand/gen per round (A/B pairs)", "", "", self.throughput_spread,
             "spread = noise"],
            ["client+worker CPU per run", ms(self.cpu(GENERATED)), ms(self.cpu(HAND_WRITTEN)),
             f"{self.cpu_ratio:.3f}x", ""],
            [f"history events (mean of {n})", *pair("events", count), ""],
            [f"workflow tasks (mean of {n})", *pair("workflow_tasks", count), ""],
        ]  # fmt: skip
        if self.server != "time-skipping":  # its event times follow its virtual clock
            rows += [
                ["  time in worker per run", *pair("task_processing", ms),
                 "WFT started->completed"],
                ["  dispatch wait per run", *pair("task_dispatch", ms),
                 "WFT scheduled->started"],
            ]  # fmt: skip
        title = (
            f"{SERVER_LABELS[self.server]} — {self.runs} sequential runs each (interleaved); "
            f"{self.throughput_runs} concurrent runs each in alternating batches of "
            f"{self.concurrency} (median batch rates)"
        )
        return table(["metric", GENERATED, HAND_WRITTEN, "ratio", "target"], rows, title)


def summary(comparisons: Sequence[Comparison], what: str) -> str:
    """One line per server kind: the headline figures."""
    rows = [
        [
            c.server,
            ms(c.latency[GENERATED].p50),
            ms(c.latency[HAND_WRITTEN].p50),
            f"{c.latency_ratio:.3f}x",
            f"{c.rate(GENERATED):.1f}",
            f"{c.rate(HAND_WRITTEN):.1f}",
            f"{c.throughput_ratio:.3f}x",
            f"{c.cpu_ratio:.3f}x",
        ]
        for c in comparisons
    ]
    headers = [
        "server",
        "gen p50",
        "hand p50",
        "p50 gen/hand",
        "gen wf/s",
        "hand wf/s",
        "wf/s hand/gen",
        "CPU gen/hand",
    ]
    return table(headers, rows, f"Summary: {what} (target ≤{TARGET_RATIO:.2f}x on both ratios)")


def load() -> str:
    """The load averages (1, 5, 15 min): on 2 shared cores, the noise to expect."""
    return " / ".join(f"{x:.1f}" for x in os.getloadavg())


def machine() -> str:
    """One line describing where the figures were measured."""
    now = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    load_now = load()
    return (
        f"{now} · {os.cpu_count()} cores · {platform.system()} {platform.machine()} · "
        f"Python {platform.python_version()} · load average {load_now}"
    )


# -- command line --------------------------------------------------------------------------


def parser(description: str, default_servers: Sequence[ServerKind]) -> argparse.ArgumentParser:
    """The options both scripts share."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--runs", type=int, default=200, help="sequential runs per variant (200)")
    p.add_argument(
        "--throughput-runs",
        type=int,
        default=None,
        help="concurrent runs per variant for the throughput figure (default: 2 x --runs)",
    )
    p.add_argument("--concurrency", type=int, default=50, help="runs in flight (50)")
    p.add_argument("--warmup", type=int, default=10, help="unmeasured runs per variant (10)")
    p.add_argument(
        "--server",
        action="append",
        choices=SERVER_KINDS,
        help=f"server kinds to measure, repeatable (default: {' '.join(default_servers)})",
    )
    p.add_argument(
        "--untuned-runs",
        type=int,
        default=40,
        help="sequential runs per variant on the untuned dev server, whose ~50 ms per "
        "workflow task makes 200 sequential runs slow (40)",
    )
    return p


def servers_of(args: argparse.Namespace, default: Sequence[ServerKind]) -> list[ServerKind]:
    """The server kinds chosen on the command line, in a stable order."""
    chosen: list[ServerKind] = args.server or list(default)
    return [k for k in SERVER_KINDS if k in chosen]


async def compare(
    client: temporalio.client.Client,
    queue: str,
    kind: ServerKind,
    variants: Sequence[Variant],
    args: argparse.Namespace,
) -> Comparison:
    """Latency, throughput and history figures for the variants on one server."""
    runs = args.runs if kind != "dev-untuned" else min(args.runs, args.untuned_runs)
    t_runs = args.throughput_runs or 2 * args.runs
    results = {}
    for variant in variants:  # same result from both, or the comparison is meaningless
        _, _, results[variant.label] = await execute(client, queue, variant)
    first, *others = variants
    for other in others:
        if results[other.label] != results[first.label]:
            raise SystemExit(
                f"{other.label} returned {results[other.label]!r}, "
                f"{first.label} returned {results[first.label]!r}"
            )
    lat = await latency(client, queue, variants, runs=runs, warmup=args.warmup)
    thr = await throughput(client, queue, variants, runs=t_runs, concurrency=args.concurrency)
    hist: dict[str, list[HistoryStats]] = {v.label: [] for v in variants}
    for _ in range(HISTORY_SAMPLES):
        for variant in variants:
            _, workflow_id, _ = await execute(client, queue, variant)
            hist[variant.label].append(await history_stats(client, workflow_id))
    return Comparison(kind, lat, thr, hist, runs, t_runs, args.concurrency)
