"""What `beluga worker --processes N` hosts in the tests: a step that names its process."""

from __future__ import annotations

import asyncio
import os
from typing import Any

from beluga_temporal import Chain, step


@step(timeout=60)
async def report_pid(value: dict[str, Any]) -> dict[str, Any]:
    await asyncio.sleep(float(value.get("sleep", 0)))
    return {"pid": os.getpid()}


pid_chain = Chain("process-pid-chain", steps=[report_pid])
