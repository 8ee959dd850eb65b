"""Live run progress as a rich table (`beluga watch`, `beluga run --watch`, the demo)."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.table import Table

from beluga_temporal.client import Orchestrator
from beluga_temporal.runtime import RunProgress

_STYLES = {
    "pending": "dim",
    "running": "bold yellow",
    "succeeded": "green",
    "failed": "bold red",
    "skipped": "dim italic",
    "cancelled": "magenta",
}


def progress_table(progress: RunProgress, workflow_id: str | None = None) -> Table:
    """Render a run's node statuses as a table.

    Args:
        progress: The snapshot returned by `Orchestrator.progress` / `watch`.
        workflow_id: Shown in the title when given.
    """
    title = f"{progress.kind} '{progress.name}' — {progress.status}"
    if workflow_id:
        title += f" ({workflow_id})"
    table = Table(title=title, title_justify="left")
    table.add_column("node")
    table.add_column("step")
    table.add_column("status")
    table.add_column("detail", overflow="fold")
    for name, node in progress.nodes.items():
        style = _STYLES.get(node.status, "")
        detail = node.error or ("output from fallback" if node.fallback else "")
        table.add_row(name, node.step, f"[{style}]{node.status}[/]", detail)
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
    """Show a live table of a run's progress until it finishes; return the last snapshot."""
    last: RunProgress | None = None
    with Live(console=console or Console(), refresh_per_second=12, transient=False) as live:
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
    # Whichever ends first: a run that dies without a final progress (terminated, timed
    # out) must not keep the watch waiting.
    await asyncio.wait({result, follow}, return_when=asyncio.FIRST_COMPLETED)
    if result.done() and not follow.done():
        with contextlib.suppress(Exception):
            await asyncio.wait_for(follow, timeout=1)  # let it draw the final state
    follow.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        # No progress to show (a hand-written workflow has no progress query, or the run
        # failed before its first task): the result carries the real outcome.
        await follow
    return await result
