"""Chains on real Temporal servers: data flow, retries, errors, timeouts, local steps."""

from __future__ import annotations

import uuid

import pytest
from temporalio.client import Client

from beluga_temporal import (
    Chain,
    LocalRuntime,
    Orchestrator,
    RunTimeoutError,
    StepFailedError,
    WorkflowAlreadyStartedError,
    create_worker,
)
from beluga_temporal.testing import run_with_worker
from tests.examples import (
    ATTEMPTS,
    Order,
    Receipt,
    always_fails,
    deny_credit,
    flaky,
    local_tag,
    order_chain,
    recover,
    slow,
    validate_order,
)


@pytest.fixture(params=["time_skipping_runtime", "dev_runtime"])
def runtime(request: pytest.FixtureRequest) -> LocalRuntime:
    rt: LocalRuntime = request.getfixturevalue(request.param)
    return rt


async def test_three_step_chain_with_models(runtime: LocalRuntime, task_queue: str) -> None:
    order = Order(order_id="o-1", amount=10, items=["book"])
    result = await run_with_worker(runtime.client, task_queue, order_chain, order)
    assert result == Receipt(order_id="o-1", charged=12.0, status="charged")


async def test_step_failing_twice_is_attempted_exactly_three_times(
    time_skipping_runtime: LocalRuntime, task_queue: str
) -> None:
    chain = Chain("flaky-chain", steps=[flaky])
    workflow_id = f"flaky-{uuid.uuid4()}"
    orch = Orchestrator(time_skipping_runtime.client, task_queue)
    async with create_worker(time_skipping_runtime.client, task_queue, targets=[chain]):
        result = await orch.execute(chain, {"n": 1}, workflow_id=workflow_id)
        progress = await orch.progress(workflow_id)  # queries need a worker
    assert result == {"n": 1, "attempts": 3}
    assert ATTEMPTS[("flaky", workflow_id)] == 3
    assert progress.nodes["flaky"].attempts == 3  # the run's progress shows the retries


async def test_non_retryable_error_is_attempted_once(
    time_skipping_runtime: LocalRuntime, task_queue: str
) -> None:
    chain = Chain("deny-chain", steps=[deny_credit])
    workflow_id = f"deny-{uuid.uuid4()}"
    with pytest.raises(StepFailedError) as caught:
        await run_with_worker(
            time_skipping_runtime.client, task_queue, chain, {"n": 1}, workflow_id=workflow_id
        )
    assert caught.value.step == "deny_credit"
    assert caught.value.error_type == "CreditDenied"
    assert "credit limit exceeded" in str(caught.value)
    assert ATTEMPTS[("deny_credit", workflow_id)] == 1


async def test_invalid_input_fails_at_once_naming_the_field(
    time_skipping_runtime: LocalRuntime, task_queue: str
) -> None:
    with pytest.raises(StepFailedError) as caught:
        await run_with_worker(
            time_skipping_runtime.client, task_queue, order_chain, {"order_id": "o-2", "amount": -1}
        )
    assert caught.value.step == "validate_order"
    assert caught.value.error_type == "InputValidationError"
    assert "amount" in caught.value.cause_message
    history = await time_skipping_runtime.client.get_workflow_handle(
        caught.value.workflow_id or ""
    ).fetch_history()
    started = [e for e in history.events if e.HasField("activity_task_started_event_attributes")]
    assert [e.activity_task_started_event_attributes.attempt for e in started] == [1]


async def test_on_error_handler_recovers(
    time_skipping_runtime: LocalRuntime, task_queue: str
) -> None:
    chain = Chain("recovering-chain", steps=[always_fails], on_error=recover)
    result = await run_with_worker(time_skipping_runtime.client, task_queue, chain, {"n": 1})
    assert result == {
        "recovered_from": "always_fails",
        "error_type": "RuntimeError",
        "message": "boom",
    }


async def test_chain_retries_default_applies_to_steps_without_policy(
    time_skipping_runtime: LocalRuntime, task_queue: str
) -> None:
    plain = always_fails.with_options(retry=None)
    chain = Chain("retries-chain", steps=[plain], retries=4, retry_delay=0.01)
    workflow_id = f"retries-{uuid.uuid4()}"
    with pytest.raises(StepFailedError):
        await run_with_worker(
            time_skipping_runtime.client, task_queue, chain, {"n": 1}, workflow_id=workflow_id
        )
    assert ATTEMPTS[("always_fails", workflow_id)] == 4


async def test_chain_timeout_bounds_the_whole_run(
    dev_runtime: LocalRuntime, task_queue: str
) -> None:
    chain = Chain("timeout-chain", steps=[slow], timeout=1)
    with pytest.raises(RunTimeoutError) as caught:
        await run_with_worker(dev_runtime.client, task_queue, chain, {"sleep": 10})
    assert caught.value.timeout_kind == "execution"


async def test_local_steps_run_as_local_activities(runtime: LocalRuntime, task_queue: str) -> None:
    chain = Chain("local-chain", steps=[local_tag])
    result = await run_with_worker(runtime.client, task_queue, chain, {"n": 1})
    assert result == {"n": 1, "local": True}


async def test_chain_declared_in_a_function_runs_sandboxed(
    time_skipping_runtime: LocalRuntime, task_queue: str
) -> None:
    chain = Chain("inline-chain").add_step(validate_order).add_step(local_tag)
    assert chain.step_count == 2
    result = await run_with_worker(
        time_skipping_runtime.client,
        task_queue,
        chain,
        {"order_id": "x", "amount": 1, "items": ["a"]},
    )
    assert result == {"order_id": "x", "amount": 1.0, "items": ["a"], "local": True}


async def test_start_by_type_name_with_json_through_plain_client(
    time_skipping_runtime: LocalRuntime, task_queue: str
) -> None:
    target = time_skipping_runtime.environment.client.service_client.config.target_host
    plain = await Client.connect(target)  # default JSON converter, no beluga plugin
    async with create_worker(time_skipping_runtime.client, task_queue, targets=[order_chain]):
        result = await plain.execute_workflow(
            "test-order-chain",
            {"order_id": "o-3", "amount": 5, "items": ["pen"]},
            id=f"plain-{uuid.uuid4()}",
            task_queue=task_queue,
        )
    assert result == {"order_id": "o-3", "charged": 6.0, "status": "charged"}


async def test_starting_a_running_workflow_id_fails_clearly(
    dev_runtime: LocalRuntime, task_queue: str
) -> None:
    chain = Chain("dup-chain", steps=[slow])
    orch = Orchestrator(dev_runtime.client, task_queue)
    workflow_id = f"dup-{uuid.uuid4()}"
    run1 = await orch.start(chain, {"sleep": 30}, workflow_id=workflow_id)
    try:
        with pytest.raises(WorkflowAlreadyStartedError, match=workflow_id):
            await orch.start(chain, {"sleep": 30}, workflow_id=workflow_id)
    finally:
        await dev_runtime.client.get_workflow_handle(workflow_id, run_id=run1.run_id).terminate()


async def test_create_workflow_execute_and_get_result(
    time_skipping_runtime: LocalRuntime, task_queue: str
) -> None:
    orch = Orchestrator(time_skipping_runtime.client, task_queue)
    async with create_worker(time_skipping_runtime.client, task_queue, targets=[order_chain]):
        wf = orch.create_workflow(order_chain, workflow_id=f"my-workflow-{uuid.uuid4()}")
        workflow_id, run_id = await wf.start(Order(order_id="o-4", amount=1, items=["a"]))
        result = await wf.get_result(workflow_id, run_id)
        # The Beluga documents' spelling: `execute` starts too, returning ids at once.
        seed_style = orch.create_workflow(order_chain, workflow_id=f"my-workflow-{uuid.uuid4()}")
        started = await seed_style.execute(Order(order_id="o-5", amount=2, items=["a"]))
        assert started.workflow_id == seed_style.workflow_id
        assert started.run_id
        second = await seed_style.get_result(*started)
    assert result == Receipt(order_id="o-4", charged=1.2, status="charged")
    assert second == Receipt(order_id="o-5", charged=2.4, status="charged")
