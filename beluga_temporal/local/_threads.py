"""Wait for threads Python did not start to leave the interpreter.

Temporal's Rust core hands results to Python from its own threads. One still inside
Python when the interpreter finalizes aborts the process with "PyGILState_Release:
thread state must be current when releasing" (temporalio/sdk-python issue 300): the
last result of a shutdown is handed over (`call_soon_threadsafe`), the caller goes on
to exit, and the handing thread, which let go of the GIL to write to the loop's wakeup
socket, wants it back after finalization began. Before a runtime reports itself stopped
it waits until no such thread runs Python code (bounded; it takes microseconds).
"""

from __future__ import annotations

import asyncio
import sys
import threading
import time

DRAIN_TIMEOUT = 1.0


def _foreign_threads_in_python() -> bool:
    ours = {thread.ident for thread in threading.enumerate()}
    return bool(set(sys._current_frames()) - ours)


def wait_for_foreign_threads(timeout: float = DRAIN_TIMEOUT) -> None:
    """Block until no foreign thread runs Python code, or `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while _foreign_threads_in_python() and time.monotonic() < deadline:
        time.sleep(0.002)


async def foreign_threads_left(timeout: float = DRAIN_TIMEOUT) -> None:
    """`wait_for_foreign_threads` for event loops."""
    deadline = time.monotonic() + timeout
    while _foreign_threads_in_python() and time.monotonic() < deadline:  # noqa: ASYNC110 - no event to wait on: foreign threads signal nothing
        await asyncio.sleep(0.002)
