"""Replay stored histories against chains, graphs and workflows, and say why one fails.

For each history: the plan version (fingerprint) the run executed, and whether it
replays against the targets (`OK`), names a plan they do not declare (`UNKNOWN PLAN`:
add it to `previous=`), diverges from the code (`NON-DETERMINISTIC`, naming the event)
or cannot be read (`FAIL`). `beluga replay` and `testing.assert_replays` use it.
"""

from beluga_temporal.replay._check import (
    HistoryChecker,
    Outcome,
    Status,
    describe_failure,
    first_failing_task,
    load_history,
    quiet_runtime,
    sdk_logs_silenced,
)
from beluga_temporal.replay._recorded import recorded_plan, workflow_type

__all__ = [
    "HistoryChecker",
    "Outcome",
    "Status",
    "describe_failure",
    "first_failing_task",
    "load_history",
    "quiet_runtime",
    "recorded_plan",
    "sdk_logs_silenced",
    "workflow_type",
]
