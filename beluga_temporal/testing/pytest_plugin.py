"""pytest fixtures for beluga: embedded Temporal servers, task queues, containers.

Installed with beluga-temporal as a pytest plugin (entry point `beluga`): no conftest
needed. One server per kind per session, a fresh task queue per test:

```python
async def test_order_graph(dev_runtime, task_queue):
    result = await run_with_worker(dev_runtime.client, task_queue, order_graph, order)
```

The async fixtures run on the session event loop (pytest-asyncio): set
`asyncio_default_fixture_loop_scope = "session"` and `asyncio_default_test_loop_scope =
"session"` in your pytest configuration.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator

import pytest
import pytest_asyncio

from beluga_temporal.local import LocalRuntime
from beluga_temporal.testing._container import docker_unavailable
from beluga_temporal.testing._container import temporal_container as _container


@pytest_asyncio.fixture(scope="session")
async def time_skipping_runtime() -> AsyncIterator[LocalRuntime]:
    """The time-skipping test server (timers skip ahead), started once per session."""
    async with LocalRuntime(kind="time-skipping") as runtime:
        yield runtime


@pytest_asyncio.fixture(scope="session")
async def dev_runtime() -> AsyncIterator[LocalRuntime]:
    """The Temporal CLI dev server (real time, real limits), started once per session."""
    async with LocalRuntime(kind="dev") as runtime:
        yield runtime


@pytest.fixture
def task_queue(request: pytest.FixtureRequest) -> str:
    """A fresh task queue per test, so tests never steal each other's tasks."""
    return f"test-{request.node.name[:40]}-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="session")
def temporal_container() -> Iterator[str]:
    """Temporal's server image run by testcontainers; yields its `host:port`.

    Skipped, with the reason, where no Docker engine answers.
    """
    reason = docker_unavailable()
    if reason is not None:
        pytest.skip(f"temporal_container needs a Docker engine: {reason}")
    with _container() as address:
        yield address
