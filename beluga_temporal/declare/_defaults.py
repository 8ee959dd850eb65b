"""Run timeouts for chains and graphs that do not set their own, from `BelugaSettings`.

Read once per process, when a declaration first compiles (never inside workflows). The
other settings-derived defaults (max workers, retries, history bounds) are fixed per run
when it starts (`plan.RunDefaults`).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from beluga_temporal.settings import BelugaSettings


def default_timeout(kind: Literal["chain", "graph"]) -> timedelta | None:
    """`orchestration.chain.timeout` or `orchestration.graph.timeout`."""
    orchestration = BelugaSettings.load().orchestration
    return orchestration.chain.timeout if kind == "chain" else orchestration.graph.timeout
