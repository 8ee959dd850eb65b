"""Route functions for the sandbox tests: non-deterministic ones, and pure ones.

Module level, as users write them (the sandbox resolves their module globals).
"""

from __future__ import annotations

import datetime
import random
import time
from datetime import datetime as DateTime
from typing import Any

from beluga_temporal import Graph, step


@step
async def start(state: dict[str, Any]) -> dict[str, Any]:
    return {"n": state.get("n", 1)}


@step
async def left(state: dict[str, Any]) -> dict[str, Any]:
    return {"took": "left"}


@step
async def right(state: dict[str, Any]) -> dict[str, Any]:
    return {"took": "right"}


def by_random(state: dict[str, Any]) -> str:
    return "left" if random.random() < 0.5 else "right"


def by_clock_module(state: dict[str, Any]) -> str:
    return "left" if datetime.datetime.now().microsecond % 2 else "right"


def by_clock_class(state: dict[str, Any]) -> str:
    return "left" if DateTime.now().microsecond % 2 else "right"


def by_time(state: dict[str, Any]) -> str:
    return "left" if int(time.time()) % 2 else "right"


def by_file(state: dict[str, Any]) -> str:
    with open("/etc/hostname") as file:
        return "left" if len(file.read()) % 2 else "right"


def by_state(state: dict[str, Any]) -> str:
    return "left" if state["n"] % 2 else "right"


def routed(name: str, route: Any) -> Graph:
    """`start` then `left` or `right`, as `route` picks."""
    g = Graph(name)
    g.add_node("start", start).add_node("left", left).add_node("right", right)
    g.add_conditional_edges("start", route, {"left": "left", "right": "right"})
    return g.set_entry_point("start")


def _coin() -> float:
    return random.random()


def by_helper(state: dict[str, Any]) -> str:
    return "left" if _coin() < 0.5 else "right"
