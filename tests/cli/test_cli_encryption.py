"""`beluga` commands with an encryption key: worker, run, result, history, replay, codec-server."""

from __future__ import annotations

import base64
import json
import signal
import subprocess
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from google.protobuf import json_format
from temporalio.api.common.v1 import Payloads
from temporalio.contrib.pydantic import pydantic_data_converter

from beluga_temporal.cli import EXIT_CONFIGURATION, EXIT_FAILURE, cli
from beluga_temporal.local import LocalRuntime
from beluga_temporal.security import CodecServer, EncryptionCodec, key_id
from tests._net import free_port
from tests.cli._procs import BELUGA, TEMPORAL, Proc, child_env
from tests.security._history import key_ids_of, plain_client, raw_history
from tests.security.sealed_app import CARD, new_key
from tests.security.test_encryption import assert_sealed

KEY = new_key()
KID = key_id(base64.b64decode(KEY))
CHAIN = "tests.security.sealed_app:sealed_chain"


def beluga(address: str, *args: str, key: str | None = KEY) -> Result:
    env = {"BELUGA_ENCRYPTION_KEY": key}  # None: unset for this invocation
    return CliRunner().invoke(cli, ["--address", address, *args], env=env)


@pytest.fixture(scope="module")
def address(dev_runtime: LocalRuntime) -> str:
    return dev_runtime.client.service_client.config.target_host


@pytest.fixture(scope="module")
def queue() -> str:
    return f"cli-sealed-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def worker(address: str, queue: str) -> Iterator[Proc]:
    """`beluga worker` in its own process, with the key in its environment."""
    args = [BELUGA, "--address", address, "worker", "tests.security.sealed_app", "-q", queue]
    proc = Proc(args, env=child_env(BELUGA_ENCRYPTION_KEY=KEY))
    try:
        proc.wait_for_line("worker started")
        yield proc
    finally:
        proc.stop()


@pytest.fixture(scope="module")
def finished_run(address: str, queue: str, worker: Proc) -> str:
    """A run of the sealed chain started and awaited with `beluga run`."""
    workflow_id = f"sealed-cli-{uuid.uuid4().hex[:8]}"
    raw = json.dumps({"card": CARD})
    ran = beluga(address, "run", CHAIN, "-q", queue, "--id", workflow_id, "-i", raw)
    assert ran.exit_code == 0, ran.output
    assert json.loads(ran.stdout)["echo"] == CARD
    return workflow_id


async def test_run_through_the_cli_stores_only_ciphertext(
    dev_runtime: LocalRuntime, finished_run: str
) -> None:
    history = await raw_history(plain_client(dev_runtime), finished_run)
    assert_sealed(history, CARD)
    assert key_ids_of(history) == {KID}


def test_result_reads_with_the_key_and_names_it_without(address: str, finished_run: str) -> None:
    with_key = beluga(address, "result", finished_run)
    assert with_key.exit_code == 0, with_key.output
    assert json.loads(with_key.stdout)["echo"] == CARD

    without = beluga(address, "result", finished_run, key=None)
    assert without.exit_code == EXIT_CONFIGURATION
    assert f"key id '{KID}'" in without.stderr
    assert "BELUGA_ENCRYPTION_KEY" in without.stderr


def test_exported_history_replays_only_with_the_key(
    address: str, finished_run: str, tmp_path: Path
) -> None:
    path = tmp_path / "sealed.json"
    exported = beluga(address, "history", "export", finished_run, "-o", str(path))
    assert exported.exit_code == 0, exported.output
    assert CARD not in path.read_text()

    replayed = beluga(address, "replay", str(path), "-t", CHAIN)
    assert replayed.exit_code == 0, replayed.output
    assert replayed.stdout.startswith("OK")

    keyless = beluga(address, "replay", str(path), "-t", CHAIN, key=None)
    assert keyless.exit_code == EXIT_FAILURE
    assert KID in keyless.stdout


def test_codec_server_command_decrypts_over_http(tmp_path: Path) -> None:
    port = free_port()
    args = [BELUGA, "codec-server", "--port", str(port), "--cors-origin", "http://localhost:8233"]
    proc = Proc(args, env=child_env(BELUGA_ENCRYPTION_KEY=KEY))
    try:
        proc.wait_for_line("Press Ctrl+C")
        assert f"{KID} (current)" in proc.output
        payloads = pydantic_data_converter.payload_converter.to_payloads([{"card": CARD}])
        body = json_format.MessageToJson(Payloads(payloads=payloads)).encode()
        encoded = _post(f"http://127.0.0.1:{port}/encode", body)
        assert CARD not in encoded.decode()
        decoded = json_format.Parse(_post(f"http://127.0.0.1:{port}/decode", encoded), Payloads())
        assert pydantic_data_converter.payload_converter.from_payloads(list(decoded.payloads)) == [
            {"card": CARD}
        ]
    finally:
        code = proc.stop(signal.SIGINT)
    assert code == 0, proc.output
    assert "Codec server stopped." in proc.output


def test_temporal_cli_shows_plain_payloads_through_the_codec_server(
    address: str, finished_run: str
) -> None:
    show = [TEMPORAL, "workflow", "show", "-w", finished_run, "--address", address]
    sealed = subprocess.run(show, capture_output=True, text=True, timeout=60, check=True)
    assert CARD not in sealed.stdout
    codec = EncryptionCodec(base64.b64decode(KEY))
    with CodecServer(codec) as server:
        shown = subprocess.run(
            [*show, "--codec-endpoint", server.endpoint],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
    assert CARD in shown.stdout


def test_codec_server_without_a_key_refuses_to_start() -> None:
    result = CliRunner().invoke(cli, ["codec-server"], env={"BELUGA_ENCRYPTION_KEY": None})
    assert result.exit_code == EXIT_CONFIGURATION
    assert "no encryption key is configured" in result.stderr


def _post(url: str, body: bytes) -> bytes:
    request = urllib.request.Request(url, data=body, headers={"X-Namespace": "default"})
    with urllib.request.urlopen(request, timeout=10) as response:
        data: bytes = response.read()
        return data
