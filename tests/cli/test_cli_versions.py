"""The CLI with a module that keeps older versions of a graph next to the newest."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from beluga_temporal import LocalRuntime, Orchestrator, create_worker
from beluga_temporal.cli import EXIT_DEFINITION, cli
from tests.cli._procs import BELUGA, Proc, child_env
from tests.cli.versioned_app import orders, orders_v1

MODULE = "tests.cli.versioned_app"


async def test_a_worker_for_the_module_runs_each_version(
    dev_runtime: LocalRuntime, task_queue: str
) -> None:
    address = dev_runtime.client.service_client.config.target_host
    args = [BELUGA, "--address", address, "worker", MODULE, "-q", task_queue]
    worker = Proc([*args, "--grace-period", "1"], env=child_env())
    try:
        started = worker.wait_for_line("worker started")
        assert "versioned-orders" in started
        orch = Orchestrator(dev_runtime.client, task_queue)
        old = await orch.start_handle(orders_v1, {})  # e.g. a starter not yet deployed
        new = await orch.start_handle(orders, {})
        assert (await old.result())["shipped"] == "post"
        assert (await new.result())["shipped"] == "courier"
    finally:
        assert worker.stop() == 0


@pytest.fixture
async def histories(
    time_skipping_runtime: LocalRuntime, task_queue: str, tmp_path: Path
) -> list[Path]:
    """A run of each version, exported."""
    client = time_skipping_runtime.client
    paths = []
    async with create_worker(client, task_queue, targets=[orders]):
        for target in (orders_v1, orders):
            handle = await Orchestrator(client, task_queue).start_handle(target, {})
            await handle.result()
            paths.append(tmp_path / f"{target.fingerprint}.json")
            paths[-1].write_text((await handle.fetch_history()).to_json())
    return paths


def test_replay_against_the_module_uses_the_newest_version(histories: list[Path]) -> None:
    result = CliRunner().invoke(cli, ["replay", *map(str, histories), "--target", MODULE])
    assert result.exit_code == 0, result.output
    old, new = histories
    assert result.stdout.splitlines() == [
        f"OK                 {old}: versioned-orders plan {orders_v1.fingerprint} "
        "(a previous version)",
        f"OK                 {new}: versioned-orders plan {orders.fingerprint} (newest)",
    ]


def test_unrelated_declarations_of_one_workflow_type_are_named() -> None:
    result = CliRunner().invoke(cli, ["replay", "pyproject.toml", "-t", "tests.cli.replay_chains"])
    assert result.exit_code == EXIT_DEFINITION
    assert "2 targets are workflow type 'replay-hand'" in result.stderr
    assert "class tests.cli.replay_chains.HandABA" in result.stderr
    assert "none declares the others in previous=" in result.stderr
