"""Activity side: start a run that no beluga starter set up (the `beluga.start` activity).

A run started by another client (`temporal workflow start --type order-processing`)
carries no plan fingerprint or settings in its memo, and a child run may need its input
validated against its state model. The workflow asks its worker, in a local activity
whose result the history keeps: the newest plan this worker hosts, this worker's
settings, and the validated input. Replays read the answer from history.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import temporalio.activity
from temporalio.exceptions import ApplicationError

from beluga_temporal.engine import INVALID_RUN_INPUT, START_ACTIVITY, PlanVersions, versions_of
from beluga_temporal.errors import InvalidInputError
from beluga_temporal.plan import StartContext, process_defaults, validate_run_input
from beluga_temporal.plugin import is_time_skipping


def start_activity(workflows: Iterable[type]) -> Callable[..., Any]:
    """The `beluga.start` activity for a worker hosting `workflows`."""
    hosted: dict[str, PlanVersions] = {}
    for cls in workflows:
        versions = versions_of(cls)
        if versions is not None:
            hosted[versions.name] = versions

    # Async: it must not need a thread pool; validation is cheap.
    @temporalio.activity.defn(name=START_ACTIVITY)
    async def beluga_start(request: dict[str, Any]) -> dict[str, Any]:
        versions = hosted.get(request["workflow_type"])
        if versions is None:
            raise ApplicationError(
                f"this worker does not host '{request['workflow_type']}'", non_retryable=True
            )
        started = request.get("plan") or versions.newest_fingerprint
        plan = versions.by_fingerprint.get(started, versions.newest)
        try:
            validated = validate_run_input(plan, request.get("input"))
        except InvalidInputError as error:
            raise ApplicationError(str(error), type=INVALID_RUN_INPUT, non_retryable=True) from None
        settle = not await is_time_skipping(temporalio.activity.client())
        context = StartContext(plan=started, defaults=process_defaults(), settle_cancelled=settle)
        return {"context": context.to_json(), "input": validated}

    return beluga_start
