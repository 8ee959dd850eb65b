"""Versions of one graph and one chain for `beluga graph diff` tests."""

from __future__ import annotations

from typing import Any

from beluga_temporal import Chain, Graph, RetryPolicy, step


@step
async def fetch(state: dict[str, Any]) -> dict[str, Any]:
    return {"fetched": True}


@step
async def score(state: dict[str, Any]) -> dict[str, Any]:
    return {"score": 1}


@step
async def rescore(state: dict[str, Any]) -> dict[str, Any]:
    return {"score": 2}


@step
async def publish(state: dict[str, Any]) -> dict[str, Any]:
    return {"published": True}


@step
async def archive(state: dict[str, Any]) -> dict[str, Any]:
    return {"archived": True}


def by_score(state: dict[str, Any]) -> str:
    return "publish" if state["score"] > 0 else "archive"


def _declare(*, timeout: float = 10, max_workers: int | None = None, previous: Any = ()) -> Graph:
    graph = Graph("diff-graph", max_workers=max_workers, previous=previous)
    graph.add_node("fetch", fetch)
    graph.add_node("score", score, timeout=timeout)
    graph.add_node("publish", publish).add_node("archive", archive)
    graph.add_edge("fetch", "score")
    graph.add_conditional_edges("score", by_score, {"publish": "publish", "archive": "archive"})
    return graph.set_entry_point("fetch")


base = _declare()
same = _declare()
tuned = _declare(timeout=60, max_workers=4)  # a step option and a graph option changed

reshaped = Graph("diff-graph")  # `score` runs another step, `archive` is gone, a new route
reshaped.add_node("fetch", fetch)
reshaped.add_node("score", rescore.with_options(retry=RetryPolicy(max_attempts=5)))
reshaped.add_node("publish", publish)
reshaped.add_edge("fetch", "score")
reshaped.add_conditional_edges("score", by_score, {"publish": "publish", "skip": "publish"})
reshaped.set_entry_point("fetch")

tuned_with_previous = _declare(timeout=60, max_workers=4, previous=[base])

chain_v1 = Chain("diff-chain", steps=[fetch, score])
chain_v2 = Chain("diff-chain", steps=[fetch, score, publish], retries=5)
