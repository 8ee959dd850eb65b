"""`make demo` runs non-interactively and prints the order result."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.cli._procs import REPO, child_env


def test_demo_prints_the_order_result(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "workers.demo"],
        cwd=REPO,
        env=child_env(BELUGA_LEDGER_PATH=str(tmp_path / "ledger.db")),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "uses the offline 'test' provider" in done.stdout
    assert "Order result:" in done.stdout
    assert '"status": "completed"' in done.stdout
    assert "Web UI: http://localhost:" in done.stdout
