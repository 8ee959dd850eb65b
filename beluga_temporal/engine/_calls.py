"""Workflow side: schedule one step as an activity (or local activity), or a child run.

A step's activity returns its output as the payload's data, so the Web UI and plain
`workflow.execute_activity` callers see exactly what the step returned. What the
framework needs besides (token usage, the attempt that succeeded) travels in the
payload's metadata, under `STEP_METADATA`; `call_step` reads it from the raw payload.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

import temporalio.api.common.v1
import temporalio.common
import temporalio.workflow

from beluga_temporal.engine._progress import NodeProgress, Usage
from beluga_temporal.plan import StepOptions
from beluga_temporal.resilience import check_step_input

STEP_METADATA = "beluga-step"
"""Payload metadata key (wire format) carrying a step's usage and attempt as JSON."""


async def call_step(
    options: StepOptions,
    arg: Any,
    *,
    result_type: Any = None,
    usage: Usage | None = None,
    node: NodeProgress | None = None,
    summary: str | None = None,
    check_input: bool = True,
    on_result: Callable[[int], None] | None = None,
) -> Any:
    """Run the step described by `options` on `arg` and return its result.

    Must be called from workflow code. Results are plain JSON values (dicts, lists,
    strings, numbers) unless `result_type` is given. Token usage reported by the step
    (LLM steps) is added to `usage`; the attempt that succeeded is recorded on `node`.
    `check_input=False` skips the payload size check for an input the server already
    accepted as it is (a run input or a previous step's result). `on_result` is told
    the size of the result's payload, in bytes.
    """
    if check_input:
        check_step_input(options.name, arg)
    kwargs = options.activity_kwargs()
    execute = (
        temporalio.workflow.execute_local_activity
        if options.local
        else temporalio.workflow.execute_activity
    )
    raw = await execute(
        options.name, arg, summary=summary, result_type=temporalio.common.RawValue, **kwargs
    )
    if on_result is not None:
        on_result(raw.payload.ByteSize())
    return decode_result(raw.payload, result_type, usage, node)


def decode_result(
    payload: temporalio.api.common.v1.Payload,
    result_type: Any,
    usage: Usage | None,
    node: NodeProgress | None,
) -> Any:
    """Decode a step's result payload, collecting its metadata into `usage` and `node`."""
    meta = _metadata(payload.metadata)
    if usage is not None and meta.get("usage"):
        usage.add(Usage.model_validate(meta["usage"]))
    if node is not None:
        node.attempts = max(node.attempts, int(meta.get("attempt", 1)))
    converter = temporalio.workflow.payload_converter()
    if result_type is None or result_type is Any:
        return converter.from_payload(payload)
    return converter.from_payload(payload, result_type)


def _metadata(metadata: Mapping[str, bytes]) -> dict[str, Any]:
    raw = metadata.get(STEP_METADATA)
    if not raw:
        return {}
    value = json.loads(raw)
    return value if isinstance(value, dict) else {}


async def call_child(
    workflow_type: str,
    arg: Any,
    *,
    workflow_id: str,
    memo: Mapping[str, Any],
    summary: str,
    timeout: timedelta | None = None,
    settle: bool = True,
) -> Any:
    """Run a nested chain or graph as a child workflow and return its result.

    Cancelling the parent's node cancels the child and waits for it to settle; when
    the parent closes, a child still running is terminated (parent-close policy).
    `timeout` bounds the child's run, as it bounds a run of it started on its own.
    """
    return await temporalio.workflow.execute_child_workflow(
        workflow_type,
        arg,
        id=workflow_id,
        memo=dict(memo),
        static_summary=summary,
        execution_timeout=timeout,
        cancellation_type=_SETTLE if settle else _TRY,
        parent_close_policy=temporalio.workflow.ParentClosePolicy.TERMINATE,
    )


_SETTLE = temporalio.workflow.ChildWorkflowCancellationType.WAIT_CANCELLATION_COMPLETED
_TRY = temporalio.workflow.ChildWorkflowCancellationType.TRY_CANCEL
