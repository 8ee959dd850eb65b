"""What beluga needs to know about the Temporal server a client talks to."""

from __future__ import annotations

import weakref
from datetime import timedelta

import temporalio.client
import temporalio.service
from google.protobuf import empty_pb2

_time_skipping: weakref.WeakKeyDictionary[temporalio.client.Client, bool] = (
    weakref.WeakKeyDictionary()
)


async def is_time_skipping(client: temporalio.client.Client) -> bool:
    """Tell whether `client` talks to the time-skipping test server (asked once).

    Runs started there do not wait for cancelled steps to settle: that server fails
    the workflow task when a cancel request crosses the step's completion, which a
    real Temporal server accepts.
    """
    known = _time_skipping.get(client)
    if known is None:
        try:
            await client.test_service.get_current_time(
                empty_pb2.Empty(), timeout=timedelta(seconds=5)
            )
            known = True
        except temporalio.service.RPCError:
            known = False
        _time_skipping[client] = known
    return known
