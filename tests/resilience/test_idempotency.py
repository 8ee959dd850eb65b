"""Idempotency keys on a real server: one per scheduled step of one run, never reused.

Activity ids are sequence numbers that restart with every run, so a key made of the
workflow id and the activity id alone collides between two runs under one workflow id
(an order re-run under its id) and between a run and its continue-as-new continuation.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from typing import Any

from temporalio import workflow

from beluga_temporal import Chain, LocalRuntime, Orchestrator, RetryPolicy, create_worker, step
from beluga_temporal.resilience import StepContext, step_context

SEEN: dict[str, list[StepContext]] = defaultdict(list)


@step(retry=RetryPolicy(max_attempts=2, initial_backoff=0.05))
async def charge_flaky(value: dict[str, Any]) -> dict[str, Any]:
    """Record the context of every attempt; the first attempt of each run fails."""
    ctx = step_context()
    SEEN[ctx.workflow_id].append(ctx)
    if ctx.attempt == 1:
        raise ConnectionError("reply lost after the charge")
    return {"key": ctx.idempotency_key}


@workflow.defn(name="idempotency-continues-once")
class ContinuesOnce:
    """Run `charge_flaky`, then continue as new once and run it again."""

    @workflow.run
    async def run(self, continued: bool) -> dict[str, Any]:
        result: dict[str, Any] = await charge_flaky.execute({"continued": continued})
        if not continued:
            workflow.continue_as_new(True)
        return result


async def test_two_runs_under_one_workflow_id_get_different_keys(
    time_skipping_runtime: LocalRuntime, task_queue: str
) -> None:
    chain = Chain("idempotency-rerun-chain", steps=[charge_flaky])
    workflow_id = f"order-{uuid.uuid4()}"  # the order id as workflow id, re-run after a failure
    orch = Orchestrator(time_skipping_runtime.client, task_queue)
    async with create_worker(time_skipping_runtime.client, task_queue, targets=[chain]):
        first = await orch.start(chain, {"amount": 10}, workflow_id=workflow_id)
        await orch.result(first.workflow_id, first.run_id)
        second = await orch.start(chain, {"amount": 25}, workflow_id=workflow_id)
        await orch.result(second.workflow_id, second.run_id)

    contexts = SEEN[workflow_id]
    assert [(c.run_id, c.attempt) for c in contexts] == [
        (first.run_id, 1),
        (first.run_id, 2),
        (second.run_id, 1),
        (second.run_id, 2),
    ]
    keys = [c.idempotency_key for c in contexts]
    assert keys[0] == keys[1]  # retries of one scheduled step keep one key
    assert keys[2] == keys[3]
    assert keys[0] != keys[2]  # the second run's charge is not deduplicated away
    assert contexts[0].activity_id == contexts[2].activity_id  # what made the old keys collide
    assert keys[0] == f"{workflow_id}/{first.run_id}/{contexts[0].activity_id}"


async def test_a_continuation_gets_new_keys(time_skipping_runtime: LocalRuntime) -> None:
    workflow_id = f"continues-{uuid.uuid4()}"
    result = await time_skipping_runtime.execute(
        ContinuesOnce, False, activities=[charge_flaky], workflow_id=workflow_id
    )
    contexts = SEEN[workflow_id]
    assert len(contexts) == 4  # two attempts in each of the two runs
    before, after = contexts[1], contexts[3]
    assert len({before.run_id, after.run_id}) == 2
    assert before.activity_id == after.activity_id
    assert contexts[0].idempotency_key == before.idempotency_key
    assert contexts[2].idempotency_key == after.idempotency_key
    assert before.idempotency_key != after.idempotency_key
    assert result == {"key": after.idempotency_key}
