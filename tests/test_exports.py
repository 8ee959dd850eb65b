"""The public surface is pinned: changing it is a deliberate act."""

from __future__ import annotations

import beluga_temporal
import beluga_temporal.errors


def test_public_names_are_exported_and_importable() -> None:
    for name in beluga_temporal.__all__:
        assert getattr(beluga_temporal, name) is not None, name
    assert not [n for n in beluga_temporal.__all__ if n.startswith("_")]


def test_every_error_derives_from_the_one_root() -> None:
    for name in beluga_temporal.errors.__all__:
        error = getattr(beluga_temporal.errors, name)
        assert issubclass(error, beluga_temporal.errors.BelugaError), name
