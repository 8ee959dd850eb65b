"""`beluga graph diff OLD NEW`: what a reviewer reads before deploying a changed graph."""

from __future__ import annotations

import pytest
from click.testing import CliRunner, Result

from beluga_temporal.cli import EXIT_FAILURE, EXIT_USAGE, cli
from tests.cli import diff_graphs as versions


def diff(old: str, new: str) -> Result:
    return CliRunner().invoke(
        cli, ["graph", "diff", f"tests.cli.diff_graphs:{old}", f"tests.cli.diff_graphs:{new}"]
    )


def test_identical_versions_exit_0() -> None:
    result = diff("base", "same")
    assert result.exit_code == 0, result.output
    fingerprint = versions.base.fingerprint
    assert result.stdout.splitlines() == [
        f"old: graph 'diff-graph' plan {fingerprint}",
        f"new: graph 'diff-graph' plan {fingerprint}",
        f"identical: runs in flight need nothing (plan {fingerprint}) (routes are compared "
        "by name: `beluga replay` catches an edited body)",
    ]


def test_changed_options_need_previous() -> None:
    result = diff("base", "tuned")
    assert result.exit_code == EXIT_FAILURE
    lines = result.stdout.splitlines()
    assert lines[:6] == [
        f"old: graph 'diff-graph' plan {versions.base.fingerprint}",
        f"new: graph 'diff-graph' plan {versions.tuned.fingerprint}",
        "steps:",
        "  ~ score (node score): start_to_close: 10.0 -> 60.0",
        "options:",
        "  ~ max_workers: - -> 4",
    ]
    assert lines[6].startswith("runs in flight need previous=: yes (the fingerprints differ): ")
    assert "Graph('diff-graph', ..., previous=[<the old declaration>])" in lines[6]
    assert f"runs started on plan {versions.base.fingerprint} keep their shape" in lines[6]


def test_a_reshaped_graph_lists_nodes_edges_steps_and_options() -> None:
    result = diff("base", "reshaped")
    assert result.exit_code == EXIT_FAILURE
    report = result.stdout
    expected = """nodes:
  - archive (runs archive)
  ~ score: runs score -> rescore
edges:
  + score -[publish|skip]-> publish
  - score -[archive]-> archive
  - score -[publish]-> publish
steps:
  + rescore
  - archive
  - score
options:
  ~ finish: ['publish', 'archive'] -> ['publish']
  ~ routers.score.mapping.archive: archive -> -
  ~ routers.score.mapping.skip: - -> publish
"""
    assert expected in report


def test_a_new_version_that_declares_previous_says_so() -> None:
    result = diff("base", "tuned_with_previous")
    assert result.exit_code == EXIT_FAILURE  # they still differ
    assert result.stdout.splitlines()[-1] == (
        "runs in flight need previous=: yes, and the new declaration has it "
        f"(it knows plan {versions.base.fingerprint})"
    )


def test_chains_are_compared_too() -> None:
    result = diff("chain_v1", "chain_v2")
    assert result.exit_code == EXIT_FAILURE
    assert "nodes:\n  + publish (runs publish)\nedges:\n  + score -> publish\n" in result.stdout
    assert "options:\n  ~ retries: - -> 5\n" in result.stdout
    assert "declare Chain('diff-chain', ..., previous=[" in result.stdout


def test_different_workflow_types_are_named() -> None:
    result = diff("chain_v1", "base")
    assert result.exit_code == EXIT_FAILURE
    assert result.stdout.splitlines()[-1].startswith(
        "different workflow types ('diff-chain', 'diff-graph')"
    )


@pytest.mark.parametrize(
    ("old", "message"),
    [
        ("tests.cli.diff_graphs:nope", "has no attribute 'nope'"),
        ("tests.cli.replay_chains:HandABA", "only chains and graphs"),
        ("tests.cli.diff_graphs", "must be 'module:attribute'"),
    ],
)
def test_bad_targets_exit_2(old: str, message: str) -> None:
    result = CliRunner().invoke(cli, ["graph", "diff", old, "tests.cli.diff_graphs:base"])
    assert result.exit_code == EXIT_USAGE
    assert message in result.stderr
