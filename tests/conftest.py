import pytest


@pytest.fixture(autouse=True)
def _config_env_restored(monkeypatch: pytest.MonkeyPatch) -> None:
    # `beluga --config F` exports BELUGA_CONFIG for the rest of its process; in-process
    # CliRunner invocations must not leak it into later tests. Set first so that undo
    # restores the original state even when the variable was absent.
    monkeypatch.setenv("BELUGA_CONFIG", "")
    monkeypatch.delenv("BELUGA_CONFIG")
