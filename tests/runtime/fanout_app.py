"""A fan-out graph whose scheduling is left to settings (max workers, parallel).

Its histories are replayed in subprocesses with other `BELUGA_*` settings.
"""

from __future__ import annotations

from typing import Any

from beluga_temporal import Graph, step


@step
async def split(state: dict[str, Any]) -> dict[str, Any]:
    return {"parts": state.get("parts", 4)}


@step
async def part(state: dict[str, Any]) -> int:
    return int(state["parts"])


@step
async def join(state: dict[str, Any]) -> dict[str, Any]:
    return {"total": sum(state[f"p{i}"] for i in range(4))}


fanout = Graph("versions-fanout")  # no max_workers / parallel: settings decide per run
fanout.add_node("split", split)
for index in range(4):
    fanout.add_node(f"p{index}", part)
    fanout.add_edge("split", f"p{index}")
    fanout.add_edge(f"p{index}", "join")
fanout.add_node("join", join)
fanout.set_entry_point("split")
