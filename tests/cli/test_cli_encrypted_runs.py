"""`beluga describe`, `list` and `result` on runs whose payloads are encrypted.

The runs are made once, in process, by a client holding the key; each command then runs
with the key in its environment (it decodes) or without it (it must say which key is
missing, never print ciphertext). `beluga run`/`result` on a successful run, `history`,
`replay` and `codec-server` are covered in `test_cli_encryption.py`.
"""

from __future__ import annotations

import base64
import contextlib
import json
import time
import uuid

import pytest
from click.testing import CliRunner, Result

from beluga_temporal import LocalRuntime, Orchestrator, StepFailedError, create_worker
from beluga_temporal.cli import EXIT_CONFIGURATION, EXIT_FAILURE, cli
from beluga_temporal.security import ENCRYPTED_ENCODING, key_id
from tests.security._history import plain_client
from tests.security.sealed_app import CARD, REFUSAL, failing_chain, new_key, sealed_chain
from tests.security.test_encryption import keyed_client

KEY = new_key()
KID = key_id(base64.b64decode(KEY))
SUMMARY = f"chain sealed-chain: 1 node, plan {sealed_chain.fingerprint}"
VISIBILITY_TIMEOUT = 20.0
"""Seconds a finished run may take to appear in list queries (visibility is eventual)."""


def beluga(address: str, *args: str, key: str | None = KEY) -> Result:
    env = {"BELUGA_ENCRYPTION_KEY": key}  # None: unset for this invocation
    return CliRunner().invoke(cli, ["--address", address, *args], env=env)


@pytest.fixture(scope="module")
def address(dev_runtime: LocalRuntime) -> str:
    return dev_runtime.client.service_client.config.target_host


@pytest.fixture(scope="module")
async def runs(dev_runtime: LocalRuntime) -> dict[str, str]:
    """A finished and a failed run written with `KEY`: name -> workflow id."""
    client = keyed_client(dev_runtime, KEY)
    queue = f"cli-encrypted-{uuid.uuid4().hex[:8]}"
    orch = Orchestrator(client, queue)
    async with create_worker(client, queue, targets=[sealed_chain, failing_chain]):
        ok = await orch.start(sealed_chain, {"card": CARD})
        await orch.result(ok.workflow_id)
        failed = await orch.start(failing_chain, {"card": CARD})
        with contextlib.suppress(StepFailedError):
            await orch.result(failed.workflow_id)
    return {"ok": ok.workflow_id, "failed": failed.workflow_id}


async def test_memo_and_summary_reach_the_server_encrypted(
    dev_runtime: LocalRuntime, runs: dict[str, str]
) -> None:
    # what `describe` decodes below is ciphertext on the server (memo and user metadata
    # are payloads): checked so the decoded output cannot come from a plain-text store
    found = await plain_client(dev_runtime).get_workflow_handle(runs["ok"]).describe()
    info = found.raw_description.workflow_execution_info
    memo = info.memo.fields["beluga"]
    summary = found.raw_description.execution_config.user_metadata.summary
    for payload in (memo, summary):
        assert payload.metadata["encoding"] == ENCRYPTED_ENCODING
    assert sealed_chain.fingerprint.encode() not in memo.data + summary.data


def test_describe_with_the_key_shows_summary_and_memo(address: str, runs: dict[str, str]) -> None:
    shown = beluga(address, "describe", runs["ok"])
    assert shown.exit_code == 0, shown.output
    assert f"summary:      {SUMMARY}" in shown.stdout
    assert f'"plan":"{sealed_chain.fingerprint}"' in shown.stdout

    as_json = beluga(address, "describe", runs["ok"], "--json")
    assert as_json.exit_code == 0, as_json.output
    found = json.loads(as_json.stdout)
    assert found["summary"] == SUMMARY
    assert found["memo"]["beluga"]["plan"] == sealed_chain.fingerprint


def test_describe_without_the_key_names_it(address: str, runs: dict[str, str]) -> None:
    shown = beluga(address, "describe", runs["ok"], key=None)
    assert shown.exit_code == EXIT_CONFIGURATION, shown.output
    assert f"key id '{KID}'" in shown.stderr
    assert "BELUGA_ENCRYPTION_KEY" in shown.stderr
    assert "Traceback" not in shown.output


def list_until_shown(address: str, workflow_id: str, key: str | None) -> Result:
    """`beluga list` filtered to one run, repeated until visibility has indexed it."""
    deadline = time.monotonic() + VISIBILITY_TIMEOUT
    while True:
        listed = beluga(address, "list", "--query", f"WorkflowId = '{workflow_id}'", key=key)
        assert listed.exit_code == 0, listed.output
        if workflow_id in listed.stdout or time.monotonic() > deadline:
            return listed
        time.sleep(0.1)


def test_list_shows_the_plan_with_the_key_and_a_mark_without(
    address: str, runs: dict[str, str]
) -> None:
    with_key = list_until_shown(address, runs["ok"], KEY)
    assert runs["ok"] in with_key.stdout, with_key.output
    assert sealed_chain.fingerprint in with_key.stdout

    without = list_until_shown(address, runs["ok"], None)
    row = next(line for line in without.stdout.splitlines() if runs["ok"] in line)
    assert sealed_chain.fingerprint not in row
    assert " ? " in row  # the run is still listed; its plan column says "unreadable"


def test_result_of_a_failed_run_decodes_its_error_with_the_key(
    address: str, runs: dict[str, str]
) -> None:
    failed = beluga(address, "result", runs["failed"])
    assert failed.exit_code == EXIT_FAILURE, failed.output
    assert f"card {CARD} {REFUSAL}" in failed.stderr  # the decrypted failure message
    assert "Encoded failure" not in failed.stderr


def test_result_of_a_failed_run_without_the_key_names_it(
    address: str, runs: dict[str, str]
) -> None:
    failed = beluga(address, "result", runs["failed"], key=None)
    assert failed.exit_code == EXIT_CONFIGURATION, failed.output
    assert f"key id '{KID}'" in failed.stderr
    assert "BELUGA_ENCRYPTION_KEY" in failed.stderr
    assert "Encoded failure" not in failed.stderr
    assert CARD not in failed.output
