import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import timedelta

import pytest
import temporalio.activity
import temporalio.worker
import temporalio.workflow
from opentelemetry.trace import Status, StatusCode
from temporalio.testing import WorkflowEnvironment

from beluga_temporal.local._binaries import test_server_path as find_test_server
from beluga_temporal.observability import REDACTED, Observability, setup_observability
from beluga_temporal.testing import OTLPReceiver, ReceivedSpan

from .conftest import settings_for


def named(name: str) -> Callable[[list[ReceivedSpan]], bool]:
    return lambda spans: any(s.name == name for s in spans)


def test_spans_arrive_decoded_with_parent_links(
    observability: Observability, receiver: OTLPReceiver
) -> None:
    tracer = observability.tracer()
    with (
        tracer.start_as_current_span("graph order-processing", attributes={"workflow.steps": 6}),
        tracer.start_as_current_span("node validate") as child,
    ):
        child.set_status(Status(StatusCode.ERROR, "bad order"))
    assert observability.force_flush()

    spans = {s.name: s for s in receiver.wait_for_spans(named("node validate"))}
    root, node = spans["graph order-processing"], spans["node validate"]
    assert root.parent_span_id is None
    assert node.parent_span_id == root.span_id
    assert node.trace_id == root.trace_id
    assert root.attributes == {"workflow.steps": 6}
    assert (node.status, node.status_message) == ("ERROR", "bad order")
    assert root.resource["service.name"] == "beluga"


def test_secrets_and_prompts_never_reach_the_collector(
    observability: Observability, receiver: OTLPReceiver
) -> None:
    with observability.tracer().start_as_current_span("llm call") as span:
        span.set_attribute("llm.api_key", "sk-live-123")
        span.set_attribute("gen_ai.input.messages", "my credit card is 4111")
        span.set_attribute("gen_ai.usage.input_tokens", 12)
        span.add_event("request", {"authorization": "Bearer sk-live-123"})
    observability.force_flush()

    (received,) = [s for s in receiver.wait_for_spans(named("llm call")) if s.name == "llm call"]
    assert received.attributes == {
        "llm.api_key": REDACTED,
        "gen_ai.input.messages": REDACTED,
        "gen_ai.usage.input_tokens": 12,
    }
    assert received.events == [("request", {"authorization": REDACTED})]
    assert "sk-live-123" not in repr(receiver.spans())


def test_capture_prompts_keeps_prompts_but_not_secrets(
    observability: Observability, receiver: OTLPReceiver
) -> None:
    obs = setup_observability(settings_for(receiver, capture_prompts=True))
    try:
        with obs.tracer().start_as_current_span("captured") as span:
            span.set_attribute("gen_ai.input.messages", "hello")
            span.set_attribute("api_key", "sk-1")
        obs.force_flush()
    finally:
        setup_observability(settings_for(receiver))  # back to the module's settings
    (received,) = [s for s in receiver.wait_for_spans(named("captured")) if s.name == "captured"]
    assert received.attributes == {"gen_ai.input.messages": "hello", "api_key": REDACTED}


@pytest.fixture
async def temporal_env(observability: Observability) -> AsyncIterator[WorkflowEnvironment]:
    async with await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=find_test_server(),
        runtime=observability.runtime,
        interceptors=[observability.tracing_interceptor()],
    ) as env:
        yield env


async def test_client_calls_are_traced_by_the_interceptor(
    temporal_env: WorkflowEnvironment, observability: Observability, receiver: OTLPReceiver
) -> None:
    workflow_id = f"traced-{uuid.uuid4()}"
    with observability.tracer().start_as_current_span("caller") as caller:
        # no worker: only the client's StartWorkflow span is produced
        await temporal_env.client.start_workflow(
            "NoSuchWorkflow", id=workflow_id, task_queue=f"q-{workflow_id}"
        )
    observability.force_flush()
    spans = await receiver.wait_for_spans_async(named("StartWorkflow:NoSuchWorkflow"))
    start = next(s for s in spans if s.name == "StartWorkflow:NoSuchWorkflow")
    assert start.attributes["temporalWorkflowID"] == workflow_id
    assert start.trace_id == format(caller.get_span_context().trace_id, "032x")


@temporalio.activity.defn
async def greet(name: str) -> str:
    return f"hello {name}"


@temporalio.workflow.defn
class GreetWorkflow:
    @temporalio.workflow.run
    async def run(self, name: str) -> str:
        return await temporalio.workflow.execute_activity(
            greet, name, start_to_close_timeout=timedelta(seconds=10)
        )


async def test_one_trace_links_client_workflow_and_activity(
    temporal_env: WorkflowEnvironment, observability: Observability, receiver: OTLPReceiver
) -> None:
    queue = f"q-{uuid.uuid4()}"
    # unsandboxed: the workflow lives in this test module, not in an importable package
    async with temporalio.worker.Worker(
        temporal_env.client,
        task_queue=queue,
        workflows=[GreetWorkflow],
        activities=[greet],
        workflow_runner=temporalio.worker.UnsandboxedWorkflowRunner(),
    ):
        result = await temporal_env.client.execute_workflow(
            GreetWorkflow.run, "ada", id=f"greet-{queue}", task_queue=queue
        )
    assert result == "hello ada"
    observability.force_flush()

    spans = await receiver.wait_for_spans_async(named("RunActivity:greet"))
    trace = [s for s in spans if s.attributes.get("temporalWorkflowID") == f"greet-{queue}"]
    by_name = {s.name: s for s in trace}
    start, run = by_name["StartWorkflow:GreetWorkflow"], by_name["RunWorkflow:GreetWorkflow"]
    activity = by_name["RunActivity:greet"]
    assert {s.trace_id for s in trace} == {start.trace_id}
    assert run.parent_span_id == start.span_id
    # The workflow span lasts as long as the workflow, so what it schedules is its child
    assert by_name["StartActivity:greet"].parent_span_id == run.span_id
    assert activity.parent_span_id == by_name["StartActivity:greet"].span_id
    assert run.start_ns <= activity.start_ns <= activity.end_ns <= run.end_ns
    assert len(trace) == len(by_name)  # no span twice


async def test_temporal_sdk_metrics_are_exported(
    temporal_env: WorkflowEnvironment, receiver: OTLPReceiver
) -> None:
    # connecting made a GetSystemInfo call; Core exports its request counter on its own
    # 1 s period, so wait on the receiver's condition rather than sleeping
    points = await asyncio.to_thread(receiver.wait_for_metric_points, "temporal_request", bool, 20)
    assert "GetSystemInfo" in {p.attributes.get("operation") for p in points}
    assert points[0].resource["service.name"] == "beluga"
