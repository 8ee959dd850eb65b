"""The `beluga` CLI without a server: help, graph drawing, error reporting, `run --local`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from beluga_temporal.cli import EXIT_CONFIGURATION, EXIT_USAGE, cli
from beluga_temporal.local import LocalRuntime
from beluga_temporal.settings import BelugaSettings
from tests.app.samples import OUT_OF_STOCK_ITEMS, order

GRAPH = "workflows.order_processing:order_graph"
COMMANDS = [
    [],
    ["dev"],
    ["worker"],
    ["run"],
    ["start"],
    ["result"],
    ["list"],
    ["watch"],
    ["describe"],
    ["cancel"],
    ["terminate"],
    ["history"],
    ["history", "export"],
    ["replay"],
    ["graph"],
    ["graph", "show"],
    ["graph", "diff"],
]


def invoke(*args: str, env: dict[str, str] | None = None) -> object:
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "beluga")
def test_every_command_has_help(command: list[str]) -> None:
    result = CliRunner().invoke(cli, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage: " in result.output


def test_graph_show_mermaid() -> None:
    result = CliRunner().invoke(cli, ["graph", "show", GRAPH])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("flowchart TD")
    assert "validate --> check_inventory" in result.stdout
    assert "validate --> check_credit" in result.stdout
    assert "decide_expedite -. expedite .-> fulfill_express" in result.stdout


def test_graph_show_dot() -> None:
    result = CliRunner().invoke(cli, ["graph", "show", GRAPH, "--format", "dot"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith('digraph "order-processing" {')
    assert '"check_inventory" -> "process_payment";' in result.stdout


def test_graph_show_draws_a_chain() -> None:
    result = CliRunner().invoke(cli, ["graph", "show", "workflows.order_processing:order_chain"])
    assert result.exit_code == 0, result.output
    assert "validate_order --> process_payment" in result.stdout


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("no_such_module:graph", "cannot import module 'no_such_module'"),
        (
            "workflows.order_processing:nope",
            "module 'workflows.order_processing' has no attribute 'nope'",
        ),
        ("workflows.order_processing", "must be 'module:attribute'"),
        ("workflows.order_processing:route_shipping", "not a Chain, Graph or @workflow.defn class"),
    ],
)
def test_bad_target_is_one_line_usage_error(target: str, message: str) -> None:
    result = CliRunner().invoke(cli, ["graph", "show", target])
    assert result.exit_code == EXIT_USAGE
    assert message in result.stderr
    assert result.stderr.strip().count("\n") == 0, result.stderr
    assert "Traceback" not in result.output


def test_worker_with_unknown_module_names_it() -> None:
    result = CliRunner().invoke(cli, ["worker", "workflows.nope"])
    assert result.exit_code == EXIT_USAGE
    assert "cannot import module 'workflows.nope'" in result.stderr


def test_invalid_input_json_names_the_problem() -> None:
    result = CliRunner().invoke(cli, ["run", GRAPH, "--local", "--input", "{oops"])
    assert result.exit_code == EXIT_USAGE
    assert "--input is not valid JSON" in result.stderr


def test_missing_input_file_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "nope.json"
    result = CliRunner().invoke(cli, ["run", GRAPH, "--local", "--input", f"@{missing}"])
    assert result.exit_code == EXIT_USAGE
    assert f"cannot read input file '{missing}'" in result.stderr


def test_invalid_config_is_a_configuration_error(tmp_path: Path) -> None:
    config = tmp_path / "beluga.yaml"
    config.write_text("orchestration:\n  graph:\n    max_workers: 0\n")
    result = CliRunner().invoke(cli, ["--config", str(config), "result", "wf-1"])
    assert result.exit_code == EXIT_CONFIGURATION
    assert "max_workers" in result.stderr
    assert "Traceback" not in result.output


def test_unreachable_server_is_one_line(tmp_path: Path) -> None:
    from tests._net import free_port

    address = f"127.0.0.1:{free_port()}"
    result = CliRunner().invoke(cli, ["--address", address, "result", "wf-1"])
    assert result.exit_code == EXIT_CONFIGURATION
    assert f"cannot connect to Temporal at {address}" in result.stderr
    assert result.stderr.strip().count("\n") == 0


def test_debug_shows_the_traceback() -> None:
    result = CliRunner().invoke(cli, ["--debug", "graph", "show", "nope_mod:g"])
    assert result.exit_code != 0
    assert result.exception is not None  # propagated instead of turned into one line


def test_run_local_from_input_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BELUGA_LEDGER_PATH", str(tmp_path / "ledger.db"))
    monkeypatch.setenv("BELUGA_LOCAL__KIND", "time-skipping")
    source = tmp_path / "order.json"
    source.write_text(json.dumps(order("o-local")))
    result = CliRunner().invoke(cli, ["run", GRAPH, "--local", "--input", f"@{source}"])
    assert result.exit_code == 0, result.output
    state = json.loads(result.stdout)
    assert state["order_id"] == "o-local"
    assert state["status"] == "completed"
    assert state["shipping"] == "express"


def test_run_local_hand_written_workflow(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BELUGA_LEDGER_PATH", str(tmp_path / "ledger.db"))
    monkeypatch.setenv("BELUGA_LOCAL__KIND", "time-skipping")
    raw = json.dumps(order("o-oos", items=OUT_OF_STOCK_ITEMS))
    target = "workflows.order_processing:OrderProcessingWorkflow"
    result = CliRunner().invoke(cli, ["run", target, "--local", "--input", raw])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["status"] == "out_of_stock"


def test_run_local_failure_exits_1_with_the_failed_node(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BELUGA_LEDGER_PATH", str(tmp_path / "ledger.db"))
    monkeypatch.setenv("BELUGA_LOCAL__KIND", "time-skipping")
    raw = json.dumps(order("o-fail", items=OUT_OF_STOCK_ITEMS))
    result = CliRunner().invoke(cli, ["run", GRAPH, "--local", "--watch", "--input", raw])
    assert result.exit_code == 1
    assert "failed at node 'check_inventory'" in result.stderr
    assert "OutOfStock" in result.stderr


def test_config_file_reaches_steps_run_locally(tmp_path: Path) -> None:
    import os

    config = tmp_path / "prod.yaml"
    config.write_text("llm:\n  provider: test\n  model: from-the-config-file\n")
    result = CliRunner().invoke(cli, ["--config", str(config), "graph", "show", GRAPH])
    assert result.exit_code == 0
    # Steps (LLM steps resolve their model inside the activity) load the same file.
    assert os.environ["BELUGA_CONFIG"] == str(config.resolve())
    assert BelugaSettings.load().llm.model == "from-the-config-file"


@pytest.fixture
async def recorded(
    time_skipping_runtime: LocalRuntime, task_queue: str, tmp_path: Path
) -> dict[str, tuple[Path, list[int]]]:
    """Histories of `chain_aba` and `HandABA`, with the ids of their scheduled steps."""
    from beluga_temporal import Orchestrator, create_worker
    from tests.cli.replay_chains import HandABA, chain_aba, step_a, step_b

    client = time_skipping_runtime.client
    found: dict[str, tuple[Path, list[int]]] = {}
    orch = Orchestrator(client, task_queue)
    async with create_worker(
        client, task_queue, targets=[chain_aba, HandABA], activities=[step_a, step_b]
    ):
        for name, target in (("aba", chain_aba), ("hand", HandABA)):
            run = await orch.start(target, {})
            handle = client.get_workflow_handle(run.workflow_id)
            await handle.result()
            history = await handle.fetch_history()
            path = tmp_path / f"{name}.json"
            path.write_text(history.to_json())
            scheduled = [
                e.event_id
                for e in history.events
                if e.HasField("activity_task_scheduled_event_attributes")
            ]
            found[name] = (path, scheduled)
    return found


def test_replay_reports_plan_versions_divergences_and_bad_files(
    recorded: dict[str, tuple[Path, list[int]]], tmp_path: Path
) -> None:
    from tests.cli.replay_chains import chain_aba, chain_abc

    (aba, _), (hand, scheduled) = recorded["aba"], recorded["hand"]
    broken = tmp_path / "broken.json"
    broken.write_text("{}")
    targets = ["-t", "tests.cli.replay_chains:chain_abc", "-t", "tests.cli.replay_chains:HandABC"]
    result = CliRunner().invoke(cli, ["replay", str(broken), str(aba), str(hand), *targets])
    assert result.exit_code == 1, result.output
    bad, unknown, diverged = result.stdout.strip().splitlines()
    assert bad.startswith(f"FAIL               {broken}: ")
    assert "not a Temporal workflow history" in bad
    # A changed chain without `previous=`: the run's version is named, and the fix.
    assert unknown == (
        f"UNKNOWN PLAN       {aba}: replay-abc plan {chain_aba.fingerprint}: no declaration "
        f"for it: add it to previous= (the targets know newest {chain_abc.fingerprint})"
    )
    # A hand-written workflow changed without `workflow.patched`: the third step diverges.
    assert diverged.startswith(
        f"NON-DETERMINISTIC  {hand}: replay-hand (no beluga plan recorded): "
    )
    assert f"(history event {scheduled[2]}: ActivityTaskScheduled 'step_a')" in diverged
    assert "step_c" in diverged
    assert "3 of 3 histories failed to replay" in result.stderr
    assert "1 fail, 1 non-deterministic, 1 unknown plan" in result.stderr


def test_replay_runs_each_history_on_the_version_it_started_with(
    recorded: dict[str, tuple[Path, list[int]]],
) -> None:
    from tests.cli.replay_chains import chain_aba

    (aba, _), (hand, _) = recorded["aba"], recorded["hand"]
    targets = [
        "-t",
        "tests.cli.replay_chains:chain_abc_next",
        "-t",
        "tests.cli.replay_chains:HandABA",
    ]
    result = CliRunner().invoke(cli, ["replay", str(aba), str(hand), *targets])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        f"OK                 {aba}: replay-abc plan {chain_aba.fingerprint} (a previous version)",
        f"OK                 {hand}: replay-hand (no beluga plan recorded)",
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["replay", "no-such-file.json", "-t", "tests.cli.replay_chains"], "does not exist"),
        (["replay", "pyproject.toml", "-t", "json"], "no Chain, Graph or workflow class found"),
        (["replay", "pyproject.toml"], "Missing option '--target'"),
    ],
)
def test_replay_usage_errors_exit_2(args: list[str], message: str) -> None:
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == EXIT_USAGE, result.output
    assert message in result.stderr


def test_worker_with_nothing_to_host_is_a_usage_error() -> None:
    result = CliRunner().invoke(cli, ["worker", "json"])
    assert result.exit_code == EXIT_USAGE
    assert "nothing to host in json" in result.stderr


def test_syntax_error_in_a_target_module_names_file_and_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "broken_mod.py").write_text("def oops(:\n    pass\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    result = CliRunner().invoke(cli, ["graph", "show", "broken_mod:graph"])
    assert result.exit_code == EXIT_USAGE
    assert "cannot import module 'broken_mod'" in result.stderr
    assert "broken_mod.py:1" in result.stderr
