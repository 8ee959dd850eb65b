"""Testing toolkit: pytest fixtures, replay checks, a fake OpenAI server, an OTLP receiver.

The pytest plugin (`beluga_temporal.testing.pytest_plugin`, registered as `beluga`)
gives `time_skipping_runtime`, `dev_runtime`, `task_queue` and `temporal_container`.
Run a target with one step faked: `runtime.execute(graph, input, overrides={step:
fake})`.
"""

from beluga_temporal.testing._container import docker_unavailable, temporal_container
from beluga_temporal.testing._fake_openai import FakeOpenAIServer, RecordedRequest
from beluga_temporal.testing._otlp_receiver import (
    MetricPoint,
    OTLPReceiver,
    ReceivedSpan,
)
from beluga_temporal.testing._replays import assert_replays, history_files
from beluga_temporal.testing._workers import run_with_worker

__all__ = [
    "FakeOpenAIServer",
    "MetricPoint",
    "OTLPReceiver",
    "ReceivedSpan",
    "RecordedRequest",
    "assert_replays",
    "docker_unavailable",
    "history_files",
    "run_with_worker",
    "temporal_container",
]
