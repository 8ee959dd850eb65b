"""Dev-server settings against the server's CPU per run: one server per setting, rounds alternating.

    .venv/bin/python benchmarks/server_settings.py                     # the built-in candidates
    .venv/bin/python benchmarks/server_settings.py --config base= \\
        --config 'p1=--dynamic-config-value matching.numTaskqueueReadPartitions=1' \\
        --config 'gc=GOGC=400' --variant noop --rounds 10

Every setting gets its own embedded dev server, started like `start_environment("dev")`
(the embedded runtime's flags) plus the setting's extra `temporal server start-dev`
arguments, which come last and so override a default; leading `NAME=VALUE` words are
environment variables of the server process. Each server gets its own `throughput.py`
embedded processes (`--processes` of them, each hosting a worker and starting runs
eagerly) of one `--variant` (`beluga`: the three-step `Chain(local=True)`; `noop`: a
workflow that returns at once). Each round runs every setting for `--seconds`, the order
rotating round by round, so the noise of a shared machine spreads over all settings; with
`--together`, all settings run at once in each round, so each sees the same noise (the
CPU per run then compares; the runs/s are those of servers sharing the machine).

Two CPU figures per setting, both from Linux /proc (the server process only):

- per window: server CPU per run while the runs happen, median and per-round range;
- overall: all the server's CPU from the first round to the end of a settle period (the
  server's visibility queue writes records after the runs finish, outside the windows,
  and under load it falls behind), minus its idle CPU rate, over all its runs. This is
  the fair figure; "deferred" is the part spent after the last round.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import shlex
import statistics
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from beluga_temporal.local import start_environment  # noqa: E402
from benchmarks.throughput import (  # noqa: E402 - after the path set-up above
    Processes,
    Run,
    Window,
    connect,
    descendants,
    window,
)

DCV = "--dynamic-config-value"
CANDIDATES: dict[str, list[str]] = {
    "base": [],  # the embedded server as shipped
    "visibility-default": [  # the server's own visibility queue polling (before batching)
        DCV, "history.visibilityProcessorMaxPollRPS=20",
        DCV, "history.visibilityTaskBatchSize=100",
    ],
    "log-error": ["--log-level", "error"],
    "partitions-1": [
        DCV, "matching.numTaskqueueReadPartitions=1",
        DCV, "matching.numTaskqueueWritePartitions=1",
    ],
    "journal-off": ["--sqlite-pragma", "journal_mode=off"],
    "gogc-200": ["GOGC=200"],
}  # fmt: skip
"""Settings measured when no `--config` is given; the first is the baseline."""


def server_cpu(pids: list[int]) -> float:
    """CPU seconds of the live threads of `pids`, to the nanosecond (Linux schedstat).

    Finer than `cpu_seconds`' clock ticks, which matters for idle rates; a Go server's
    threads live as long as it does, so none of its time is lost with exited threads.
    """
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            for task in Path(f"/proc/{pid}/task").iterdir():
                with contextlib.suppress(OSError):
                    total += int((task / "schedstat").read_text().split()[0])
    return total / 1e9


def peak_rss_mb(pids: list[int]) -> float:
    """The largest peak resident set (VmHWM) of `pids`, in MB."""
    peak = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak = max(peak, int(line.split()[1]))
    return peak / 1024


SETTLE_LIMIT = 120.0
"""Seconds the settle period may last at most."""


class Setting:
    """One dev server with its extra arguments and environment, and its processes."""

    def __init__(self, name: str, words: list[str]) -> None:
        self.name = name
        self.env: dict[str, str] = {}
        while words and "=" in words[0] and not words[0].startswith("-"):
            key, _, value = words.pop(0).partition("=")
            self.env[key] = value
        self.args = words
        self.server: list[int] = []
        self.processes: Processes | None = None
        self.run: Run | None = None
        self.windows: list[Window] = []
        self.idle_ms_per_s = 0.0
        self.overall_ms = 0.0
        self.deferred_ms = 0.0
        self.peak_rss_mb = 0.0

    def describe(self) -> str:
        words = [f"{key}={value}" for key, value in self.env.items()] + self.args
        return shlex.join(words) or "(defaults)"


@contextlib.contextmanager
def server_environment(variables: dict[str, str]) -> Iterator[None]:
    """Set environment variables while a server process is spawned (it inherits them)."""
    saved = {key: os.environ.get(key) for key in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@contextlib.asynccontextmanager
async def started(settings: list[Setting], args: argparse.Namespace) -> AsyncIterator[None]:
    """Start every setting's server and processes; stop them all on exit."""
    async with contextlib.AsyncExitStack() as stack:
        for setting in settings:
            known = set(descendants(os.getpid()))
            with server_environment(setting.env):
                env = await start_environment("dev", server_args=setting.args)
            stack.push_async_callback(env.shutdown)
            setting.server = [p for p in descendants(os.getpid()) if p not in known]
            address = env.client.service_client.config.target_host
            setting.processes = Processes(args.variant, args.topology, args.processes, address)
            stack.push_async_callback(setting.processes.stop)
            await setting.processes.start()
            if args.topology == "workers":  # this process starts the runs (no eager start)
                setting.run = (await connect(args.variant, address, setting.processes.queue))[1]
            print(f"started {setting.name}: {setting.describe()}", flush=True)
        yield


async def settle(settings: list[Setting], idle_seconds: float) -> None:
    """Wait until every server spends at most twice its idle rate (or 10 ms/s) of CPU."""
    deadline = time.monotonic() + SETTLE_LIMIT
    while time.monotonic() < deadline:
        before = [server_cpu(s.server) for s in settings]
        await asyncio.sleep(idle_seconds)
        busy = [
            server_cpu(s.server) - b > max(2 * s.idle_ms_per_s / 1000, 0.01) * idle_seconds
            for s, b in zip(settings, before, strict=True)
        ]
        if not any(busy):
            return
    print(f"(servers still busy after {SETTLE_LIMIT:.0f} s of settling)")


async def run_window(setting: Setting, args: argparse.Namespace) -> None:
    """Run one measurement window of `setting`'s processes and record it."""
    assert setting.processes is not None
    measured = await window(
        setting.processes, setting.server, args.seconds, args.in_flight, setting.run
    )
    setting.windows.append(measured)


async def measure(settings: list[Setting], args: argparse.Namespace) -> None:
    """Warm up, measure idle CPU, run the rounds, settle, and account for all CPU."""
    async with started(settings, args):
        for setting in settings:  # warm-up: pollers, caches, connections
            assert setting.processes is not None
            await window(setting.processes, setting.server, 2.0, args.in_flight, setting.run)
        await settle(settings, 2.0)
        before = [server_cpu(s.server) for s in settings]
        idle_started = time.monotonic()
        await asyncio.sleep(args.idle_seconds)
        elapsed = time.monotonic() - idle_started
        for s, b in zip(settings, before, strict=True):
            s.idle_ms_per_s = 1000 * (server_cpu(s.server) - b) / elapsed
        first = [server_cpu(s.server) for s in settings]
        rounds_started = time.monotonic()
        for number in range(args.rounds):
            if args.together:
                await asyncio.gather(*(run_window(s, args) for s in settings))
            else:
                shift = number % len(settings)
                order = settings[shift:] + settings[:shift]
                for setting in reversed(order) if number % 2 else order:
                    await run_window(setting, args)
            line = ", ".join(
                f"{s.name} {s.windows[-1].rate:.0f}/s {s.windows[-1].server_ms:.1f}ms"
                for s in settings
            )
            print(f"round {number + 1} (load {os.getloadavg()[0]:.1f}): {line}", flush=True)
        last = [server_cpu(s.server) for s in settings]
        await settle(settings, 2.0)
        elapsed = time.monotonic() - rounds_started
        for s, a, b in zip(settings, first, last, strict=True):
            runs = sum(w.runs for w in s.windows)
            spent = server_cpu(s.server) - a - s.idle_ms_per_s / 1000 * elapsed
            s.overall_ms = 1000 * spent / runs
            s.deferred_ms = 1000 * (server_cpu(s.server) - b) / runs
            s.peak_rss_mb = peak_rss_mb(s.server)


def _spread(values: list[float], digits: int = 1) -> str:
    low, mid, high = min(values), statistics.median(values), max(values)
    return f"{mid:.{digits}f} ({low:.{digits}f}-{high:.{digits}f})"


def report(settings: list[Setting], args: argparse.Namespace) -> None:
    print(
        f"\nvariant {args.variant}, {args.topology} topology, {args.processes} process(es) "
        "per setting, "
        f"{args.in_flight} runs in flight, {args.rounds} rounds x {args.seconds:g} s; "
        f"{platform.machine()}, {os.cpu_count()} cores; load average before "
        f"{args.load_before}, after {' '.join(f'{x:.1f}' for x in os.getloadavg())}"
    )
    base = settings[0]
    print(
        "\n| setting | runs/s median (range) | server CPU ms/run per window, median (range) "
        f"| per-round ratio to {base.name} | server CPU ms/run overall (deferred) "
        "| worker CPU ms/run | idle server CPU ms/s | server peak RSS MB |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for s in settings:
        ratios = [w.server_ms / b.server_ms for w, b in zip(s.windows, base.windows, strict=True)]
        worker = statistics.median(w.worker_ms for w in s.windows)
        print(
            f"| {s.name} | {_spread([w.rate for w in s.windows])} "
            f"| {_spread([w.server_ms for w in s.windows], 2)} | {_spread(ratios, 2)} "
            f"| {s.overall_ms:.2f} ({s.deferred_ms:.2f}) | {worker:.1f} "
            f"| {s.idle_ms_per_s:.1f} | {s.peak_rss_mb:.0f} |"
        )
    print("\nsettings:")
    for s in settings:
        print(f"- {s.name}: {s.describe()}")


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument(
        "--config",
        action="append",
        metavar="NAME=WORDS",
        help="a setting: its name and its extra `temporal server start-dev` arguments, "
        "shell words, leading NAME=VALUE words being environment variables (repeatable; "
        "the first is the baseline; default: the built-in candidates)",
    )
    parser.add_argument("--variant", choices=["beluga", "noop"], default="beluga")
    parser.add_argument(
        "--topology",
        choices=["embedded", "workers"],
        default="embedded",
        help="as in throughput.py: processes that start their own runs eagerly (embedded), "
        "or workers only, this process starting the runs without eager start (workers)",
    )
    parser.add_argument("--processes", type=int, default=2, help="processes per setting (2)")
    parser.add_argument("--seconds", type=float, default=5.0, help="seconds per window (5)")
    parser.add_argument("--rounds", type=int, default=6, help="rounds (6)")
    parser.add_argument("--in-flight", type=int, default=32, help="runs in flight, in all (32)")
    parser.add_argument(
        "--together",
        action="store_true",
        help="run every setting's window at the same time (each sees the same machine "
        "noise; the CPU per run compares, the runs/s do not add up to one server's)",
    )
    parser.add_argument("--idle-seconds", type=float, default=10.0, help="idle window (10)")
    return parser.parse_args(argv)


def settings_from(args: argparse.Namespace) -> list[Setting]:
    if not args.config:
        return [Setting(name, list(words)) for name, words in CANDIDATES.items()]
    settings = []
    for spec in args.config:
        name, _, words = spec.partition("=")
        settings.append(Setting(name, shlex.split(words)))
    return settings


def main() -> None:
    args = parse()
    args.load_before = " ".join(f"{x:.1f}" for x in os.getloadavg())
    settings = settings_from(args)
    asyncio.run(measure(settings, args))
    report(settings, args)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)  # as throughput.py: no interpreter teardown under Core's threads


if __name__ == "__main__":
    main()
