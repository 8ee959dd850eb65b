"""`assert_replays`: stored histories must replay against today's code (CI replay tests)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import temporalio.worker

from beluga_temporal.plugin import BelugaPlugin
from beluga_temporal.replay import HistoryChecker, Outcome, quiet_runtime, sdk_logs_silenced
from beluga_temporal.worker import WorkerTarget, workflows_of

HistorySource = str | Path | Iterable[str | Path]
"""A history file, a folder of `*.json` histories, or several of either."""


def history_files(source: HistorySource) -> list[Path]:
    """The history files `source` names (folders expand to their `*.json`, sorted)."""
    items = [source] if isinstance(source, str | Path) else list(source)
    found: list[Path] = []
    for item in map(Path, items):
        found.extend(sorted(item.glob("*.json")) if item.is_dir() else [item])
    return found


async def assert_replays(
    histories: HistorySource,
    targets: Sequence[WorkerTarget],
    *,
    plugin: BelugaPlugin | None = None,
) -> list[Outcome]:
    """Replay stored histories against `targets` and their previous versions.

    Example:
        ```python
        async def test_stored_histories_replay() -> None:
            await assert_replays("tests/histories", [order_graph, order_chain])
        ```

    Args:
        histories: History files (`beluga history export`, `temporal workflow show
            --output json`), or folders of them.
        targets: Chains, graphs and workflow classes, as a worker would host them.
        plugin: The plugin to decode with (default `BelugaPlugin()`: the settings'
            encryption keys).

    Returns:
        One outcome per history (its plan version and `OK`).

    Raises:
        AssertionError: Naming every history that does not replay and why: a plan no
            target declares (add it to `previous=`), a non-deterministic change (with
            the diverging event), or an unreadable file. Also when `histories` names
            no file.
    """
    paths = history_files(histories)
    if not paths:
        raise AssertionError(f"no history files in {histories!r}")
    workflows = workflows_of(targets)
    replayer = temporalio.worker.Replayer(
        workflows=workflows, plugins=[plugin or BelugaPlugin()], runtime=quiet_runtime()
    )
    checker = HistoryChecker(replayer, workflows)
    with sdk_logs_silenced(True):
        outcomes = [await checker.check(path) for path in paths]
    failed = [outcome.line() for outcome in outcomes if not outcome.ok]
    if failed:
        raise AssertionError(
            f"{len(failed)} of {len(outcomes)} histories do not replay:\n" + "\n".join(failed)
        )
    return outcomes
