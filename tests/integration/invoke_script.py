"""A user's script calling `invoke()`, as the lifecycle tests run it (one process each).

Usage: `python invoke_script.py ok|fail|block`. It prints `server <pid>` (the embedded
server, for the leftover check) and, for `block`, `running` once the step has started,
then waits in it for a signal; `done <epoch seconds>` when `main()` returned.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path
from typing import Any

from beluga_temporal import Graph, RetryPolicy, step


@step
async def fine(state: dict[str, Any]) -> dict[str, Any]:
    return {"y": state["x"] + 1}


@step(retry=RetryPolicy(max_attempts=1))
async def boom(state: dict[str, Any]) -> dict[str, Any]:
    raise ValueError("nope")


@step
async def block(state: dict[str, Any]) -> dict[str, Any]:
    print("server", server_pid(), flush=True)
    print("running", flush=True)
    await asyncio.Event().wait()  # until the process is signalled
    return {}


def graph(step_: Any) -> Graph:
    g = Graph(f"lifecycle-{step_.name}")
    g.add_node("only", step_)
    g.set_entry_point(["only"])
    return g


def server_pid() -> int:
    """The embedded server: our only child whose command is a Temporal binary."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            if ppid == os.getpid() and b"temporal" in cmdline:
                return int(entry.name)
    raise AssertionError("no embedded server found")


async def main(mode: str) -> None:
    target = graph({"ok": fine, "fail": boom, "block": block}[mode])
    if mode == "block":
        await target.invoke({"x": 1})
        return
    try:
        print(await target.invoke({"x": 1}), flush=True)
    except Exception as error:
        print("caught", type(error).__name__, flush=True)
    print("server", server_pid(), flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
    print("done", time.time(), flush=True)
