"""Where a run in local mode pauses to end its workflow task (checkpoint rule 2).

Rule 2 pauses a map node once per five times its concurrency (not every 200 items),
bounds the result bytes one workflow task records, and pauses batch children too.
Runs started under rule 1 (before) replay with rule 1: their recorded histories here
were recorded at commit cd2859d (`python -m tests.engine.checkpoints`).
"""

from __future__ import annotations

from typing import Any

import pytest
import temporalio.client
import temporalio.workflow
from temporalio.api.enums.v1 import EventType
from temporalio.worker import Replayer

from beluga_temporal import BelugaPlugin, LocalRuntime, Orchestrator, create_worker
from beluga_temporal.engine import MapBatch
from beluga_temporal.plan import RunDefaults, StartContext
from tests.engine import checkpoints as cp
from tests.engine import histories as hx

MEBIBYTE = 1024 * 1024
"""The bound on the results one workflow task records (`engine._checkpoints`)."""


def _marker_bytes_per_task(history: temporalio.client.WorkflowHistory) -> list[int]:
    """Bytes of local-activity results each workflow task recorded."""
    tasks: list[int] = []
    for event in history.events:
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
            tasks.append(0)
        elif event.event_type == EventType.EVENT_TYPE_MARKER_RECORDED:
            details = event.marker_recorded_event_attributes.details
            tasks[-1] += details["result"].ByteSize()
    return tasks


async def _run(rt: LocalRuntime, queue: str, target: Any, value: Any) -> tuple[Any, str]:
    orch = Orchestrator(rt.client, queue)
    async with create_worker(rt.client, queue, targets=[target]):
        run = await orch.start(target, value)
        return await orch.result(run.workflow_id, run.run_id), run.workflow_id


async def _history(rt: LocalRuntime, workflow_id: str) -> temporalio.client.WorkflowHistory:
    return await rt.client.get_workflow_handle(workflow_id).fetch_history()


@pytest.mark.parametrize(
    ("name", "target"),
    [
        ("local_map_wide", cp.WIDE_MAP),
        ("local_map_batched", cp.BATCHED_MAP),
        ("local_map_batched_batch-0", cp.BATCHED_MAP),
        ("local_chain_big_results", cp.BIG_RESULTS),
    ],
)
async def test_histories_recorded_under_rule_1_replay(name: str, target: Any) -> None:
    replayer = Replayer(workflows=[target.workflow, MapBatch], plugins=[BelugaPlugin()])
    await replayer.replay_workflow(cp.load(name))


def test_runs_started_before_rule_2_keep_rule_1() -> None:
    recorded = {"plan": "p", "defaults": {"max_workers": 10}}  # written before rule 2
    context = StartContext.from_json(recorded)
    assert context is not None
    assert context.defaults.checkpoint_rule == 1
    assert RunDefaults().checkpoint_rule == 2
    assert RunDefaults.from_json(RunDefaults().to_json()).checkpoint_rule == 2


def test_batches_run_unsandboxed() -> None:
    definition = temporalio.workflow._Definition.from_class(MapBatch)
    assert definition is not None
    assert definition.sandboxed is False


async def test_a_local_map_node_pauses_once_per_five_waves(
    dev_runtime: LocalRuntime, task_queue: str
) -> None:
    # 100 in flight: a pause after 500 items (rule 1 paused after every 200).
    g = cp.local_map("local-map-waves", cp.square, concurrency=100)
    numbers = list(range(1000))
    result, workflow_id = await _run(dev_runtime, task_queue, g, {"numbers": numbers})
    assert result["mapped"] == [n * n for n in numbers]
    events = hx.event_names(await _history(dev_runtime, workflow_id))
    assert events.count("MARKER_RECORDED") == 1000
    assert events.count("TIMER_STARTED") == 1, events.count("TIMER_STARTED")
    assert "WORKFLOW_TASK_TIMED_OUT" not in events


async def test_a_local_batch_pauses_like_its_parent(
    dev_runtime: LocalRuntime, task_queue: str
) -> None:
    g = cp.local_map("local-batch-pauses", cp.square, concurrency=100, batch=700)
    numbers = list(range(700))
    result, workflow_id = await _run(dev_runtime, task_queue, g, {"numbers": numbers})
    assert result["mapped"] == [n * n for n in numbers]
    child = hx.event_names(await _history(dev_runtime, f"{workflow_id}/mapped/batch-0"))
    assert child.count("MARKER_RECORDED") == 700
    assert child.count("TIMER_STARTED") >= 1  # rule 1: none, all 700 in one task


@pytest.mark.parametrize(
    ("target", "value"),
    [
        (cp.BIG_RESULTS, 7),
        (cp.local_map("local-map-big-results", cp.kilobytes, concurrency=20), None),
    ],
)
async def test_one_workflow_task_records_about_a_mebibyte_of_results(
    dev_runtime: LocalRuntime, task_queue: str, target: Any, value: Any
) -> None:
    # 40 results of 40 KB: rule 1 recorded all 1.6 MB in one workflow task.
    value = {"numbers": list(range(40))} if value is None else value
    _, workflow_id = await _run(dev_runtime, task_queue, target, value)
    per_task = _marker_bytes_per_task(await _history(dev_runtime, workflow_id))
    assert sum(per_task) > 1_600_000
    # The last result launched may pass the bound (it is projected, not known).
    assert max(per_task) <= MEBIBYTE + 41_000, per_task
