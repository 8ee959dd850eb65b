"""Defaults for chains and graphs that do not set their own, from `BelugaSettings`."""

from __future__ import annotations

import dataclasses
import functools
from datetime import timedelta


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
def chain_defaults() -> ChainDefaults:
    """Chain defaults from settings (`orchestration.chain.*`), read once per process."""
    return ChainDefaults()


@functools.cache
def graph_defaults() -> GraphDefaults:
    """Graph defaults from settings (`orchestration.graph.*`), read once per process."""
    return GraphDefaults()
