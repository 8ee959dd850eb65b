"""`beluga dev --ui-codec-endpoint URL`: the Web UI it serves is configured with the codec.

The UI reads its configuration from its own `/api/v1/settings` endpoint (the JSON the
browser app loads first); `Codec.Endpoint` is where it sends payloads to decode. That
the UI then shows decoded payloads is checked in headless Chromium by
`scripts/web_ui_codec_check.py` (not in the suite: it needs a browser).
"""

from __future__ import annotations

import json
import signal
import time
import urllib.error
import urllib.request
from typing import Any

from tests._net import free_port
from tests.cli._procs import BELUGA, Proc, child_pids, processes_gone

UI_TIMEOUT = 30.0
"""Seconds the Web UI may take to answer after the frontend port opened."""


def ui_settings(ui_port: int) -> dict[str, Any]:
    """The Web UI's settings document, polled until the UI server answers."""
    url = f"http://127.0.0.1:{ui_port}/api/v1/settings"
    deadline = time.monotonic() + UI_TIMEOUT
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                found: dict[str, Any] = json.load(response)
                return found
        except (urllib.error.URLError, ConnectionError) as error:
            if time.monotonic() > deadline:
                raise AssertionError(f"the Web UI at {url} did not answer: {error}") from None
            time.sleep(0.1)


def test_dev_serves_a_web_ui_configured_with_the_codec_endpoint() -> None:
    # a port nobody serves: the UI only stores the address, the browser calls it later
    endpoint = f"http://127.0.0.1:{free_port()}"
    ui_port = free_port()
    args = [BELUGA, "dev", "--port", str(free_port()), "--ui-port", str(ui_port)]
    dev = Proc([*args, "--ui-codec-endpoint", endpoint])
    try:
        dev.wait_for_line("Press Ctrl+C")
        assert f"Web UI codec endpoint: {endpoint}" in dev.output
        servers = child_pids(dev.popen.pid, "start-dev")
        assert len(servers) == 1, servers

        codec = ui_settings(ui_port)["Codec"]
        assert codec["Endpoint"] == endpoint
        assert codec["PassAccessToken"] is False  # the documented defaults

        dev.popen.send_signal(signal.SIGINT)
        assert dev.popen.wait(20) == 0, dev.output
    finally:
        dev.stop()  # kills the process group if the SIGINT path did not end it
    assert "Temporal dev server stopped." in dev.output
    assert processes_gone(servers), f"the dev server outlived `beluga dev`: {servers}"
