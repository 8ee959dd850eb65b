"""Eager workflow start: in-process starters hand the first workflow task to their worker.

`LocalRuntime`, `invoke()` and `beluga run --local` host the worker of the queue they
start on, so they ask for eager start; the dev server (started with
`system.enableEagerWorkflowStart=true`) accepts, which the run's first history event
records. A starter without a worker for the queue never asks.
"""

from __future__ import annotations

import json
import uuid

import pytest
from click.testing import CliRunner
from temporalio.worker import Replayer

from beluga_temporal import BelugaPlugin, Chain, LocalRuntime, Orchestrator, create_worker
from beluga_temporal.cli import cli
from beluga_temporal.local import shared_runtime, shutdown_shared_runtime
from tests.local import eager_probe


async def _accepted(runtime: LocalRuntime, workflow_id: str) -> bool:
    handle = runtime.client.get_workflow_handle(workflow_id)
    async for event in handle.fetch_history_events():
        return event.workflow_execution_started_event_attributes.eager_execution_accepted
    raise AssertionError("no history")


@pytest.mark.parametrize("target", [eager_probe.probe, eager_probe.remote_probe])
async def test_local_runtime_starts_eagerly_and_the_run_replays(
    dev_runtime: LocalRuntime, target: Chain
) -> None:
    handle = await dev_runtime.start(target, None)
    assert getattr(handle, "__temporal_eagerly_started") is True  # the start response
    assert await handle.result() == {"eager": True}
    history = await handle.fetch_history()
    replayer = Replayer(
        workflows=[eager_probe.probe.workflow, eager_probe.remote_probe.workflow],
        plugins=[BelugaPlugin()],
    )
    await replayer.replay_workflow(history)


async def test_local_runtime_execute_starts_eagerly(dev_runtime: LocalRuntime) -> None:
    workflow_id = f"eager-execute-{uuid.uuid4().hex[:8]}"
    assert await dev_runtime.execute(eager_probe.probe, None, workflow_id=workflow_id) == {
        "eager": True
    }
    assert await _accepted(dev_runtime, workflow_id)


async def test_invoke_starts_eagerly() -> None:
    workflow_id = f"eager-invoke-{uuid.uuid4().hex[:8]}"
    try:
        result = await eager_probe.probe.invoke(None, workflow_id=workflow_id)
        runtime = await shared_runtime()
        assert runtime.kind == "dev"
        assert await _accepted(runtime, workflow_id)
    finally:
        await shutdown_shared_runtime()
    assert result == {"eager": True}


def test_beluga_run_local_starts_eagerly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BELUGA_LOCAL__KIND", "dev")
    result = CliRunner().invoke(cli, ["run", "tests.local.eager_probe:probe", "--local"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"eager": True}


async def test_a_starter_without_a_worker_never_starts_eagerly(
    dev_runtime: LocalRuntime, task_queue: str
) -> None:
    # The worker runs in this process but on another client: the starter's client
    # hosts no worker for the queue, so it must not ask (and the server gets no
    # first workflow task it would hand to nobody).
    other = await Orchestrator.connect(
        dev_runtime.client.service_client.config.target_host, task_queue=task_queue
    )
    async with create_worker(other.client, task_queue, targets=[eager_probe.probe]):
        orch = Orchestrator(dev_runtime.client, task_queue)
        handle = await orch.start_handle(eager_probe.probe, None)
        assert getattr(handle, "__temporal_eagerly_started") is False
        assert await handle.result() == {"eager": False}
        # The default of Orchestrator is not to ask, even on the client of a worker.
        hosted = Orchestrator(other.client, task_queue)
        assert await hosted.execute(eager_probe.probe, None) == {"eager": False}
