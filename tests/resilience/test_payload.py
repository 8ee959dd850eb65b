"""Oversized inputs and results fail at once, naming the step or workflow and the size."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import temporalio.service

from beluga_temporal import (
    Chain,
    ConfigurationError,
    ExecutionError,
    Graph,
    GraphExecutionError,
    LocalRuntime,
    Orchestrator,
    StepFailedError,
    step,
)
from beluga_temporal.resilience import (
    DEFAULT_PAYLOAD_SIZE_LIMIT,
    PayloadTooLargeError,
    payload_size_limit,
    set_payload_size_limit,
)
from beluga_temporal.testing import run_with_worker

MIB = 1024 * 1024
ATTEMPTS: Counter[str] = Counter()


@step
async def render_report(value: dict[str, int]) -> str:
    ATTEMPTS["render_report"] += 1
    return "x" * (3 * MIB)


@step
async def half_a(state: dict[str, Any]) -> dict[str, str]:
    return {"a": "a" * (MIB + MIB // 4)}  # each part fits; the two together do not


@step
async def half_b(state: dict[str, Any]) -> dict[str, str]:
    return {"b": "b" * (MIB + MIB // 4)}


@step
async def combine(state: dict[str, Any]) -> dict[str, int]:
    return {"total": len(state["a"]) + len(state["b"])}


@step
async def echo(value: dict[str, Any]) -> dict[str, Any]:
    return value


@pytest.fixture
def restore_limit() -> Iterator[None]:
    yield
    set_payload_size_limit(None)


async def test_oversized_start_input_fails_before_starting(
    dev_runtime: LocalRuntime, task_queue: str
) -> None:
    chain = Chain("payload-start", steps=[echo])
    orch = Orchestrator(dev_runtime.client, task_queue)
    workflow_id = f"big-start-{uuid.uuid4()}"
    with pytest.raises(PayloadTooLargeError) as caught:
        await orch.start(chain, {"blob": "x" * (3 * MIB)}, workflow_id=workflow_id)
    message = str(caught.value)
    assert "input of workflow 'payload-start'" in message
    assert workflow_id in message
    assert caught.value.size > 3 * MIB
    assert caught.value.limit == DEFAULT_PAYLOAD_SIZE_LIMIT
    assert "3.00 MiB" in message
    with pytest.raises(temporalio.service.RPCError):  # nothing was started
        await dev_runtime.client.get_workflow_handle(workflow_id).describe()


async def test_oversized_step_result_fails_the_step_without_retrying(
    dev_runtime: LocalRuntime, task_queue: str
) -> None:
    chain = Chain("payload-result", steps=[render_report], retries=3, retry_delay=0.05)
    with pytest.raises(StepFailedError) as caught:
        await run_with_worker(dev_runtime.client, task_queue, chain, {"n": 1})
    assert caught.value.step == "render_report"
    assert caught.value.error_type == "PayloadTooLargeError"
    assert "result of step 'render_report' is 3.00 MiB" in caught.value.cause_message
    assert ATTEMPTS["render_report"] == 1


async def test_oversized_step_input_fails_the_run_instead_of_sticking(
    dev_runtime: LocalRuntime, task_queue: str
) -> None:
    graph = Graph("payload-merge", on_error="fail_fast")
    graph.add_node("half_a", half_a)
    graph.add_node("half_b", half_b)
    graph.add_node("combine", combine)
    graph.add_edge("half_a", "combine")
    graph.add_edge("half_b", "combine")
    graph.set_entry_point(["half_a", "half_b"])
    with pytest.raises(GraphExecutionError) as caught:
        # The bound only keeps a regression from hanging the suite: a stuck
        # workflow task would end in RunTimeoutError, not GraphExecutionError.
        await run_with_worker(dev_runtime.client, task_queue, graph, {}, execution_timeout=30)
    assert caught.value.node == "combine"
    assert caught.value.error_type == "PayloadTooLargeError"
    assert "input of step 'combine' is 2.50 MiB" in caught.value.error


async def test_limit_is_overridable(
    dev_runtime: LocalRuntime, task_queue: str, restore_limit: None
) -> None:
    set_payload_size_limit(1000)
    assert payload_size_limit() == 1000
    with pytest.raises(
        PayloadTooLargeError, match=r"over the payload limit of 0\.00 MiB \(1000 bytes\)"
    ):
        await Orchestrator(dev_runtime.client, task_queue).start(echo.name, {"x": "y" * 2000})
    with pytest.raises(ConfigurationError):
        set_payload_size_limit(0)


def test_payload_error_is_a_beluga_error() -> None:
    error = PayloadTooLargeError("result of step 's'", 3 * MIB, 2 * MIB)
    assert not isinstance(error, ExecutionError)
    assert "store large data elsewhere and pass a reference" in str(error)


async def test_oversized_run_result_fails_the_run_naming_the_workflow(
    dev_runtime: LocalRuntime, task_queue: str
) -> None:
    graph = Graph("payload-final")  # each node's output fits; the merged state does not
    graph.add_node("half_a", half_a)
    graph.add_node("half_b", half_b)
    graph.set_entry_point(["half_a", "half_b"])
    with pytest.raises(ExecutionError) as caught:
        await run_with_worker(dev_runtime.client, task_queue, graph, {}, execution_timeout=30)
    assert "PayloadTooLargeError" in str(caught.value)
    assert "result of workflow 'payload-final' is 2.50 MiB" in str(caught.value)


async def test_a_start_input_that_fits_only_before_encryption_is_refused(
    dev_runtime: LocalRuntime, task_queue: str
) -> None:
    # The input is converted once and measured; near the limit it is measured as sent,
    # after the codec (encryption adds about 100 bytes).
    from temporalio.api.common.v1 import Payloads
    from temporalio.contrib.pydantic import pydantic_data_converter

    from beluga_temporal import BelugaPlugin
    from beluga_temporal.security import EncryptionCodec

    def value(size: int) -> dict[str, str]:
        return {"blob": "x" * size}

    empty = pydantic_data_converter.payload_converter.to_payloads([value(0)])
    overhead = Payloads(payloads=empty).ByteSize()
    fits_plain = value(DEFAULT_PAYLOAD_SIZE_LIMIT - overhead - 10)
    plain = Orchestrator(dev_runtime.client, task_queue)
    sealed = await Orchestrator.connect(
        dev_runtime.client.service_client.config.target_host,
        task_queue=task_queue,
        plugins=[BelugaPlugin(payload_codec=EncryptionCodec(b"k" * 32))],
    )
    chain = Chain("payload-near-limit", steps=[echo])
    with pytest.raises(PayloadTooLargeError) as caught:
        await sealed.start(chain, fits_plain)
    assert caught.value.size > DEFAULT_PAYLOAD_SIZE_LIMIT
    run = await plain.start(chain, fits_plain)  # no worker: it only has to be accepted
    await plain.terminate(run.workflow_id)


@pytest.mark.parametrize("size", [0, 1, 100, 127, 128, 16_383, 16_384, MIB, 3 * MIB])
def test_encoded_size_is_what_protobuf_measures(size: int) -> None:
    from temporalio.api.common.v1 import Payload, Payloads

    from beluga_temporal.resilience._payload import encoded_size

    payloads = [Payload(metadata={"encoding": b"json/plain"}, data=b"x" * size)] * 2
    assert encoded_size(payloads) == Payloads(payloads=payloads).ByteSize()
    assert encoded_size([]) == 0
