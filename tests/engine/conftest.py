from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from beluga_temporal.plan import process_defaults


@pytest.fixture
def history_bound(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[int], None]]:
    """Force runs started by this process to continue as new after `events` events."""

    def set_bound(events: int) -> None:
        monkeypatch.setenv("BELUGA_ORCHESTRATION__HISTORY__MAX_EVENTS", str(events))
        process_defaults.cache_clear()

    yield set_bound
    process_defaults.cache_clear()
