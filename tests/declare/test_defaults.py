"""Chain and graph defaults come from settings unless the declaration sets them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from beluga_temporal import Chain, Graph
from beluga_temporal.declare import _defaults
from tests import graph_examples as ex
from tests.examples import always_fails, validate_order


@pytest.fixture
def settings_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    _defaults._settings.cache_clear()
    yield monkeypatch
    monkeypatch.undo()
    _defaults._settings.cache_clear()


def test_settings_defaults_flow_into_graphs_and_chains(settings_env: pytest.MonkeyPatch) -> None:
    settings_env.setenv("BELUGA_ORCHESTRATION__GRAPH__MAX_WORKERS", "3")
    settings_env.setenv("BELUGA_ORCHESTRATION__GRAPH__PARALLEL_EXECUTION", "false")
    settings_env.setenv("BELUGA_ORCHESTRATION__CHAIN__TIMEOUT", "42")
    settings_env.setenv("BELUGA_ORCHESTRATION__CHAIN__MAX_RETRIES", "7")
    g = Graph("defaults-graph")
    g.add_node("v", ex.validate).set_entry_point("v")
    plan = g.compile()
    assert (plan.max_workers, plan.parallel) == (3, False)
    chain = Chain("defaults-chain", steps=[always_fails.with_options(retry=None)]).compile()
    assert chain.timeout is not None
    assert chain.timeout.total_seconds() == 42
    assert chain.steps[0].retry is not None
    assert chain.steps[0].retry.max_attempts == 7


def test_declared_values_win_over_settings(settings_env: pytest.MonkeyPatch) -> None:
    settings_env.setenv("BELUGA_ORCHESTRATION__GRAPH__MAX_WORKERS", "3")
    g = Graph("explicit", max_workers=8, parallel=True)
    g.add_node("v", ex.validate).set_entry_point("v")
    assert g.compile().max_workers == 8
    chain = Chain("explicit-chain", steps=[validate_order], timeout=5).compile()
    assert chain.timeout is not None
    assert chain.timeout.total_seconds() == 5
    # A step's own retry policy is never replaced by the chain default.
    assert chain.steps[0].retry is None or chain.steps[0].retry.max_attempts == 3
