"""A graph run with tracing on: one trace, a span per node, LLM attributes, no duplicates
after a worker restart forces a replay, and no secrets on any span."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from temporalio.client import Client

from beluga_temporal import BelugaPlugin, Graph, LocalRuntime, Orchestrator, create_worker, step
from beluga_temporal.llm import llm_decision
from beluga_temporal.observability import Observability
from beluga_temporal.testing import FakeOpenAIServer, OTLPReceiver, ReceivedSpan

API_KEY = "sk-trace-SECRET-42"
GATE = {"event": asyncio.Event()}

decide = llm_decision("trace-decide", "Ship order {order_id} fast?", choices=["fast", "slow"])


@step
async def trace_validate(state: dict[str, Any]) -> dict[str, Any]:
    return {"valid": True}


@step(timeout=30)
async def trace_gate(state: dict[str, Any]) -> dict[str, Any]:
    await GATE["event"].wait()  # held until the test has restarted the worker
    return {"gate": "open"}


@step
async def trace_ship(state: dict[str, Any]) -> dict[str, Any]:
    return {"shipped": state["decide"]}


def traced_graph() -> Graph:
    g = Graph("traced-graph")
    g.add_node("validate", trace_validate)
    g.add_node("decide", decide)
    g.add_node("gate", trace_gate)
    g.add_node("fast", trace_ship)
    g.add_node("slow", trace_ship)
    g.add_edge("validate", "decide").add_edge("decide", "gate")
    g.add_conditional_edges("gate", lambda s: s["decide"], {"fast": "fast", "slow": "slow"})
    return g.set_entry_point("validate")


@pytest.fixture
def openai_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer(api_key=API_KEY) as server:
        monkeypatch.setenv("BELUGA_LLM__PROVIDER", "openai")
        monkeypatch.setenv("BELUGA_LLM__MODEL", "gpt-trace")
        monkeypatch.setenv("BELUGA_LLM__BASE_URL", server.base_url)
        monkeypatch.setenv("BELUGA_LLM__API_KEY", API_KEY)
        server.reply({"choice": "fast"})
        yield server


async def test_graph_trace_tree_survives_a_forced_replay(
    dev_runtime: LocalRuntime,
    observability: Observability,
    receiver: OTLPReceiver,
    openai_env: FakeOpenAIServer,
    task_queue: str,
) -> None:
    target = dev_runtime.client.service_client.config.target_host
    client = await Client.connect(target, plugins=[BelugaPlugin()])  # tracing from setup
    g = traced_graph()
    orch = Orchestrator(client, task_queue)
    workflow_id = f"traced-{uuid.uuid4()}"
    GATE["event"] = asyncio.Event()
    async with create_worker(client, task_queue, targets=[g]):
        run = await orch.start(g, {"order_id": "o-9"}, workflow_id=workflow_id)
        async for progress in orch.watch(workflow_id, interval=0.05):
            if progress.nodes["gate"].status == "running":
                break
    # The first worker is gone; a new one has no cache and must replay the history.
    GATE["event"].set()
    async with create_worker(client, task_queue, targets=[g]):
        result = await orch.result(run.workflow_id, run.run_id)
    assert result["shipped"] == "fast"
    observability.force_flush()

    def mine(span: ReceivedSpan) -> bool:
        return span.attributes.get("temporalWorkflowID") == workflow_id

    spans = await receiver.wait_for_spans_async(
        lambda spans: any(mine(s) and s.name == "beluga.graph traced-graph" for s in spans)
    )
    # Queries from `watch` are client calls of their own, each in its own trace.
    trace = [s for s in spans if mine(s) and "Query" not in s.name]
    names = [s.name for s in trace]
    node_spans = sorted(n for n in names if n.startswith("beluga.node "))
    assert node_spans == [
        "beluga.node decide",
        "beluga.node fast",
        "beluga.node gate",
        "beluga.node slow",
        "beluga.node validate",
    ], names  # each exactly once, replay included
    assert names.count("StartWorkflow:traced-graph") == 1
    assert names.count("RunWorkflow:traced-graph") == 1
    assert len({s.trace_id for s in trace}) == 1
    assert len({s.span_id for s in trace}) == len(trace)  # ids stay unique after replay
    by_name = {s.name: s for s in trace}
    assert by_name["beluga.node slow"].attributes["beluga.status"] == "skipped"
    assert by_name["beluga.graph traced-graph"].attributes["workflow.steps"] == 5
    assert by_name["beluga.graph traced-graph"].attributes["workflow.status"] == "completed"
    llm_span = by_name["RunActivity:trace-decide"]
    assert llm_span.attributes["gen_ai.request.model"] == "gpt-trace"
    assert llm_span.attributes["gen_ai.usage.input_tokens"] > 0
    assert all(API_KEY not in repr(s.attributes) for s in receiver.spans())
