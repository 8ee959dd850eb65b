"""Route functions run under the workflow sandbox's restrictions (DESIGN §3.9).

A route that reads the clock, draws random numbers or does I/O would route differently
on replay; it fails the run, naming the route, the first time it runs. Pure routes —
module functions, closures and lambdas declared in a test — work and replay stably.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from temporalio.worker import Replayer

from beluga_temporal import BelugaPlugin, LocalRuntime, Orchestrator, create_worker
from beluga_temporal.errors import GraphExecutionError
from beluga_temporal.testing import run_with_worker
from tests.engine import routes_app as app

Route = Callable[[dict[str, Any]], str]


async def run_route(runtime: LocalRuntime, task_queue: str, route: Route, n: int = 1) -> Any:
    """Run the two-branch graph whose branch `route` picks."""
    graph = app.routed("sandboxed-routes", route)
    return await run_with_worker(runtime.client, task_queue, graph, {"n": n})


@pytest.mark.parametrize(
    ("route", "uses"),
    [
        (app.by_random, "random.random"),
        (app.by_clock_module, "datetime.datetime.now"),  # import datetime
        (app.by_clock_class, "datetime.datetime.now"),  # from datetime import datetime
        (app.by_time, "time.time"),
        (app.by_file, "open"),
        (app.by_helper, "random.random"),  # through a helper function of its module
    ],
    ids=lambda value: value.__name__ if callable(value) else value,
)
async def test_a_non_deterministic_route_fails_the_run_naming_the_route(
    time_skipping_runtime: LocalRuntime, task_queue: str, route: Route, uses: str
) -> None:
    with pytest.raises(GraphExecutionError) as caught:
        await run_route(time_skipping_runtime, task_queue, route)
    error = caught.value
    assert (error.node, error.error_type) == ("start", "RoutingError")
    assert sorted(error.skipped) == ["left", "right"]
    assert f"route function tests.engine.routes_app:{route.__name__} of 'start'" in error.error
    assert f"is not deterministic: it uses {uses}," in error.error
    assert "read clocks, random numbers and I/O in a step" in error.error


async def test_a_route_reading_the_clock_through_its_closure_is_caught(
    time_skipping_runtime: LocalRuntime, task_queue: str
) -> None:
    import time

    def now_route(state: dict[str, Any]) -> str:
        return "left" if time.monotonic() else "right"

    with pytest.raises(GraphExecutionError, match=r"it uses time\.monotonic,"):
        await run_route(time_skipping_runtime, task_queue, now_route)


async def test_pure_routes_work_module_functions_closures_and_lambdas(
    time_skipping_runtime: LocalRuntime, task_queue: str
) -> None:
    threshold = 2

    def closure(state: dict[str, Any]) -> str:
        return "left" if state["n"] < threshold else "right"

    assert (await run_route(time_skipping_runtime, task_queue, app.by_state, n=1))["took"] == "left"
    assert (await run_route(time_skipping_runtime, task_queue, closure, n=3))["took"] == "right"
    lam: Route = lambda state: "right" if state["n"] + threshold > 4 else "left"  # noqa: E731
    assert (await run_route(time_skipping_runtime, task_queue, lam, n=3))["took"] == "right"


async def test_a_pure_route_replays_stably(dev_runtime: LocalRuntime, task_queue: str) -> None:
    graph = app.routed("sandboxed-replay", app.by_state)
    async with create_worker(dev_runtime.client, task_queue, targets=[graph]):
        handle = await Orchestrator(dev_runtime.client, task_queue).start_handle(graph, {"n": 2})
        assert (await handle.result())["took"] == "right"
    history = await handle.fetch_history()
    replayer = Replayer(workflows=[graph.workflow], plugins=[BelugaPlugin()])
    for _ in range(8):
        result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
        assert result.replay_failure is None
