"""A child process configured only by its environment: one span, flushed, then exit.

`python -m tests.observability.otel_child SPAN_NAME` prints the resolved observability
settings as JSON. A process of its own: OpenTelemetry's global providers (and the
resource they carry) can be installed once per process.
"""

from __future__ import annotations

import json
import os
import sys

from beluga_temporal.observability import setup_observability


def main() -> None:
    obs = setup_observability()
    with obs.tracer().start_as_current_span(sys.argv[1]):
        pass
    flushed = obs.force_flush(5_000)  # synchronous: what is exported has arrived when it returns
    print(json.dumps({"flushed": flushed, **obs.settings.model_dump(mode="json")}), flush=True)
    # Temporal's Rust core may abort a finalizing interpreter (see beluga's `exit_process`)
    os._exit(0)


if __name__ == "__main__":
    main()
