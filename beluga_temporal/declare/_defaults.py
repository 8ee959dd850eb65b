"""Defaults for chains and graphs that do not set their own, from `BelugaSettings`.

Read once per process, when the first chain or graph compiles (never inside workflows).
"""

from __future__ import annotations

import dataclasses
import functools
from datetime import timedelta

from beluga_temporal.settings import BelugaSettings


@dataclasses.dataclass(frozen=True)
class ChainDefaults:
    timeout: timedelta | None = None
    max_retries: int = 3
    retry_delay: timedelta = timedelta(seconds=1)


@dataclasses.dataclass(frozen=True)
class GraphDefaults:
    timeout: timedelta | None = None
    max_workers: int = 10
    parallel: bool = True


@functools.cache
def _settings() -> BelugaSettings:
    return BelugaSettings.load()


def chain_defaults() -> ChainDefaults:
    """Chain defaults from `orchestration.chain.*` (`max_retries` counts attempts, >= 1)."""
    chain = _settings().orchestration.chain
    return ChainDefaults(
        timeout=chain.timeout, max_retries=max(chain.max_retries, 1), retry_delay=chain.retry_delay
    )


def graph_defaults() -> GraphDefaults:
    """Graph defaults from `orchestration.graph.*`."""
    graph = _settings().orchestration.graph
    return GraphDefaults(
        timeout=graph.timeout, max_workers=graph.max_workers, parallel=graph.parallel_execution
    )
