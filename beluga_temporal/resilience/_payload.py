"""Payload size checks: fail clearly instead of letting Temporal reject a value later.

Temporal rejects any payload blob over `limit.blobSize.error` (2 MiB by default). A step
result over it fails the attempt with an anonymous retryable error; a step input over it
fails the workflow task, which Temporal retries until the run times out. These checks
name the step or workflow and the size, and fail at once.

Workflow-safe: no I/O, clocks or randomness, only the payload converter.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import temporalio.api.common.v1
import temporalio.client
import temporalio.common
import temporalio.converter
import temporalio.workflow
from temporalio.exceptions import ApplicationError

from beluga_temporal.errors import ConfigurationError
from beluga_temporal.resilience._errors import PAYLOAD_TOO_LARGE, PayloadTooLargeError

DEFAULT_PAYLOAD_SIZE_LIMIT = 2 * 1024 * 1024
"""Temporal's default `limit.blobSize.error`, in bytes, as the SDK worker measures it."""

_limit = DEFAULT_PAYLOAD_SIZE_LIMIT


def payload_size_limit() -> int:
    """Return the payload size limit, in bytes, that beluga enforces."""
    return _limit


def set_payload_size_limit(limit: int | None) -> None:
    """Change the payload size limit for this process (`None` restores the default).

    Set it before starting workers and clients, to match a server whose
    `limit.blobSize.error` was changed (and pass `disable_payload_error_limit=True`
    to workers when raising it above the default).

    Raises:
        ConfigurationError: `limit` is not a positive number of bytes.
    """
    global _limit
    if limit is not None and (isinstance(limit, bool) or limit <= 0):
        raise ConfigurationError(f"the payload size limit must be > 0 bytes, got {limit!r}")
    _limit = DEFAULT_PAYLOAD_SIZE_LIMIT if limit is None else limit


def encoded_size(payloads: Sequence[temporalio.api.common.v1.Payload]) -> int:
    """Return the size Temporal measures for a list of payloads (one `Payloads` blob).

    Computed from each payload's size as protobuf frames it (a one-byte tag, the
    length as a varint, the payload), without copying the payloads into a message.
    """
    total = 0
    for payload in payloads:
        size = payload.ByteSize()
        total += 1 + max(1, (size.bit_length() + 6) // 7) + size
    return total


def check_payload(
    what: str, values: Sequence[Any], converter: temporalio.converter.PayloadConverter
) -> None:
    """Raise `PayloadTooLargeError` when `values` encode to more than the limit.

    Args:
        what: Names the value in the error, e.g. `"input of step 'charge'"`.
        values: The values sent together (a step's or workflow's arguments).
        converter: The payload converter that will encode them.
    """
    check_encoded(what, converter.to_payloads(values))


def check_encoded(what: str, payloads: Sequence[temporalio.api.common.v1.Payload]) -> None:
    """Raise `PayloadTooLargeError` when encoded `payloads` are over the limit."""
    size = encoded_size(payloads)
    if size > _limit:
        raise PayloadTooLargeError(what, size, _limit)


CODEC_MARGIN = 64 * 1024
"""Bytes a payload codec may add to a start input (encryption adds about 100)."""


async def check_start_input(
    client: temporalio.client.Client, workflow: str, workflow_id: str, args: Sequence[Any]
) -> list[temporalio.common.RawValue]:
    """Convert a run's input once; raise `PayloadTooLargeError` if it is over the limit.

    Returns the converted payloads as `RawValue`s, which `Client.start_workflow` sends
    as they are (after its codec): the input is converted once, not once to measure
    and once to send. The size is that of the converted payloads; within
    `CODEC_MARGIN` of the limit it is measured after the client's codec, as sent.
    """
    context = temporalio.converter.WorkflowSerializationContext(
        namespace=client.namespace, workflow_id=workflow_id
    )
    converter = client.data_converter.with_context(context)
    payloads = converter.payload_converter.to_payloads(args)
    what = f"input of workflow '{workflow}' (id '{workflow_id}')"
    if encoded_size(payloads) > _limit - CODEC_MARGIN:
        codec = converter.payload_codec
        check_encoded(what, await codec.encode(payloads) if codec else payloads)
    return [temporalio.common.RawValue(payload) for payload in payloads]


def check_workflow_payload(what: str, value: Any) -> None:
    """Workflow side: fail the run at once if `value` is over the payload limit.

    Left to Temporal, an oversized step input or run result fails the workflow task
    over and over until the run times out.
    """
    try:
        check_payload(what, [value], temporalio.workflow.payload_converter())
    except PayloadTooLargeError as error:
        raise too_large(error) from None


def check_step_input(name: str, arg: Any) -> None:
    """Workflow side: fail, naming the step, if its input is over the limit."""
    check_workflow_payload(f"input of step '{name}'", arg)


def too_large(error: PayloadTooLargeError) -> ApplicationError:
    """The non-retryable Temporal error an oversized value fails with."""
    return ApplicationError(
        str(error),
        {"size": error.size, "limit": error.limit},
        type=PAYLOAD_TOO_LARGE,
        non_retryable=True,
    )
