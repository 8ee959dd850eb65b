"""Payload encryption on a real Temporal server: what the server stores, rotation, keys."""

from __future__ import annotations

import base64
import uuid
from datetime import timedelta

import pytest
from google.protobuf.message import Message
from temporalio.client import Client

from beluga_temporal import (
    BelugaPlugin,
    EncryptionKeyError,
    LocalRuntime,
    Orchestrator,
    StepFailedError,
    create_worker,
)
from beluga_temporal.security import ENCRYPTED_ENCODING, EncryptionCodec, key_id
from tests.security._history import (
    key_ids_of,
    payloads_in,
    plain_client,
    raw_history,
    wait_for_event,
)
from tests.security.sealed_app import (
    CARD,
    NOTE,
    REFUSAL,
    SealedApproval,
    add_note,
    declined_chain,
    failing_chain,
    new_key,
    sealed_chain,
)


def keyed_client(rt: LocalRuntime, key: str | None, previous: tuple[str, ...] = ()) -> Client:
    """A client on the runtime's server whose plugin holds `key` (and older keys)."""
    raw = [base64.b64decode(k) for k in previous]
    codec = EncryptionCodec(base64.b64decode(key) if key else None, raw)
    return Client(
        rt.client.service_client,
        namespace=rt.client.namespace,
        plugins=[BelugaPlugin(payload_codec=codec)],
    )


def address_of(rt: LocalRuntime) -> str:
    return rt.client.service_client.config.target_host


def assert_sealed(history: Message, *secrets: str) -> None:
    """No secret anywhere in the stored bytes, and every payload is encrypted."""
    stored = history.SerializeToString()
    for secret in secrets:
        assert secret.encode() not in stored, secret
    payloads = list(payloads_in(history))
    assert payloads
    for payload in payloads:
        assert payload.metadata["encoding"] == ENCRYPTED_ENCODING, payload.metadata
        for secret in secrets:
            assert secret.encode() not in payload.data


async def test_key_from_env_encrypts_everything_the_server_stores(
    dev_runtime: LocalRuntime, task_queue: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = new_key()
    monkeypatch.setenv("BELUGA_ENCRYPTION_KEY", key)
    orch = await Orchestrator.connect(address_of(dev_runtime), task_queue=task_queue)
    order = {"order_id": "o-1", "card": CARD}
    async with create_worker(orch.client, task_queue, targets=[sealed_chain, declined_chain]):
        ok = await orch.start(sealed_chain, order)
        assert await orch.result(ok.workflow_id) == {**order, "masked": "****D-77", "echo": CARD}
        declined = await orch.start(declined_chain, order)
        handled = await orch.result(declined.workflow_id)
    # the error message and ErrorInfo.input carried the card: both went through the codec
    assert handled == {"declined": CARD, "reason": f"card {CARD} {REFUSAL}"}

    plain = plain_client(dev_runtime)
    kid = key_id(base64.b64decode(key))
    for run in (ok, declined):
        history = await raw_history(plain, run.workflow_id)
        assert_sealed(history, CARD, REFUSAL)
        assert key_ids_of(history) == {kid}


async def test_client_without_the_key_gets_an_error_naming_the_key_id(
    dev_runtime: LocalRuntime, task_queue: str
) -> None:
    key = new_key()
    client = keyed_client(dev_runtime, key)
    async with create_worker(client, task_queue, targets=[sealed_chain]):
        run = await Orchestrator(client, task_queue).start(sealed_chain, {"card": CARD})
        await Orchestrator(client, task_queue).result(run.workflow_id)

    kid = key_id(base64.b64decode(key))
    for other in (None, new_key()):
        orch = Orchestrator(keyed_client(dev_runtime, other), task_queue)
        with pytest.raises(EncryptionKeyError, match=f"key id '{kid}'") as caught:
            await orch.result(run.workflow_id)
        assert caught.value.key_id == kid


async def test_rotation_keeps_runs_in_flight_readable(
    dev_runtime: LocalRuntime, task_queue: str
) -> None:
    old, new = new_key(), new_key()
    old_id, new_id = (key_id(base64.b64decode(k)) for k in (old, new))
    workflow_id = f"sealed-approval-{uuid.uuid4().hex[:8]}"
    before = keyed_client(dev_runtime, old)
    # no cache: the next worker must replay the history written with the old key
    async with create_worker(
        before, task_queue, targets=[SealedApproval], activities=[add_note], max_cached_workflows=0
    ):
        handle = await before.start_workflow(
            SealedApproval.run, {"card": CARD}, id=workflow_id, task_queue=task_queue
        )
        plain = plain_client(dev_runtime)
        await wait_for_event(
            plain, workflow_id, lambda e: e.HasField("workflow_task_completed_event_attributes")
        )

    after = keyed_client(dev_runtime, new, previous=(old,))
    async with create_worker(after, task_queue, targets=[SealedApproval], activities=[add_note]):
        await after.get_workflow_handle(workflow_id).signal(SealedApproval.approve, NOTE)
        result = await after.get_workflow_handle(workflow_id).result()
    assert result == {"card": CARD, "note": NOTE, "noted": "yes"}

    history = await raw_history(plain, workflow_id)
    assert_sealed(history, CARD, NOTE)
    assert key_ids_of(history) == {old_id, new_id}
    # the process that only knows the old key cannot read what the new key wrote
    with pytest.raises(EncryptionKeyError, match=f"key id '{new_id}'"):
        await before.get_workflow_handle(workflow_id).result()
    assert handle.id == workflow_id


async def test_worker_without_the_key_fails_its_task_and_the_run_waits(
    dev_runtime: LocalRuntime, task_queue: str
) -> None:
    key = new_key()
    kid = key_id(base64.b64decode(key))
    starter = keyed_client(dev_runtime, key)
    keyless = keyed_client(dev_runtime, None)
    plain = plain_client(dev_runtime)
    async with create_worker(keyless, task_queue, targets=[sealed_chain], max_cached_workflows=0):
        # a short task timeout: a task the keyless worker polled while stopping is retried soon
        run = await Orchestrator(starter, task_queue).start(
            sealed_chain, {"card": CARD}, task_timeout=timedelta(seconds=1)
        )
        failed = await wait_for_event(
            plain, run.workflow_id, lambda e: e.HasField("workflow_task_failed_event_attributes")
        )
    message = failed.workflow_task_failed_event_attributes.failure.message
    assert f"key id '{kid}'" in message
    assert "no encryption key" in message
    assert CARD not in message

    async with create_worker(starter, task_queue, targets=[sealed_chain]):
        result = await Orchestrator(starter, task_queue).result(run.workflow_id)
    assert result["echo"] == CARD


async def test_payloads_written_before_encryption_stay_readable(
    dev_runtime: LocalRuntime, task_queue: str
) -> None:
    keyless = keyed_client(dev_runtime, None)
    async with create_worker(keyless, task_queue, targets=[sealed_chain]):
        run = await Orchestrator(keyless, task_queue).start(sealed_chain, {"card": CARD})
        await Orchestrator(keyless, task_queue).result(run.workflow_id)
    history = await raw_history(plain_client(dev_runtime), run.workflow_id)
    assert CARD.encode() in history.SerializeToString()  # written in plain text

    keyed = Orchestrator(keyed_client(dev_runtime, new_key()), task_queue)
    assert (await keyed.result(run.workflow_id))["echo"] == CARD


async def test_local_runtime_encrypts_with_the_key_from_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    key = new_key()
    monkeypatch.setenv("BELUGA_SECURITY__ENCRYPTION_KEY", key)  # the nested form
    async with LocalRuntime(kind="time-skipping") as rt:
        handle = await rt.start(sealed_chain, {"card": CARD})
        assert (await handle.result())["echo"] == CARD
        history = await raw_history(plain_client(rt), handle.id)
    assert_sealed(history, CARD)
    assert key_ids_of(history) == {key_id(base64.b64decode(key))}


async def test_failures_are_encrypted_and_still_reported_in_full(
    dev_runtime: LocalRuntime, task_queue: str
) -> None:
    client = keyed_client(dev_runtime, new_key())
    orch = Orchestrator(client, task_queue)
    async with create_worker(client, task_queue, targets=[failing_chain]):
        run = await orch.start(failing_chain, {"card": CARD})
        with pytest.raises(StepFailedError) as caught:
            await orch.result(run.workflow_id)
    assert caught.value.cause_message == f"card {CARD} {REFUSAL}"
    assert caught.value.error_type == "ValueError"
    history = await raw_history(plain_client(dev_runtime), run.workflow_id)
    assert_sealed(history, CARD, REFUSAL)


async def test_create_worker_gives_a_plain_client_the_codec(
    dev_runtime: LocalRuntime, task_queue: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BELUGA_ENCRYPTION_KEY", new_key())
    orch = await Orchestrator.connect(address_of(dev_runtime), task_queue=task_queue)
    # no plugin at all: the worker still needs the key to read what `orch` wrote
    async with create_worker(plain_client(dev_runtime), task_queue, targets=[sealed_chain]):
        assert (await orch.execute(sealed_chain, {"card": CARD}))["echo"] == CARD
