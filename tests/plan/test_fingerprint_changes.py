"""A plan's fingerprint changes with what shapes a run's commands, and only with that.

Issue 12.1: nodes, edges, activity names and options, route functions (by qualified
name) and scheduling settings are part of a plan's identity; declaring the same graph
again (in this process or another) gives the same fingerprint.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from beluga_temporal import Chain, Graph, RetryPolicy, step

ROOT = Path(__file__).resolve().parents[2]


@step
async def fetch(state: dict[str, Any]) -> dict[str, Any]:
    return {"fetched": True}


@step
async def score(state: dict[str, Any]) -> dict[str, Any]:
    return {"score": 1}


@step
async def audit(state: dict[str, Any]) -> dict[str, Any]:
    return {"audited": True}


@step
async def approve(state: dict[str, Any]) -> dict[str, Any]:
    return {"approved": True}


@step
async def reject(state: dict[str, Any]) -> dict[str, Any]:
    return {"approved": False}


def route(state: dict[str, Any]) -> str:
    return "yes" if state.get("score") else "no"


def same_body_other_name(state: dict[str, Any]) -> str:
    return "yes" if state.get("score") else "no"


def declare(
    *,
    edges: tuple[tuple[str, str], ...] = (("fetch", "score"), ("fetch", "audit")),
    scorer: Any = score,
    router: Any = route,
    **graph_options: Any,
) -> Graph:
    """The base graph; each keyword changes one thing about it."""
    g = Graph("fingerprinted", **graph_options)
    g.add_node("fetch", fetch).add_node("score", scorer).add_node("audit", audit)
    g.add_node("approve", approve).add_node("reject", reject)
    for src, dst in edges:
        g.add_edge(src, dst)
    g.add_conditional_edges("score", router, {"yes": "approve", "no": "reject"})
    g.set_entry_point("fetch")
    return g


BASE = declare().fingerprint

CHANGES: dict[str, Callable[[], Graph]] = {
    "an edge added": lambda: declare(
        edges=(("fetch", "score"), ("fetch", "audit"), ("audit", "approve"))
    ),
    "an edge moved": lambda: declare(edges=(("fetch", "score"), ("score", "audit"))),
    "a step's timeout": lambda: declare(scorer=score.with_options(timeout=5)),
    "a step's retry policy": lambda: declare(
        scorer=score.with_options(retry=RetryPolicy(max_attempts=9))
    ),
    "a step's retry backoff": lambda: declare(
        scorer=score.with_options(retry=RetryPolicy(initial_backoff=3))
    ),
    "a step's non-retryable errors": lambda: declare(
        scorer=score.with_options(non_retryable=["ValueError"])
    ),
    "a step's task queue": lambda: declare(scorer=score.with_options(task_queue="llm")),
    "an activity name": lambda: declare(scorer=score.with_options(name="score-v2")),
    "a route function's name": lambda: declare(router=same_body_other_name),
    "max_workers": lambda: declare(max_workers=3),
    "parallel": lambda: declare(parallel=False),
    "on_error": lambda: declare(on_error="continue"),
    "local mode": lambda: declare(local=True),
}


@pytest.mark.parametrize("change", list(CHANGES))
def test_the_fingerprint_changes_with(change: str) -> None:
    assert CHANGES[change]().fingerprint != BASE


def test_every_change_gives_a_fingerprint_of_its_own() -> None:
    prints = {change: make().fingerprint for change, make in CHANGES.items()}
    assert len(set(prints.values())) == len(prints), prints


def test_declaring_the_same_graph_again_keeps_its_fingerprint() -> None:
    assert declare().fingerprint == BASE
    # Options equal to the step's own, given again: the same plan.
    assert declare(scorer=score.with_options(timeout=60)).fingerprint == BASE
    assert declare(timeout=5).fingerprint == BASE  # the run's bound, set by its starter


def test_the_fingerprint_is_the_same_in_another_process() -> None:
    # Another interpreter with another hash seed: nothing may depend on set or dict
    # iteration order, or on object ids.
    code = f"import {__name__} as declared; print(declared.BASE)"
    path = os.pathsep.join([str(ROOT), str(Path(__file__).parent)])
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": path, "PYTHONHASHSEED": "12345"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == BASE


def test_a_map_node_and_a_chain_change_their_fingerprints_too() -> None:
    def mapped(concurrency: int) -> str:
        g = Graph("mapped")
        g.add_map_node("each", score, items="items", max_concurrency=concurrency)
        return g.set_entry_point("each").fingerprint

    assert mapped(4) == mapped(4)
    assert mapped(4) != mapped(5)
    chain = Chain("fp-chain", steps=[fetch, score]).fingerprint
    assert Chain("fp-chain", steps=[fetch, score]).fingerprint == chain
    assert Chain("fp-chain", steps=[score, fetch]).fingerprint != chain
    assert Chain("fp-chain", steps=[fetch, score], retries=5).fingerprint != chain
    assert Chain("fp-chain", steps=[fetch, score.with_options(timeout=1)]).fingerprint != chain


def test_a_graph_declared_in_a_script_matches_the_module_a_worker_imports(
    tmp_path: Path,
) -> None:
    # `python app.py` declares the graph in `__main__`; `beluga worker app` imports it as
    # `app`. Both processes must compute the same plan, routes and state model included.
    (tmp_path / "app.py").write_text(SCRIPT_GRAPH)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(tmp_path)])}

    def printed(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, *args], cwd=tmp_path, env=env, capture_output=True, text=True,
            timeout=60, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    as_script = printed("app.py")
    as_module = printed("-c", "import app; print(app.graph.fingerprint)")
    assert as_script == as_module


SCRIPT_GRAPH = """
import pydantic

from beluga_temporal import Graph, step


class State(pydantic.BaseModel):
    n: int = 0
    big: bool = False


@step
async def weigh(state: State) -> dict:
    return {"big": state.n > 3}


@step
async def done(state: State) -> dict:
    return {}


def pick(state: dict) -> str:
    return "done"


graph = Graph("script-graph", state=State)
graph.add_node("weigh", weigh).add_node("done", done)
graph.add_conditional_edges("weigh", pick, {"done": "done"})
graph.set_entry_point("weigh")

if __name__ == "__main__":
    print(graph.fingerprint)
"""
