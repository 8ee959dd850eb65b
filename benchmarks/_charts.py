"""The scaling charts (matplotlib, from the `bench` extra), drawn from `scaling.json` data."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only, no display

import matplotlib.pyplot as plt

STYLE = {"remote": ("tab:blue", "o"), "local": ("tab:orange", "s")}


def _series(points: Sequence[dict[str, Any]], mode: str, x: str, y: str) -> tuple[list[Any], ...]:
    chosen = sorted(
        (p for p in points if p["mode"] == mode and "failed" not in p), key=lambda p: p[x]
    )
    return [p[x] for p in chosen], [p[y] for p in chosen]


def _when(sweep: dict[str, Any]) -> str:
    """`2026-11-30 12:21 UTC, load average 7.6 -> 7.4`: on a shared machine, part of the data."""
    measured = sweep.get("measured", "")
    date = measured.split(" · ")[0]
    load = measured.rsplit("load average ", 1)[-1].split(" / ")[0] if "load" in measured else "?"
    after = sweep.get("load_after", "?").split(" / ")[0]
    return f"{date}, 2 cores, load average {load} -> {after} (1 min)"


def _latency_chart(points: Sequence[dict[str, Any]], xlabel: str, title: str, path: Path) -> Path:
    """Total latency (log-log) and latency per node, remote vs local mode."""
    fig, (total, per_node) = plt.subplots(1, 2, figsize=(10, 4))
    for mode, (color, marker) in STYLE.items():
        xs, p50 = _series(points, mode, "size", "p50")
        if not xs:
            continue
        _, lows = _series(points, mode, "size", "min")
        _, highs = _series(points, mode, "size", "max")
        total.plot(xs, [v * 1000 for v in p50], marker=marker, color=color,
                   label=f"{mode} (p50; band: min-max)")  # fmt: skip
        total.fill_between(xs, [v * 1000 for v in lows], [v * 1000 for v in highs],
                           color=color, alpha=0.15)  # fmt: skip
        _, per = _series(points, mode, "size", "per_node_ms")
        per_node.plot(xs, per, marker=marker, color=color, label=mode)
    for point in points:
        if "failed" in point:  # where the run failed, and how long it had run by then
            color, _ = STYLE[point["mode"]]
            total.plot([point["size"]], [point["after"] * 1000], marker="X", markersize=10,
                       color=color, linestyle="none",
                       label=f"{point['mode']}, {point['size']}: failed after "
                             f"{point['after']:.0f} s\n({point['failed']})")  # fmt: skip
    total.set(xscale="log", yscale="log", xlabel=xlabel, ylabel="latency, start to result (ms)")
    per_node.set(xscale="log", yscale="log", xlabel=xlabel, ylabel="p50 latency / size (ms)")
    for axes, where in ((total, "upper left"), (per_node, "best")):
        axes.grid(True, which="both", alpha=0.3)
        axes.legend(loc=where, fontsize="small")
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def _process_chart(points: Sequence[dict[str, Any]], when: str, path: Path) -> Path:
    fig, (rate, cpu) = plt.subplots(1, 2, figsize=(10, 4))
    for mode, (color, marker) in STYLE.items():
        xs, rates = _series(points, mode, "processes", "rate")
        _, lows = _series(points, mode, "processes", "min")
        _, highs = _series(points, mode, "processes", "max")
        _, cpus = _series(points, mode, "processes", "cpu_ms_per_run")
        errors = [[r - lo for r, lo in zip(rates, lows, strict=True)],
                  [hi - r for r, hi in zip(rates, highs, strict=True)]]  # fmt: skip
        rate.errorbar(xs, rates, yerr=errors, marker=marker, color=color, capsize=4,
                      label=f"{mode} (median; bars: min-max over rounds)")  # fmt: skip
        cpu.plot(xs, cpus, marker=marker, color=color, label=mode)
    rate.axhline(100, color="gray", linestyle="--", label="target, local mode")
    rate.set(xlabel="beluga worker processes", ylabel="three-step chain runs / s", ylim=(0, None))
    cpu.set(xlabel="beluga worker processes", ylabel="client + worker CPU per run (ms)",
            ylim=(0, None))  # fmt: skip
    for axes in (rate, cpu):
        axes.set_xticks(xs)
        axes.grid(True, alpha=0.3)
        axes.legend()
    fig.suptitle(f"Throughput against beluga worker processes (dev server)\n{when}")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def draw(results: dict[str, Any], folder: Path) -> list[Path]:
    """Draw a chart for each sweep present in `results`; return the files written."""
    written = []
    if "fanout" in results:
        sweep = results["fanout"]
        title = f"Latency against fan-out width (source -> W nodes -> sink)\n{_when(sweep)}"
        written.append(_latency_chart(sweep["points"], "parallel nodes (fan-out width)", title,
                                      folder / "scaling_fanout.png"))  # fmt: skip
    if "chain" in results:
        sweep = results["chain"]
        written.append(_latency_chart(sweep["points"], "chain length (steps)",
                                      f"Latency against chain length (measured up to "
                                      f"{sweep['max_chain_length']} steps)\n{_when(sweep)}",
                                      folder / "scaling_chain.png"))  # fmt: skip
    if "processes" in results:
        sweep = results["processes"]
        written.append(_process_chart(sweep["points"], _when(sweep),
                                      folder / "scaling_processes.png"))  # fmt: skip
    return written
