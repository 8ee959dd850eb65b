"""Issue 10.5: with `on_error="continue"`, a graph's finish points decide its outcome."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from click.testing import CliRunner

from beluga_temporal import (
    Graph,
    GraphExecutionError,
    LocalRuntime,
    Orchestrator,
    RetryPolicy,
    RunProgress,
    create_worker,
    step,
)
from beluga_temporal.cli import cli


@step(name="fp-ok")
async def ok(state: dict[str, Any]) -> dict[str, Any]:
    return {}


@step(name="fp-charge")
async def charge(state: dict[str, Any]) -> dict[str, Any]:
    return {"charged": True}


@step(name="fp-broken", retry=RetryPolicy(max_attempts=1))
async def broken(state: dict[str, Any]) -> dict[str, Any]:
    raise RuntimeError("audit service down")


@step(name="fp-decide")
async def decide(state: dict[str, Any]) -> dict[str, Any]:
    return {"speed": "fast"}


def side_branch_graph() -> Graph:
    """`charge` is the outcome; `audit` (and what follows it) is a side branch."""
    g = Graph("fp-side-branch", on_error="continue")
    g.add_node("validate", ok).add_node("charge", charge)
    g.add_node("audit", broken).add_node("audit_report", ok)
    g.add_edge("validate", "charge").add_edge("audit", "audit_report")
    return g.set_entry_point(["validate", "audit"]).set_finish_point("charge")


SIDE_BRANCH = side_branch_graph()


async def run(rt: LocalRuntime, queue: str, graph: Graph) -> tuple[Any, RunProgress]:
    """Run `graph`; return its result (or the error it failed with) and its progress."""
    orch = Orchestrator(rt.client, queue)
    async with create_worker(rt.client, queue, targets=[graph]):
        handle = await orch.start(graph, {})
        try:
            outcome: Any = await orch.result(handle.workflow_id, handle.run_id)
        except GraphExecutionError as error:
            outcome = error
        return outcome, await orch.progress(handle.workflow_id)


async def test_a_run_whose_finish_points_succeeded_completes_despite_a_side_failure(
    time_skipping_runtime: LocalRuntime, task_queue: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="temporalio.workflow"):
        result, progress = await run(time_skipping_runtime, task_queue, SIDE_BRANCH)

    assert result == {"charged": True}
    assert progress.status == "completed"
    assert progress.nodes["audit"].status == "failed"
    assert progress.nodes["audit"].error == "RuntimeError: audit service down"
    assert progress.nodes["audit_report"].status == "skipped"
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any(
        "node audit of fp-side-branch failed (RuntimeError: audit service down); the run "
        "completes because its finish points succeeded" in message
        for message in warnings
    ), warnings


async def test_a_failed_finish_point_fails_the_run_naming_it(
    time_skipping_runtime: LocalRuntime, task_queue: str
) -> None:
    g = Graph("fp-finish-fails", on_error="continue")
    g.add_node("validate", ok).add_node("charge", broken).add_node("side", ok)
    g.add_edge("validate", "charge")
    g.set_entry_point(["validate", "side"]).set_finish_point(["charge", "side"])
    error, progress = await run(time_skipping_runtime, task_queue, g)

    assert isinstance(error, GraphExecutionError)
    assert error.unfinished == ["charge"]
    assert (error.node, error.error_type) == ("charge", "RuntimeError")
    assert "finish point(s) charge did not succeed" in str(error)
    assert progress.status == "failed"


async def test_a_finish_point_skipped_because_its_branch_failed_fails_the_run(
    time_skipping_runtime: LocalRuntime, task_queue: str
) -> None:
    g = Graph("fp-branch-fails", on_error="continue")
    g.add_node("pay", broken).add_node("ship", ok)
    g.add_node("notify", ok).add_node("email", ok)
    g.add_edge("pay", "ship").add_edge("notify", "email")
    g.set_entry_point(["pay", "notify"]).set_finish_point(["ship", "email"])
    error, progress = await run(time_skipping_runtime, task_queue, g)

    assert isinstance(error, GraphExecutionError)
    assert error.unfinished == ["ship"]  # `email` succeeded; `ship` never ran
    assert error.node == "pay"
    assert "ship" in error.skipped
    assert progress.nodes["email"].status == "succeeded"
    assert progress.status == "failed"


async def test_a_finish_point_not_chosen_by_a_route_does_not_fail_the_run(
    time_skipping_runtime: LocalRuntime, task_queue: str
) -> None:
    g = Graph("fp-routed", on_error="continue")
    g.add_node("decide", decide).add_node("fast", charge).add_node("slow", ok)
    g.add_node("audit", broken)
    g.add_conditional_edges("decide", lambda s: s["speed"], {"fast": "fast", "slow": "slow"})
    g.set_entry_point(["decide", "audit"]).set_finish_point(["fast", "slow"])
    result, progress = await run(time_skipping_runtime, task_queue, g)

    assert result == {"speed": "fast", "charged": True}
    assert progress.status == "completed"
    assert progress.nodes["slow"].status == "skipped"
    assert progress.nodes["audit"].status == "failed"


def test_the_mermaid_drawing_marks_finish_points() -> None:
    target = "tests.engine.test_finish_points:SIDE_BRANCH"
    result = CliRunner().invoke(cli, ["graph", "show", target])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert "    charge --> END" in lines
    assert "    audit_report --> END" not in lines  # no successor, yet not a finish point
    assert "    classDef finish stroke-width:3px" in lines
    assert "    class charge finish" in lines
