"""Headers that let a step return its metadata only to callers that unwrap it.

A step's activity can carry metadata with its result (token usage, the attempt that
succeeded) in an envelope. Only beluga's own `call_step` unwraps it, so the envelope is
sent only when the scheduling workflow marked the call with a header: a plain
`workflow.execute_activity(step, ...)` always gets the bare result.
"""

from __future__ import annotations

from typing import Any

import temporalio.converter
import temporalio.worker

from beluga_temporal.runtime._activity import envelope_allowed
from beluga_temporal.runtime._calls import ENVELOPE_HEADER, unwrapping


class EnvelopeInterceptor(temporalio.worker.Interceptor):
    """Marks `call_step` activity calls and lets their activities send metadata."""

    def intercept_activity(
        self, next: temporalio.worker.ActivityInboundInterceptor
    ) -> temporalio.worker.ActivityInboundInterceptor:
        return _ActivityInbound(next)

    def workflow_interceptor_class(
        self, input: temporalio.worker.WorkflowInterceptorClassInput
    ) -> type[temporalio.worker.WorkflowInboundInterceptor]:
        return _WorkflowInbound


class _ActivityInbound(temporalio.worker.ActivityInboundInterceptor):
    async def execute_activity(self, input: temporalio.worker.ExecuteActivityInput) -> Any:
        with envelope_allowed(ENVELOPE_HEADER in input.headers):
            return await super().execute_activity(input)


class _WorkflowInbound(temporalio.worker.WorkflowInboundInterceptor):
    def init(self, outbound: temporalio.worker.WorkflowOutboundInterceptor) -> None:
        super().init(_WorkflowOutbound(outbound))


_MARK = temporalio.converter.PayloadConverter.default.to_payloads([True])[0]


class _WorkflowOutbound(temporalio.worker.WorkflowOutboundInterceptor):
    def start_activity(self, input: temporalio.worker.StartActivityInput) -> Any:
        if unwrapping():
            input.headers = {**input.headers, ENVELOPE_HEADER: _MARK}
        return super().start_activity(input)

    def start_local_activity(self, input: temporalio.worker.StartLocalActivityInput) -> Any:
        if unwrapping():
            input.headers = {**input.headers, ENVELOPE_HEADER: _MARK}
        return super().start_local_activity(input)
