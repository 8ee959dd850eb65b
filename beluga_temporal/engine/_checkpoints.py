"""Workflow side: where a run in local mode pauses so that its workflow task ends.

Local activities are recorded (as markers) when the workflow task that runs them
completes, and a task stays open while any is in flight. A long local run would
otherwise live in one task kept alive by heartbeats, which a busy worker misses (the
task times out and everything since the last completed task runs again), which never
sees the server's continue-as-new suggestion, and whose markers, all written at once,
can pass the server's 4 MB limit on one history transaction. So the run pauses at a
quiet point (nothing in flight) once enough is done, with a 1 ms timer that ends the
task; a new task starts when it fires.

Each pause costs a map node a drain (no new items while the last ones finish) and a
round trip to the server, during which the worker waits: with 100 items in flight,
a pause every 200 items cost about a quarter of a local map node's throughput. Where
a run pauses is part of its commands, so the rule is fixed when the run starts
(`RunDefaults.checkpoint_rule`) and a run replays with its own:

- rule 1 (runs started before rule 2): every `LOCAL_CHECKPOINT` local activities; a
  batch child of a map node never pauses;
- rule 2: every `LOCAL_CHECKPOINT` local activities, or `MAP_WAVES` times a running map
  node's concurrency (at most `MAP_CHECKPOINT_MAX`); sooner when the results since the
  last pause, those in flight counted at the average size so far, reach
  `CHECKPOINT_BYTES`; never when no work remains; batch children pause like their
  parent.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import timedelta

import temporalio.workflow

LOCAL_CHECKPOINT = 200
"""Local activities a run completes before it lets its workflow task end."""
MAP_WAVES = 5
"""Rule 2: a map node in local mode pauses once per this many times its concurrency."""
MAP_CHECKPOINT_MAX = 1_000
"""Rule 2: the most local activities between two pauses of a map node."""
CHECKPOINT_BYTES = 1024 * 1024
"""Rule 2: result bytes one workflow task records at most (the server's limit on one
history transaction is 4 MB)."""


class LocalCheckpoints:
    """Counts a run's finished local activities and tells when to pause."""

    def __init__(self, rule: int) -> None:
        """Count with checkpoint rule `rule` (the run's `RunDefaults.checkpoint_rule`)."""
        self.rule = rule
        self._count = 0
        self._bytes = 0
        self._maps: list[int] = []  # concurrency of each map node running

    def done(self, size: int = 0) -> None:
        """Count one finished local activity whose result payload has `size` bytes."""
        self._count += 1
        self._bytes += size

    @property
    def due(self) -> bool:
        """Whether the run should pause at its next quiet point."""
        return self.due_with(0)

    def due_with(self, in_flight: int) -> bool:
        """Whether to pause, once the `in_flight` local activities have finished too."""
        if self._count >= self._limit():
            return True
        if self.rule < 2 or not self._count:
            return False
        return self._bytes * (self._count + in_flight) >= CHECKPOINT_BYTES * self._count

    def pause_before(self, more: bool) -> bool:
        """Whether to pause now, at a quiet point, `more` telling if work remains.

        Rule 1 paused even when nothing remained (a round trip before the run's end).
        """
        return self.due and (more or self.rule < 2)

    @contextlib.contextmanager
    def map_node(self, concurrency: int) -> Iterator[None]:
        """Pause less often while a map node with `concurrency` items in flight runs."""
        if self.rule < 2:
            yield
            return
        self._maps.append(concurrency)
        try:
            yield
        finally:
            self._maps.remove(concurrency)

    async def take(self) -> None:
        """End the workflow task (a 1 ms timer), then go on."""
        self._count = 0
        self._bytes = 0
        await temporalio.workflow.sleep(timedelta(milliseconds=1))

    def _limit(self) -> int:
        if not self._maps:
            return LOCAL_CHECKPOINT
        return max(LOCAL_CHECKPOINT, min(MAP_WAVES * max(self._maps), MAP_CHECKPOINT_MAX))
