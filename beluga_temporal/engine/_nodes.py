"""Workflow side: run what one node runs — a step, its fallback, a child run, a map item.

Also the recovery that follows a failed run: saga compensations and a chain's
`on_error` handler.
"""

from __future__ import annotations

from typing import Any

import temporalio.workflow
from temporalio.exceptions import ActivityError, ApplicationError, ChildWorkflowError

from beluga_temporal.engine._calls import call_child, call_step
from beluga_temporal.engine._checkpoints import LocalCheckpoints
from beluga_temporal.engine._failures import (
    ErrorInfo,
    describe,
    is_cancellation,
    step_failed,
)
from beluga_temporal.engine._flow import Flow
from beluga_temporal.engine._record import Recorder
from beluga_temporal.plan import (
    MEMO_KEY,
    ChainPlan,
    GraphPlan,
    NodePlan,
    Plan,
    RetryPolicy,
    StartContext,
    StepOptions,
    fingerprint,
    run_summary,
)

GRAPH_STEP_RETRY = RetryPolicy()
"""Graph steps without a retry policy: 3 attempts, from 1 s (never a worker's own
default for hand-written workflows, which could differ between workers)."""


def default_retry(plan: Plan, context: StartContext) -> RetryPolicy:
    """The retry policy for steps that declare none, fixed for the whole run.

    Chains take theirs from the run's defaults (`orchestration.chain.*` when the run
    started) unless they declare `retries=`/`retry_delay=`; graphs use `GRAPH_STEP_RETRY`.
    """
    if not isinstance(plan, ChainPlan):
        return GRAPH_STEP_RETRY
    defaults = context.defaults
    attempts = plan.retries if plan.retries is not None else defaults.chain_retries
    delay = plan.retry_delay if plan.retry_delay is not None else defaults.chain_retry_delay
    return RetryPolicy(max_attempts=attempts, initial_backoff=delay)


def child_workflow_id(info: temporalio.workflow.Info, node: str) -> str:
    """The id of the child workflow a node starts: `<parent id>/<node>`.

    Unique and deterministic: a node runs at most once per run (continue-as-new happens
    only when no node is in flight, and the workflow id stays). A retry of the parent
    (a workflow retry policy) adds its attempt, so the new attempt's child never meets
    the previous attempt's, which the parent-close policy may still be terminating.
    """
    suffix = f"@{info.attempt}" if info.attempt > 1 else ""
    return f"{info.workflow_id}{suffix}/{node}"


def changed_keys(sent: Any, result: Any) -> Any:
    """A nested graph's output as a step's: the keys of its state it added or changed.

    A graph returns its whole state, the keys its parent passed in included; merged
    back as they are, unchanged keys would count as writes and conflict with a sibling
    node that changed them meanwhile.
    """
    if not isinstance(sent, dict) or not isinstance(result, dict):
        return result
    return {key: value for key, value in result.items() if key not in sent or sent[key] != value}


class NodeCalls:
    """Schedules the activities and child workflows of one run's nodes."""

    def __init__(self, plan: Plan, context: StartContext, record: Recorder) -> None:
        self.plan = plan
        self.context = context
        self.record = record
        self._retry = default_retry(plan, context)
        self._resolved: dict[int, StepOptions] = {}
        self.checkpoints = LocalCheckpoints(context.defaults.checkpoint_rule)

    @property
    def concurrency(self) -> int:
        """Most nodes in flight at once (graph settings fixed when the run started)."""
        if isinstance(self.plan, ChainPlan):
            return 1
        defaults = self.context.defaults
        parallel = self.plan.parallel if self.plan.parallel is not None else defaults.parallel
        if not parallel:
            return 1
        return self.plan.max_workers or defaults.max_workers

    def options(self, options: StepOptions) -> StepOptions:
        """A step's options as this run uses them (default retry, local mode)."""
        resolved = self._resolved.get(id(options))
        if resolved is None:
            resolved = options.resolved(
                self._retry, self.plan.local, settle_cancelled=self.context.settle_cancelled
            )
            self._resolved[id(options)] = resolved
        return resolved

    async def run(self, node: NodePlan, flow: Flow) -> Any:
        """Run a node's step (or child run); on failure, its fallback if it has one."""
        node_input = flow.input_for(node, node.reads)
        try:
            if node.child is not None:
                return await self._child(node, node_input)
            assert node.step is not None
            return await self._step(node, node.step, node_input, flow.input_is_new(node))
        except (ActivityError, ChildWorkflowError) as error:
            if is_cancellation(error) or node.fallback is None:
                raise
        self.record.progress.nodes[node.name].fallback = True
        fallback_input = flow.input_for(node, node.fallback_reads)
        return await self._step(node, node.fallback, fallback_input, True)

    async def map_item(self, node: NodePlan, index: int, item: Any) -> Any:
        """Run a map node's step on one item (an element of state: no size check)."""
        assert node.step is not None
        options = self.options(node.step)
        return await call_step(
            options,
            item,
            usage=self.record.progress.usage,
            node=self.record.progress.nodes[node.name],
            summary=f"{node.name}[{index}]",
            check_input=False,
            on_result=self.checkpoints.done if options.local else None,
        )

    async def _step(self, node: NodePlan, step: StepOptions, arg: Any, new: bool) -> Any:
        options = self.options(step)
        return await call_step(
            options,
            arg,
            usage=self.record.progress.usage,
            node=self.record.progress.nodes[node.name],
            summary=node.name,
            check_input=new,
            on_result=self.checkpoints.done if options.local else None,
        )

    async def _child(self, node: NodePlan, arg: Any) -> Any:
        child = node.child
        assert child is not None
        context = StartContext(
            plan=fingerprint(child),
            defaults=self.context.defaults,
            settle_cancelled=self.context.settle_cancelled,
            # The child validates its own input against its state model, outside the
            # workflow (its start activity), like a run started by another client.
            validated=getattr(child, "state_model", None) is None,
        )
        result = await call_child(
            child.name,
            arg,
            workflow_id=child_workflow_id(temporalio.workflow.info(), node.name),
            memo={MEMO_KEY: context.to_json()},
            summary=f"{run_summary(child, context.plan)} (node {node.name} of {self.plan.name})",
            timeout=child.timeout,
            settle=self.context.settle_cancelled,
        )
        self.record.progress.nodes[node.name].attempts = 1
        if isinstance(self.plan, GraphPlan) and isinstance(child, GraphPlan):
            return changed_keys(arg, result)
        return result

    async def compensate(self, flow: Flow) -> None:
        """Run the compensation of every completed node, newest first (saga)."""
        for name in reversed(flow.completed):
            node = self.plan.node(name)
            if node.compensate is None:
                continue
            try:
                await call_step(
                    self.options(node.compensate),
                    flow.after(name, node.compensate_reads),
                    summary=f"compensate {name}",
                )
            except (ActivityError, ApplicationError) as error:
                # A failed compensation must not stop the others from running.
                temporalio.workflow.logger.warning(
                    "compensation of node %s failed: %s", name, describe(error)
                )

    async def on_error(self, handler: StepOptions, flow: Flow, record: Recorder) -> Any:
        """Call a chain's `on_error` handler with the first failure; return its output."""
        name, error_type, message = record.failures[0]
        step = self.plan.node(name).runs
        info = ErrorInfo(step=step, error_type=error_type, message=message, input=flow.result())
        try:
            return await call_step(
                self.options(handler), info, usage=record.progress.usage, summary="on_error"
            )
        except (ActivityError, ApplicationError) as error:
            raise step_failed(self.plan.name, handler.name, error) from error
