"""Chain and graph defaults come from settings unless the declaration sets them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from beluga_temporal import Chain, Graph
from beluga_temporal.plan import ChainPlan, RunDefaults, process_defaults
from tests import graph_examples as ex
from tests.examples import always_fails, validate_order


@pytest.fixture
def settings_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    process_defaults.cache_clear()
    yield monkeypatch
    monkeypatch.undo()
    process_defaults.cache_clear()


def test_settings_defaults_are_read_for_runs_not_baked_into_plans(
    settings_env: pytest.MonkeyPatch,
) -> None:
    settings_env.setenv("BELUGA_ORCHESTRATION__GRAPH__MAX_WORKERS", "3")
    settings_env.setenv("BELUGA_ORCHESTRATION__GRAPH__PARALLEL_EXECUTION", "false")
    settings_env.setenv("BELUGA_ORCHESTRATION__CHAIN__TIMEOUT", "42")
    settings_env.setenv("BELUGA_ORCHESTRATION__CHAIN__MAX_RETRIES", "7")
    settings_env.setenv("BELUGA_ORCHESTRATION__HISTORY__MAX_EVENTS", "500")
    g = Graph("defaults-graph")
    g.add_node("v", ex.validate).set_entry_point("v")
    plan = g.compile()
    # Open in the plan (and its fingerprint): a run fixes them when it starts.
    assert (plan.max_workers, plan.parallel) == (None, None)
    defaults = process_defaults()
    assert defaults == RunDefaults(
        max_workers=3, parallel=False, chain_retries=7, history_events=500
    )
    assert g.start_context(defaults).to_json()["defaults"]["max_workers"] == 3
    chain = Chain("defaults-chain", steps=[always_fails.with_options(retry=None)]).compile()
    assert isinstance(chain, ChainPlan)
    assert chain.timeout is not None
    assert chain.timeout.total_seconds() == 42  # the starter's bound on the run
    assert chain.retries is None


def test_declared_values_win_over_settings(settings_env: pytest.MonkeyPatch) -> None:
    settings_env.setenv("BELUGA_ORCHESTRATION__GRAPH__MAX_WORKERS", "3")
    g = Graph("explicit", max_workers=8, parallel=True)
    g.add_node("v", ex.validate).set_entry_point("v")
    assert (g.compile().max_workers, g.compile().parallel) == (8, True)
    chain = Chain("explicit-chain", steps=[validate_order], timeout=5, retries=2).compile()
    assert isinstance(chain, ChainPlan)
    assert chain.timeout is not None
    assert chain.timeout.total_seconds() == 5
    assert chain.retries == 2


def test_settings_change_the_fingerprint_only_when_declared() -> None:
    def graph(max_workers: int | None = None, timeout: float | None = None) -> Graph:
        g = Graph("fp", max_workers=max_workers, timeout=timeout)
        return g.add_node("v", ex.validate).set_entry_point("v")

    assert graph().fingerprint == graph().fingerprint
    assert graph(max_workers=4).fingerprint != graph().fingerprint
    assert graph(timeout=30).fingerprint == graph(timeout=60).fingerprint
