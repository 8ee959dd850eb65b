"""pytest fixtures: one embedded Temporal server per kind per session, a queue per test.

Enable with `pytest_plugins = ["beluga_temporal.testing.pytest_plugin"]` in `conftest.py`.
Async fixtures run on the session event loop (pytest-asyncio), so set
`asyncio_default_fixture_loop_scope = "session"` and
`asyncio_default_test_loop_scope = "session"`.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from beluga_temporal.local import LocalRuntime


@pytest_asyncio.fixture(scope="session")
async def time_skipping_runtime() -> AsyncIterator[LocalRuntime]:
    """The time-skipping test server, started once per session."""
    async with LocalRuntime(kind="time-skipping") as runtime:
        yield runtime


@pytest_asyncio.fixture(scope="session")
async def dev_runtime() -> AsyncIterator[LocalRuntime]:
    """The Temporal CLI dev server (real time), started once per session."""
    async with LocalRuntime(kind="dev") as runtime:
        yield runtime


@pytest.fixture
def task_queue(request: pytest.FixtureRequest) -> str:
    """A fresh task queue per test, so tests never steal each other's tasks."""
    return f"test-{request.node.name[:40]}-{uuid.uuid4().hex[:8]}"
