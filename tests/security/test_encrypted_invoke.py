"""`invoke()` with `BELUGA_ENCRYPTION_KEY` in the environment: the shared runtime encrypts."""

from __future__ import annotations

import base64
import uuid

import pytest

from beluga_temporal.local import shared_runtime, shutdown_shared_runtime
from beluga_temporal.security import key_id
from tests.security._history import key_ids_of, plain_client, raw_history
from tests.security.sealed_app import CARD, new_key, sealed_chain
from tests.security.test_encryption import assert_sealed


async def test_invoke_with_the_key_in_the_environment_stores_only_ciphertext(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    key = new_key()
    monkeypatch.setenv("BELUGA_ENCRYPTION_KEY", key)
    # the key is read when the runtime starts: one left by an earlier test has none
    await shutdown_shared_runtime()
    workflow_id = f"sealed-invoke-{uuid.uuid4().hex[:8]}"
    try:
        result = await sealed_chain.invoke({"card": CARD}, workflow_id=workflow_id)
        history = await raw_history(plain_client(await shared_runtime()), workflow_id)
    finally:
        await shutdown_shared_runtime()
    assert result["echo"] == CARD
    assert_sealed(history, CARD)
    assert key_ids_of(history) == {key_id(base64.b64decode(key))}
