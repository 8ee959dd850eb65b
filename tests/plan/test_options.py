"""Step options as Temporal sees them: the retry policy mapping."""

from __future__ import annotations

from datetime import timedelta

from beluga_temporal import RetryPolicy


def test_retry_policy_maps_onto_temporal() -> None:
    policy = RetryPolicy(
        max_attempts=5,
        initial_backoff=0.2,
        backoff_factor=3,
        max_backoff=5,
        non_retryable=[KeyError],
    ).to_temporal(["Other"])
    assert policy.maximum_attempts == 5
    assert policy.initial_interval == timedelta(seconds=0.2)
    assert policy.backoff_coefficient == 3
    assert policy.maximum_interval == timedelta(seconds=5)
    assert policy.non_retryable_error_types == ["KeyError", "Other"]
