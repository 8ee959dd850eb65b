"""`beluga run`, `beluga result` and `beluga watch` see a continued run as one run.

Issue 11.2: the bound on events is forced low (`BELUGA_ORCHESTRATION__HISTORY__MAX_EVENTS`
for `beluga run`, which starts the run; this process's settings for runs it starts),
so the 30-step chain continues as new a few times. The worker runs in this process.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator

import pytest

from beluga_temporal import LocalRuntime, Orchestrator, create_worker
from beluga_temporal.plan import process_defaults
from tests.cli.cli_subprocess import beluga
from tests.engine import long_runs as lr
from tests.engine.continued_app import chain

BOUND = "60"
"""Events per Temporal run: the 30-step chain takes about 3."""


@pytest.fixture
def low_bound(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Runs this process starts continue as new after `BOUND` events."""
    monkeypatch.setenv("BELUGA_ORCHESTRATION__HISTORY__MAX_EVENTS", BOUND)
    process_defaults.cache_clear()
    yield
    process_defaults.cache_clear()


async def runs_of(runtime: LocalRuntime, workflow_id: str) -> int:
    """How many Temporal runs the beluga run `workflow_id` took."""
    latest = await runtime.client.get_workflow_handle(workflow_id).fetch_history()
    first = latest.events[0].workflow_execution_started_event_attributes.first_execution_run_id
    return len(await lr.run_histories(runtime.client, workflow_id, first))


async def test_run_result_and_watch_follow_a_run_across_continuations(
    dev_runtime: LocalRuntime, task_queue: str, low_bound: None
) -> None:
    run_id = f"cli-continued-run-{uuid.uuid4().hex[:8]}"
    orch = Orchestrator(dev_runtime.client, task_queue)
    async with create_worker(dev_runtime.client, task_queue, targets=[chain]):
        started = await orch.start(chain, 0)  # followed from its FIRST Temporal run
        first = ("--run-id", started.run_id)
        ran, result, watched = await asyncio.gather(
            beluga(
                dev_runtime,
                *("run", "tests.engine.continued_app:chain", "-q", task_queue),
                *("-i", "0", "--id", run_id),
                BELUGA_ORCHESTRATION__HISTORY__MAX_EVENTS=BOUND,
            ),
            beluga(dev_runtime, "result", started.workflow_id, *first),
            beluga(dev_runtime, "watch", started.workflow_id, *first),
        )
    assert ran.code == 0, ran
    assert json.loads(ran.out) == 30
    assert await runs_of(dev_runtime, run_id) >= 2, "`beluga run`'s run never continued"

    assert await runs_of(dev_runtime, started.workflow_id) >= 2, "the run never continued"
    assert result.code == 0, result
    assert json.loads(result.out) == 30

    assert watched.code == 0, watched
    lines = watched.out.splitlines()
    assert lines[0].startswith("chain 'continued-chain' — completed"), watched
    # Every step of the whole run, those of earlier continuations included.
    assert sum(" succeeded " in line for line in lines) == 30, watched
    assert not any(" pending " in line or " running " in line for line in lines), watched
