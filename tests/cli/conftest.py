from __future__ import annotations

from collections.abc import Iterator

import pytest

from beluga_temporal.observability import setup_observability
from beluga_temporal.settings import BelugaSettings
from tests.cli._procs import Cluster, running_cluster


@pytest.fixture(scope="session", autouse=True)
def _logging_configured_once() -> None:
    # Configured before CliRunner swaps sys.stderr, so the log handler never points at
    # a stream CliRunner closes (setup_observability is idempotent for equal settings).
    setup_observability(BelugaSettings.load())


@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """`beluga dev` + `beluga worker workflows.order_processing`, once per session."""
    with running_cluster(tmp_path_factory.mktemp("cluster")) as running:
        yield running
