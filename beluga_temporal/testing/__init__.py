"""Test helpers: fixtures, replay helpers and a fake OpenAI server."""

from beluga_temporal.testing._fake_openai import FakeOpenAIServer, RecordedRequest
from beluga_temporal.testing._otlp_receiver import (
    MetricPoint,
    OTLPReceiver,
    ReceivedSpan,
)

__all__ = [
    "FakeOpenAIServer",
    "MetricPoint",
    "OTLPReceiver",
    "ReceivedSpan",
    "RecordedRequest",
]
