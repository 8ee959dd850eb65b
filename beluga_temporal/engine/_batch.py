"""Map nodes with `batch_size=`: each batch of items runs as a child workflow.

One workflow working through a long list handles every item's completion in its own
workflow tasks, one after another; batches as children spread that work over as many
workflows (and workers) as run at once, and keep every history short. The parent runs
its batches like map items (bounded, in order, resumable across continue-as-new) and
joins their results in input order.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import temporalio.workflow
from temporalio.exceptions import ApplicationError

from beluga_temporal.engine._calls import call_child, call_step
from beluga_temporal.engine._checkpoints import LocalCheckpoints
from beluga_temporal.engine._failures import NodeFailure
from beluga_temporal.engine._map import MapRun
from beluga_temporal.engine._nodes import child_workflow_id, default_retry
from beluga_temporal.engine._plans import plan_for
from beluga_temporal.plan import NodePlan, Plan, StartContext

MAP_BATCH_WORKFLOW = "beluga.map-batch"
"""Workflow type (wire format) of a batch of a map node's items."""
ITEMS_PER_CHILD_SLOT = 25
"""Of a node's `max_concurrency`, how many items each child in flight runs at once."""


def uses_batches(plan: Plan) -> bool:
    """Whether `plan` (or a plan it nests) has a map node with `batch_size`."""
    return any(
        node.map_batch is not None or (node.child is not None and uses_batches(node.child))
        for node in plan.nodes
    )


@dataclasses.dataclass(frozen=True)
class BatchPlan:
    """How a batched map node splits its items and its concurrency."""

    batches: list[list[Any]]
    children: int
    """Batch children in flight at once."""
    per_child: int
    """Items in flight in each child."""

    @classmethod
    def of(cls, node: NodePlan, items: list[Any]) -> BatchPlan:
        """Split `items` into the node's batches and share its concurrency between them."""
        size = node.map_batch or len(items) or 1
        batches = [items[i : i + size] for i in range(0, len(items), size)]
        children = max(1, min(len(batches), node.map_concurrency // ITEMS_PER_CHILD_SLOT))
        return cls(batches, children, max(1, node.map_concurrency // children))


async def run_batch(
    plan: Plan, node: NodePlan, context: StartContext, index: int, split: BatchPlan
) -> list[Any]:
    """Parent side: run batch `index` of `node` as a child workflow; return its results."""
    offset = sum(len(batch) for batch in split.batches[:index])
    request = {
        "node": node.name,
        "offset": offset,
        "items": split.batches[index],
        "concurrency": split.per_child,
        "context": context.to_json(),
    }
    last = offset + len(split.batches[index]) - 1
    result: list[Any] = await call_child(
        MAP_BATCH_WORKFLOW,
        request,
        workflow_id=child_workflow_id(temporalio.workflow.info(), f"{node.name}/batch-{index}"),
        memo={},
        summary=f"items {offset}-{last} of map node {node.name} of {plan.name}",
        settle=context.settle_cancelled,
    )
    return result


# Unsandboxed, like generated workflows without routes (see `runs_user_code`): a batch
# runs beluga's own code on plain data and its step as activities, never user code in
# the workflow. The sandbox would check nothing, yet it cost 4.4 ms of worker CPU per
# item against 2.5 for the same items run by the parent (benchmarks/long_runs.py).
@temporalio.workflow.defn(name=MAP_BATCH_WORKFLOW, sandboxed=False)
class MapBatch:
    """A batch of one map node's items: runs the node's step on each, in order."""

    @temporalio.workflow.run
    async def run(self, request: dict[str, Any]) -> list[Any]:
        """Run the batch; fail naming the first item that failed (its index in the node)."""
        context = StartContext.from_json(request["context"])
        assert context is not None
        plan = plan_for(context.plan)  # the parent's plan: it declares the node
        node = plan.node(request["node"])
        assert node.step is not None
        options = node.step.resolved(
            default_retry(plan, context), plan.local, settle_cancelled=context.settle_cancelled
        )
        offset = int(request["offset"])
        checkpoints = LocalCheckpoints(context.defaults.checkpoint_rule)
        # Rule 1 counted nothing here: a local batch ran in one workflow task.
        counted = checkpoints.done if options.local and checkpoints.rule >= 2 else None

        async def one(index: int, item: Any) -> Any:
            summary = f"{node.name}[{offset + index}]"
            return await call_step(
                options, item, summary=summary, check_input=False, on_result=counted
            )

        results: list[Any] = []
        mapped = MapRun(
            node,
            request["items"],
            results,
            one,
            draining=lambda: False,
            on_item=lambda done: None,
            checkpoints=checkpoints,
            concurrency=int(request["concurrency"]),
            offset=offset,
        )
        try:
            return list(await mapped.drive())
        except NodeFailure as failure:
            raise ApplicationError(
                str(failure), type=failure.error_type, non_retryable=True
            ) from None
