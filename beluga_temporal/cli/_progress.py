"""Live run progress as a rich table (`beluga watch`, `beluga run --watch`, the demo)."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.table import Table

from beluga_temporal.cli._console import make_console
from beluga_temporal.client import Orchestrator
from beluga_temporal.engine import NodeProgress, RunProgress

_STYLES = {
    "pending": "dim",
    "running": "bold yellow",
    "succeeded": "green",
    "failed": "bold red",
    "skipped": "dim italic",
    "cancelled": "magenta",
}


def format_duration(duration: timedelta | None) -> str:
    """Show a node's duration compactly: `850 ms`, `2.41 s`, `3m 05s`, `1h 02m`; `""` if unknown."""
    if duration is None:
        return ""
    seconds = max(duration.total_seconds(), 0.0)
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 60:
        return f"{seconds:.2f} s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m {secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"


def _attempts(node: NodeProgress) -> str:
    if node.attempts <= 0:
        return ""
    # A retried node stands out: that is where the time went.
    return f"[yellow]{node.attempts}[/]" if node.attempts > 1 else str(node.attempts)


def _detail(node: NodeProgress) -> str:
    parts = []
    if node.choice:
        parts.append(f"chose → {node.choice}")
    if node.fallback:
        parts.append("output from fallback")
    if node.error:
        parts.append(node.error)
    if node.waiting and node.status == "running":
        parts.append(f"[yellow]waiting: {node.waiting}[/]")
    return "; ".join(parts)


def progress_table(progress: RunProgress, workflow_id: str | None = None) -> Table:
    """Render a run's node statuses as a table.

    Columns: node, step, status, attempts, duration (once the node has finished) and
    detail (a routing node's choice, the error, a fallback, why a node waits).

    Args:
        progress: The snapshot returned by `Orchestrator.progress` / `watch`.
        workflow_id: Shown in the title when given.
    """
    title = f"{progress.kind} '{progress.name}' — {progress.status}"
    if workflow_id:
        title += f" ({workflow_id})"
    table = Table(title=title, title_justify="left")
    for column in ("node", "step", "status"):
        table.add_column(column)
    table.add_column("attempts", justify="right")
    table.add_column("duration", justify="right")
    table.add_column("detail", overflow="fold")
    for name, node in progress.nodes.items():
        style = _STYLES.get(node.status, "")
        table.add_row(
            name,
            node.step,
            f"[{style}]{node.status}[/]",
            _attempts(node),
            format_duration(node.duration),
            _detail(node),
        )
    if progress.usage.total_tokens:
        table.caption = (
            f"LLM tokens: {progress.usage.input_tokens} in / {progress.usage.output_tokens} out"
        )
    return table


async def follow_progress(
    orch: Orchestrator,
    workflow_id: str,
    run_id: str | None = None,
    *,
    console: Console | None = None,
    interval: float = 0.1,
) -> RunProgress | None:
    """Show a run's progress until it finishes; return the last snapshot.

    On a terminal the table updates in place. Elsewhere (a file, a pipe, a CI log) only
    the final table is printed, once, ending with a newline.
    """
    console = console or make_console()
    last: RunProgress | None = None
    if not console.is_terminal:
        try:
            async for progress in orch.watch(workflow_id, run_id, interval=interval):
                last = progress
        finally:
            if last is not None:  # also when interrupted: show how far the run got
                console.print(progress_table(last, workflow_id))
        return last
    with Live(console=console, refresh_per_second=12, transient=False) as live:
        async for progress in orch.watch(workflow_id, run_id, interval=interval):
            last = progress
            live.update(progress_table(progress, workflow_id))
    return last


async def result_with_progress(
    orch: Orchestrator,
    workflow_id: str,
    run_id: str | None,
    *,
    console: Console | None = None,
    result_type: Any = None,
) -> Any:
    """Wait for a run's result while showing its progress live.

    The result is awaited concurrently, so a run that fails before its first progress
    query (or a workflow without the progress query) still reports its real error.
    """
    result = asyncio.ensure_future(orch.result(workflow_id, run_id, result_type=result_type))
    follow = asyncio.ensure_future(follow_progress(orch, workflow_id, run_id, console=console))
    try:
        # Whichever ends first: a run that dies without a final progress (terminated,
        # timed out) must not keep the watch waiting.
        await asyncio.wait({result, follow}, return_when=asyncio.FIRST_COMPLETED)
        if result.done() and not follow.done():
            with contextlib.suppress(Exception):
                await asyncio.wait_for(follow, timeout=1)  # let it draw the final state
    finally:
        # Also on Ctrl+C: the table is closed before anything else is printed.
        follow.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            # No progress to show (a hand-written workflow has no progress query, or the
            # run failed before its first task): the result carries the real outcome.
            await follow
        if not result.done():
            result.cancel()
    return await result
