from collections.abc import Iterator

import pytest

from beluga_temporal.observability import Observability, setup_observability
from beluga_temporal.settings import BelugaSettings
from beluga_temporal.testing import OTLPReceiver


def settings_for(receiver: OTLPReceiver, **observability: object) -> BelugaSettings:
    return BelugaSettings(
        observability={"otlp_endpoint": receiver.endpoint, "log_format": "json", **observability}
    )


@pytest.fixture(scope="module")
def receiver() -> Iterator[OTLPReceiver]:
    with OTLPReceiver() as receiver:
        yield receiver


@pytest.fixture(scope="module")
def observability(receiver: OTLPReceiver) -> Iterator[Observability]:
    # module scope: one Temporal Core runtime per module, not one per test
    obs = setup_observability(settings_for(receiver))
    yield obs
    obs.shutdown()
