"""Check in headless Chromium that the Temporal Web UI reads as the graph.

Starts an embedded dev server with its Web UI on free loopback ports, runs three
workflows (a graph nesting a graph and a chain, a graph with a map node and a saga
compensation that fails, an LLM chain on the offline `test` provider), then loads their
event history pages in headless Chromium and checks what a person would read there:

- every activity row carries its node's summary (`reserve`, `weigh[0]`, `compensate reserve`);
- a run's first event carries its static summary (kind, node count, plan fingerprint);
- a child run's page names its parent and the node that started it;
- an LLM step's result is its own output, with no framework envelope.

Screenshots go to `--out` (default `/tmp/beluga-web-ui`), never into the repository.

Usage (from the repository root; needs `chromium`, e.g. `apt-get install -y chromium`):

    .venv/bin/python scripts/web_ui_check.py [--out DIR] [--keep-running]

Exits 0 when every check passed, 1 otherwise (naming what was missing).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import html
import shutil
import socket
import subprocess
import sys
import tempfile
import urllib.parse
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from beluga_temporal import Chain, LocalRuntime  # noqa: E402
from tests import composition_examples as cx  # noqa: E402
from tests.engine.test_web_ui import judge, parcels_graph  # noqa: E402

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--no-first-run",
    "--virtual-time-budget=15000",
]
PAGE_TIMEOUT = 90.0
"""Seconds one Chromium page load may take (the UI is a JS app loaded from the server)."""


def free_port() -> int:
    """A loopback port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def chromium() -> str:
    """The Chromium executable on PATH."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    raise SystemExit("chromium not found: apt-get install -y chromium")


def browse(url: str, profile: str, screenshot: Path | None = None) -> str:
    """Return the page's DOM after its scripts ran; save a screenshot if asked."""
    base = [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}"]
    if screenshot is not None:
        subprocess.run(
            [*base, "--window-size=1400,1800", f"--screenshot={screenshot}", url],
            capture_output=True,
            timeout=PAGE_TIMEOUT,
            check=True,
        )
    done = subprocess.run(
        [*base, "--dump-dom", url], capture_output=True, timeout=PAGE_TIMEOUT, check=True
    )
    # one space for every run of whitespace: the UI wraps long texts over lines
    return " ".join(html.unescape(done.stdout.decode(errors="replace")).split())


async def start_runs(rt: LocalRuntime) -> dict[str, tuple[str, str]]:
    """Run the three workflows; return name -> (workflow id, run id)."""
    runs: dict[str, tuple[str, str]] = {}
    handle = await rt.start(cx.NESTED_ORDER_GRAPH, cx.NESTED_ORDER_INPUT, workflow_id="ui-nested")
    await handle.result()
    runs["nested"] = (handle.id, handle.result_run_id or "")
    child = await rt.client.get_workflow_handle(f"{handle.id}/payment").describe()
    runs["child"] = (child.id, child.run_id)
    parcels = parcels_graph("ui-parcels")
    handle = await rt.start(parcels, {"order": "o-ui", "amount": 3}, workflow_id="ui-parcels")
    with contextlib.suppress(Exception):  # it fails on purpose: its saga compensation runs
        await handle.result()
    runs["parcels"] = (handle.id, handle.result_run_id or "")
    handle = await rt.start(
        Chain("ui-llm", steps=[judge]), {"order": "o-llm"}, workflow_id="ui-llm"
    )
    await handle.result()
    runs["llm"] = (handle.id, handle.result_run_id or "")
    return runs


def expectations() -> dict[str, list[str]]:
    """Texts each history page must show."""
    nested = f"graph nested-order-graph: 4 nodes, plan {cx.NESTED_ORDER_GRAPH.fingerprint}"
    parcels = parcels_graph("ui-parcels").fingerprint
    return {
        "nested": [nested, "payment-graph", "shipping-chain", "prepare", "notify"],
        "parcels": [
            f"graph ui-parcels: 4 nodes, plan {parcels}",
            "weigh[0]",
            "weigh[2]",
            "compensate reserve",
            '{"reserved":"res-o-ui"}',
        ],
        "llm": ["chain ui-llm: 1 node", '{"urgent":', "ui-judge"],
        "child": [
            "ui-nested/payment",
            "Parent Workflow",
            f"graph payment-graph: 3 nodes, plan {cx.PAYMENT.fingerprint} "
            "(node payment of nested-order-graph)",
        ],
    }


def check(runs: dict[str, tuple[str, str]], ui: str, out: Path) -> list[str]:
    """Load each page; return the expected texts that were missing."""
    problems = []
    pages = {
        name: f"{ui}/{urllib.parse.quote(wid, safe='')}/{run}" for name, (wid, run) in runs.items()
    }
    with tempfile.TemporaryDirectory() as profile:
        for name, url in pages.items():
            dom = browse(f"{url}/history", profile, out / f"{name}.png")
            for text in expectations()[name]:
                if text not in dom:
                    problems.append(f"{name} ({url}/history): {text!r} not shown")
            if "__beluga" in dom:
                problems.append(f"{name} ({url}/history): a framework envelope is shown")
        # The User Metadata tab renders in a frame --dump-dom does not descend into:
        # a screenshot to look at, no text check.
        browse(f"{pages['child']}/user-metadata", profile, out / "child-metadata.png")
    return problems


async def main(out: Path, keep_running: bool) -> int:
    """Run the workflows, check their pages, return the exit status."""
    ui_port = free_port()
    async with LocalRuntime(kind="dev", ui=True, port=free_port(), ui_port=ui_port) as rt:
        runs = await start_runs(rt)
        ui = f"http://127.0.0.1:{ui_port}/namespaces/default/workflows"
        problems = await asyncio.to_thread(check, runs, ui, out)
        for problem in problems:
            print("MISSING", problem)
        print(f"{'FAIL' if problems else 'OK'}: screenshots in {out}")
        if keep_running:
            print(f"Web UI: {ui} (Ctrl-C to stop)")
            await asyncio.Event().wait()
    return 1 if problems else 0


def parse(argv: list[str] | None = None) -> Any:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("/tmp/beluga-web-ui"))
    parser.add_argument("--keep-running", action="store_true")
    return parser.parse_args(argv)


if __name__ == "__main__":
    args = parse()
    args.out.mkdir(parents=True, exist_ok=True)
    try:
        sys.exit(asyncio.run(main(args.out, args.keep_running)))
    except KeyboardInterrupt:
        sys.exit(130)
