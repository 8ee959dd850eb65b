"""`beluga cancel/terminate/describe`, and Ctrl+C of `beluga run`, on a real cluster.

The runs are `tests.client.approval_app` workflows (they wait for a signal, or take a
minute), hosted by a `beluga worker` process next to the session's cluster.
"""

from __future__ import annotations

import asyncio
import json
import os
import shlex
import signal
import subprocess
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from click.testing import CliRunner, Result
from temporalio.client import WorkflowExecutionStatus

from beluga_temporal.cli import EXIT_CONFIGURATION, EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_USAGE, cli
from beluga_temporal.client import Orchestrator, RunDescription
from tests.cli._procs import BELUGA, Cluster, Proc, TerminalProc, child_env, group_is_gone
from tests.client.approval_app import APPROVAL

APP = "tests.client.approval_app"


@pytest.fixture(scope="module")
def queue(cluster: Cluster) -> Iterator[str]:
    """A task queue served by a `beluga worker` process hosting the approval app."""
    name = f"approval-{uuid.uuid4().hex[:8]}"
    args = [BELUGA, "--address", cluster.address, "worker", APP, "-q", name]
    worker = Proc([*args, "--grace-period", "1"])
    try:
        worker.wait_for_line("worker started")
        yield name
    finally:
        worker.stop()


def beluga(cluster: Cluster, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--address", cluster.address, *args])


def on_server(cluster: Cluster, queue: str, call: str, *args: Any, **kwargs: Any) -> Any:
    """Call an `Orchestrator` method on the cluster (for setting up and checking runs)."""

    async def go() -> Any:
        orch = await Orchestrator.connect(cluster.address, task_queue=queue)
        return await getattr(orch, call)(*args, **kwargs)

    return asyncio.run(go())


def start_approval(cluster: Cluster, queue: str, **options: Any) -> str:
    workflow_id = f"approval-{uuid.uuid4().hex[:8]}"
    on_server(cluster, queue, "start", APPROVAL, "refund", workflow_id=workflow_id, **options)
    return workflow_id


def describe(cluster: Cluster, workflow_id: str) -> RunDescription:
    found: RunDescription = on_server(cluster, "unused", "describe", workflow_id)
    return found


def test_describe_shows_status_type_queue_and_memo(cluster: Cluster, queue: str) -> None:
    plan = {"fingerprint": "f1a2", "kind": "graph"}
    workflow_id = start_approval(cluster, queue, memo={"beluga.plan": plan})
    shown = beluga(cluster, "describe", workflow_id)
    assert shown.exit_code == 0, shown.output
    lines = shown.stdout.splitlines()
    assert f"workflow id:  {workflow_id}" in lines
    assert f"type:         {APPROVAL}" in lines
    assert "status:       RUNNING" in lines
    assert f"task queue:   {queue}" in lines
    assert "closed:       -" in lines
    assert '  beluga.plan: {"fingerprint":"f1a2","kind":"graph"}' in lines

    as_json = beluga(cluster, "describe", workflow_id, "--json")
    assert as_json.exit_code == 0, as_json.output
    data = json.loads(as_json.stdout)
    assert data["status"] == "RUNNING"
    assert data["run_id"] == describe(cluster, workflow_id).run_id
    assert data["memo"] == {"beluga.plan": plan}
    assert data["close_time"] is None
    on_server(cluster, queue, "terminate", workflow_id)


def test_cancel_a_waiting_run(cluster: Cluster, queue: str) -> None:
    workflow_id = start_approval(cluster, queue)
    cancelled = beluga(cluster, "cancel", workflow_id)
    assert cancelled.exit_code == 0, cancelled.output
    assert f"Cancellation requested for run '{workflow_id}'." in cancelled.stdout
    outcome = beluga(cluster, "result", workflow_id)
    assert outcome.exit_code == EXIT_FAILURE
    assert f"run '{workflow_id}' was cancelled" in outcome.stderr
    assert describe(cluster, workflow_id).status == WorkflowExecutionStatus.CANCELED

    again = beluga(cluster, "cancel", workflow_id)
    assert again.exit_code == EXIT_FAILURE
    assert f"run '{workflow_id}' has already closed (CANCELED): nothing to cancel" in again.stderr


def test_terminate_with_a_reason(cluster: Cluster, queue: str) -> None:
    workflow_id = start_approval(cluster, queue)
    ended = beluga(cluster, "terminate", workflow_id, "--reason", "stuck on a human")
    assert ended.exit_code == 0, ended.output
    assert f"Terminated run '{workflow_id}'." in ended.stdout
    shown = beluga(cluster, "describe", workflow_id)
    assert "status:       TERMINATED" in shown.stdout.splitlines()

    async def last_event() -> Any:
        orch = await Orchestrator.connect(cluster.address)
        history = await orch.client.get_workflow_handle(workflow_id).fetch_history()
        return history.events[-1].workflow_execution_terminated_event_attributes

    assert asyncio.run(last_event()).reason == "stuck on a human"
    again = beluga(cluster, "terminate", workflow_id)
    assert again.exit_code == EXIT_FAILURE
    assert f"run '{workflow_id}' has already closed" in again.stderr


@pytest.mark.parametrize("command", ["cancel", "terminate", "describe"])
def test_unknown_run_is_one_line_exit_1(cluster: Cluster, command: str) -> None:
    result = beluga(cluster, command, "no-such-run")
    assert result.exit_code == EXIT_FAILURE
    assert "no workflow run 'no-such-run'" in result.stderr
    assert result.stderr.strip().count("\n") == 0


@pytest.mark.parametrize("command", ["cancel", "terminate", "describe"])
def test_exit_codes_for_usage_and_unreachable_server(command: str) -> None:
    from tests._net import free_port

    assert CliRunner().invoke(cli, [command]).exit_code == EXIT_USAGE  # no WORKFLOW_ID
    address = f"127.0.0.1:{free_port()}"
    result = CliRunner().invoke(cli, ["--address", address, command, "wf-1"])
    assert result.exit_code == EXIT_CONFIGURATION
    assert f"cannot connect to Temporal at {address}" in result.stderr


def interrupted_run(
    cluster: Cluster, *args: str, terminal: bool = False, after: str = "waiting for its result"
) -> tuple[str, Proc, int]:
    """Start `beluga run ARGS`, press Ctrl+C once `after` shows; return id, process, code."""
    workflow_id = f"interrupted-{uuid.uuid4().hex[:8]}"
    command = [BELUGA, "--address", cluster.address, "run", *args, "--id", workflow_id]
    run = TerminalProc(command) if terminal else Proc(command)
    try:
        run.wait_for_line(after)
        os.killpg(run.popen.pid, signal.SIGINT)  # what Ctrl+C in a terminal does
        code = run.popen.wait(15)
        run.wait_for_line("its result:")  # the reader thread caught up with the output
    finally:
        run.stop()
    return workflow_id, run, code


def cancel_from_message(run: Proc) -> None:
    """Run the exact `beluga ... cancel ID` command the interrupted run printed."""
    line = next(line for line in run.lines if "cancel it:" in line)
    words = shlex.split(line.split("cancel it:", 1)[1])
    assert words[0] == "beluga"
    done = subprocess.run(
        [BELUGA, *words[1:]], env=child_env(), capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr


def test_ctrl_c_of_run_says_it_goes_on_and_how_to_cancel(cluster: Cluster, queue: str) -> None:
    target = f"{APP}:Approval"
    workflow_id, run, code = interrupted_run(cluster, target, "-q", queue, "-i", '"refund"')
    assert code == EXIT_INTERRUPTED
    assert f"Interrupted: run '{workflow_id}' goes on on the server" in run.output
    assert f"cancel it:      beluga --address {cluster.address} cancel {workflow_id}" in run.output
    assert "Traceback" not in run.output
    assert group_is_gone(run.popen.pid)
    assert describe(cluster, workflow_id).running  # it did go on

    cancel_from_message(run)
    outcome = beluga(cluster, "result", workflow_id)
    assert f"run '{workflow_id}' was cancelled" in outcome.stderr


def test_ctrl_c_of_run_watch_closes_the_table_first(cluster: Cluster, queue: str) -> None:
    target = f"{APP}:slow_chain"
    # In a terminal, as a person runs it: the live table shows the step running.
    workflow_id, run, code = interrupted_run(
        cluster, target, "-q", queue, "-i", "{}", "--watch", terminal=True, after="│ hold"
    )
    assert code == EXIT_INTERRUPTED, run.output
    table_end = max(i for i, line in enumerate(run.lines) if line.startswith("└"))
    message = next(i for i, line in enumerate(run.lines) if line.startswith("Interrupted:"))
    assert table_end < message
    assert any(line.startswith("│ hold") and "running" in line for line in run.lines)
    assert group_is_gone(run.popen.pid)
    cancel_from_message(run)
    outcome = beluga(cluster, "result", workflow_id)
    assert f"run '{workflow_id}' was cancelled" in outcome.stderr
