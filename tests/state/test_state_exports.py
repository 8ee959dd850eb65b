import beluga_temporal.state


def test_public_names_are_pinned() -> None:
    assert sorted(beluga_temporal.state.__all__) == [
        "Change",
        "InMemoryStore",
        "SqliteStore",
        "StateStore",
        "Watch",
    ]
    for name in beluga_temporal.state.__all__:
        assert getattr(beluga_temporal.state, name).__module__.startswith("beluga_temporal.state")
