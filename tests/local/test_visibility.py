"""Runs on the embedded dev server reach visibility (`beluga list`) with their plan.

The embedded server polls its visibility queue twice a second (`_VISIBILITY_BATCHING` in
`beluga_temporal.local._environment`), so a short run usually ends before its start
record is written and gets only its close record. That record must still carry the memo
`beluga list` reads (the plan fingerprint), and every run must reach lists shortly.
"""

from __future__ import annotations

import asyncio
import time
import uuid

from beluga_temporal import LocalRuntime
from beluga_temporal.plan import MEMO_KEY, StartContext
from tests.local import eager_probe

RUNS = 12


async def test_short_runs_are_listed_completed_with_their_plan(dev_runtime: LocalRuntime) -> None:
    prefix = f"listed-{uuid.uuid4().hex[:8]}"
    ids = [f"{prefix}-{n}" for n in range(RUNS)]
    await asyncio.gather(
        *(dev_runtime.execute(eager_probe.probe, None, workflow_id=i) for i in ids)
    )
    query = f"WorkflowId STARTS_WITH '{prefix}-' AND ExecutionStatus = 'Completed'"
    deadline = time.monotonic() + 10
    while True:  # visibility is eventually consistent
        rows = [row async for row in dev_runtime.client.list_workflows(query)]
        if len(rows) == RUNS or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.1)
    assert sorted(row.id for row in rows) == sorted(ids)
    for row in rows:
        context = StartContext.from_json((await row.memo()).get(MEMO_KEY))
        assert context is not None
        assert context.plan == eager_probe.probe.fingerprint
