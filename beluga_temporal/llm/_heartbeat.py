"""Heartbeat while a long model call is in flight (only inside an activity)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import timedelta

import temporalio.activity

__all__ = ["heartbeating"]

_DEFAULT_INTERVAL = timedelta(seconds=10)
_MIN_INTERVAL = timedelta(milliseconds=100)


def _interval() -> timedelta:
    # A third of the heartbeat timeout leaves room for two missed beats before it fires.
    timeout = temporalio.activity.info().heartbeat_timeout
    if timeout is None:
        return _DEFAULT_INTERVAL
    return max(timeout / 3, _MIN_INTERVAL)


async def _beat(every: float) -> None:
    while True:
        temporalio.activity.heartbeat()
        await asyncio.sleep(every)


@contextlib.asynccontextmanager
async def heartbeating() -> AsyncIterator[None]:
    """Heartbeat periodically until the block exits; a no-op outside activities.

    Heartbeats let a `heartbeat_timeout` detect a stuck call early and let activity
    cancellation reach the waiting coroutine.
    """
    if not temporalio.activity.in_activity():
        yield
        return
    task = asyncio.create_task(_beat(_interval().total_seconds()))
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
