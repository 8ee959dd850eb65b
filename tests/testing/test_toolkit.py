"""The testing toolkit users get: fixtures without conftest, replay checks, containers."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from beluga_temporal import LocalRuntime
from beluga_temporal.testing import (
    assert_replays,
    docker_unavailable,
    history_files,
    run_with_worker,
)
from tests import graph_examples as gx
from tests.histories.record import CASES

HISTORIES = Path(__file__).resolve().parents[1] / "histories"
ROOT = Path(__file__).resolve().parents[2]


def _pytest(tmp_path: Path, test: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "test_user.py").write_text(textwrap.dedent(test))
    (tmp_path / "pytest.ini").write_text(
        "[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = session\n"
        "asyncio_default_test_loop_scope = session\n"
    )
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", str(tmp_path)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_fixtures_need_no_conftest(tmp_path: Path) -> None:
    done = _pytest(
        tmp_path,
        """
        from beluga_temporal import Chain, step
        from beluga_temporal.testing import run_with_worker

        @step
        async def double(x: int) -> int:
            return 2 * x

        chain = Chain("user-chain", steps=[double, double])

        async def test_a_user_chain(time_skipping_runtime, task_queue):
            assert task_queue.startswith("test-")
            result = await run_with_worker(time_skipping_runtime.client, task_queue, chain, 3)
            assert result == 12
        """,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout


def test_the_container_fixture_is_skipped_with_its_reason_without_docker(
    tmp_path: Path,
) -> None:
    reason = docker_unavailable()
    if reason is None:
        pytest.skip("a Docker engine answers here: the fixture runs instead")  # pragma: no cover
    done = _pytest(
        tmp_path, "def test_uses_it(temporal_container):\n    assert temporal_container\n"
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 skipped" in done.stdout
    assert "temporal_container needs a Docker engine" in done.stdout


def test_docker_unavailable_names_why() -> None:
    reason = docker_unavailable()
    if shutil.which("docker") is None:
        assert reason == "no `docker` command on PATH"
    else:
        assert reason is None or "docker" in reason.lower()


async def test_stored_histories_replay() -> None:
    outcomes = await assert_replays(HISTORIES, [case[1] for case in CASES])
    assert [o.status for o in outcomes] == ["OK"] * len(history_files(HISTORIES))
    assert all("plan" in o.detail for o in outcomes)


async def test_a_history_that_does_not_replay_is_named_with_the_fix() -> None:
    changed = gx.order_graph(credit=gx.check_credit.with_options(name="check_credit_v2"))
    with pytest.raises(AssertionError) as caught:
        await assert_replays([HISTORIES / "order_graph.json"], [changed])
    message = str(caught.value)
    assert "1 of 1 histories do not replay" in message
    assert "UNKNOWN PLAN" in message
    assert gx.ORDER_GRAPH.fingerprint in message
    assert "previous=" in message


async def test_no_history_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(AssertionError, match="no history files"):
        await assert_replays(tmp_path, [gx.ORDER_GRAPH])


async def test_run_with_worker_runs_a_target(
    time_skipping_runtime: LocalRuntime, task_queue: str
) -> None:
    result = await run_with_worker(
        time_skipping_runtime.client, task_queue, gx.ORDER_GRAPH, gx.ORDER_INPUT
    )
    assert result["notify"] == "notified ada: charged"
