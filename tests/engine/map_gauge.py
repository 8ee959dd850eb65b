"""A step that records how many map items run at once (module level: histories replay).

The map-concurrency tests run their worker in this process, so the step can count the
items in flight in a shared, in-process gauge. Each item stays in flight until the
gauge has been full (`limit` items in flight, or every item started) for `HOLD`
seconds: the peak is then what the scheduler allows, whatever the machine's speed,
and an item scheduled beyond the bound has that long to show up. A deadline keeps a
scheduler that allows fewer items from hanging the test (its peak is just lower).
"""

from __future__ import annotations

import asyncio
import dataclasses
import time

from beluga_temporal import step

HOLD = 0.2
"""Seconds items stay in flight once the gauge is full."""
FULL_WAIT = 5.0
"""Most seconds an item waits for the gauge to fill."""


@dataclasses.dataclass
class Gauge:
    """Items in flight now, at most so far, and started so far."""

    limit: int = 1
    total: int = 0
    running: int = 0
    peak: int = 0
    started: int = 0
    full: int = 0
    """Items started when the gauge last filled: they may finish after `HOLD`."""
    full_at: float = 0.0

    def reset(self, limit: int, total: int) -> None:
        """Start counting a run of `total` items allowed `limit` at a time."""
        self.limit, self.total = limit, total
        self.running = self.peak = self.started = self.full = 0

    async def hold(self) -> None:
        """Count one item in flight until the gauge has been full for `HOLD` seconds."""
        self.running += 1
        self.started += 1
        me = self.started
        self.peak = max(self.peak, self.running)
        if self.running >= self.limit or self.started >= self.total:
            # A latch, not a test of `running`: the first item to leave must not make
            # the others wait for the gauge to fill again.
            self.full, self.full_at = self.started, time.monotonic()
        deadline = time.monotonic() + FULL_WAIT
        try:
            while time.monotonic() < deadline:  # polling a condition, with a deadline
                if me <= self.full and time.monotonic() >= self.full_at + HOLD:
                    break
                await asyncio.sleep(0.005)
        finally:
            self.running -= 1


GAUGE = Gauge()


@step
async def gauged_double(item: int) -> int:
    """Double `item` while it counts as in flight."""
    await GAUGE.hold()
    return 2 * item
