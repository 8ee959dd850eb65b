"""Reading raw histories: what Temporal stores, fetched without any codec."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator

import temporalio.api.common.v1
import temporalio.api.history.v1
import temporalio.api.workflowservice.v1
from google.protobuf.message import Message
from temporalio.client import Client

from beluga_temporal.local import LocalRuntime
from beluga_temporal.security import ENCRYPTED_ENCODING, KEY_ID_METADATA

History = temporalio.api.history.v1.History
Payload = temporalio.api.common.v1.Payload


def plain_client(rt: LocalRuntime) -> Client:
    """A client on the runtime's connection with no converter, codec or plugin."""
    return Client(rt.client.service_client, namespace=rt.client.namespace)


async def raw_history(client: Client, workflow_id: str) -> History:
    """The whole history as the server stores it (no payload decoding anywhere)."""
    history = History()
    token = b""
    while True:
        page = await client.workflow_service.get_workflow_execution_history(
            temporalio.api.workflowservice.v1.GetWorkflowExecutionHistoryRequest(
                namespace=client.namespace,
                execution=temporalio.api.common.v1.WorkflowExecution(workflow_id=workflow_id),
                next_page_token=token,
            )
        )
        history.events.extend(page.history.events)
        token = page.next_page_token
        if not token:
            return history


# Headers carry framework metadata (trace context, call markers), not user data; Temporal
# does not pass them through the codec unless the client asks for it.
UNENCODED_FIELDS = frozenset({"header"})


def payloads_in(message: Message) -> Iterator[Payload]:
    """Every data `Payload` inside a protobuf message (maps and lists included)."""
    if isinstance(message, Payload):
        yield message
        return
    for field, value in message.ListFields():
        if field.name in UNENCODED_FIELDS:
            continue
        if isinstance(value, Message):
            yield from payloads_in(value)
            continue
        items = value.values() if hasattr(value, "values") else value
        if isinstance(items, str | bytes | int | float | bool):
            continue
        for item in items:
            if isinstance(item, Message):
                yield from payloads_in(item)


def key_ids_of(history: History) -> set[str]:
    """The key ids named by the encrypted payloads of a history."""
    return {
        p.metadata[KEY_ID_METADATA].decode()
        for p in payloads_in(history)
        if p.metadata.get("encoding") == ENCRYPTED_ENCODING
    }


async def wait_for_event(
    client: Client,
    workflow_id: str,
    predicate: Callable[[temporalio.api.history.v1.HistoryEvent], bool],
    timeout: float = 20.0,
) -> temporalio.api.history.v1.HistoryEvent:
    """Poll the raw history until an event matches; fail with the event types seen."""
    deadline = time.monotonic() + timeout
    while True:
        history = await raw_history(client, workflow_id)
        found = next((e for e in history.events if predicate(e)), None)
        if found is not None:
            return found
        if time.monotonic() > deadline:
            kinds = [e.WhichOneof("attributes") for e in history.events]
            raise AssertionError(f"no matching event in {workflow_id} within {timeout}s: {kinds}")
        await asyncio.sleep(0.05)
