"""Workflow side: schedule one step as an activity (or local activity)."""

from __future__ import annotations

import contextvars
import functools
from typing import Any

import pydantic
import temporalio.workflow

from beluga_temporal.plan._options import StepOptions
from beluga_temporal.runtime._activity import ENVELOPE_KEY, check_step_input
from beluga_temporal.runtime._progress import NodeProgress, Usage

ENVELOPE_HEADER = "beluga-envelope"
"""Activity header (wire format) marking calls whose result envelope is unwrapped."""

# True while `call_step` schedules its activity: the worker's EnvelopeInterceptor then
# adds ENVELOPE_HEADER. Each workflow task has its own context, so this never leaks.
_unwrapping: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "beluga_unwrapping", default=False
)


def unwrapping() -> bool:
    """Whether the activity being scheduled is a `call_step` call that unwraps."""
    return _unwrapping.get()


async def call_step(
    options: StepOptions,
    arg: Any,
    *,
    result_type: Any = None,
    usage: Usage | None = None,
    node: NodeProgress | None = None,
    summary: str | None = None,
    check_input: bool = True,
) -> Any:
    """Run the step described by `options` on `arg` and return its result.

    Must be called from workflow code. Results are plain JSON values (dicts, lists,
    strings, numbers) unless `result_type` is given. Token usage reported by the step
    (LLM steps) is added to `usage`; the attempt that succeeded is recorded on `node`.
    `check_input=False` skips the payload size check for an input the server already
    accepted as it is (a run input or a previous step's result).
    """
    if check_input:
        check_step_input(options.name, arg)
    kwargs = options.activity_kwargs()
    # Set and cleared rather than reset with a token: an evicted workflow's coroutines
    # are closed from another context, where a token would not apply.
    _unwrapping.set(True)
    try:
        if options.local:
            raw = await temporalio.workflow.execute_local_activity(
                options.name, arg, summary=summary, **kwargs
            )
        else:
            raw = await temporalio.workflow.execute_activity(
                options.name, arg, summary=summary, **kwargs
            )
    finally:
        _unwrapping.set(False)
    output = unwrap(raw, usage, node)
    if result_type is None or result_type is Any:
        return output
    return _adapter(result_type).validate_python(output)


def unwrap(raw: Any, usage: Usage | None, node: NodeProgress | None = None) -> Any:
    """Strip the envelope carrying a step's token usage and attempt number."""
    if not (isinstance(raw, dict) and ENVELOPE_KEY in raw):
        if node is not None:
            node.attempts = max(node.attempts, 1)
        return raw
    envelope = raw[ENVELOPE_KEY]
    if usage is not None and envelope.get("usage"):
        usage.add(Usage.model_validate(envelope["usage"]))
    if node is not None:
        node.attempts = max(node.attempts, int(envelope.get("attempt", 1)))
    return envelope.get("output")


@functools.lru_cache(maxsize=256)
def _adapter(result_type: Any) -> pydantic.TypeAdapter[Any]:
    return pydantic.TypeAdapter(result_type)
