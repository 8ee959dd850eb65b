"""Check in headless Chromium that the Web UI shows encrypted payloads decoded by the codec server.

What a user does (docs/guides/encryption.md), each part a real process:

1. `beluga codec-server --port C --cors-origin <Web UI origin>` with a fresh key;
2. `beluga dev --ui-codec-endpoint http://127.0.0.1:C` (SQLite file, so runs survive a
   restart);
3. a chain run with `BELUGA_ENCRYPTION_KEY` set: its input carries a distinctive text
   (`PLAINTEXT`), which the raw history must not contain;

then loads the run's event history page in headless Chromium three times:

- decoded: codec endpoint set, codec server up: the plain text is shown;
- codec server stopped: not shown, and the UI says it could not reach the codec server;
- `beluga dev` restarted on the same database without `--ui-codec-endpoint`: not shown;
  the input reads as the stored ciphertext (the base64 of the encrypted bytes).

The run's static summary (a payload too) is checked the same way.

Screenshots go to `--out` (default `/tmp/beluga-web-ui-codec`), never into the repository.

Usage (from the repository root; needs `chromium`, e.g. `apt-get install -y chromium`):

    .venv/bin/python scripts/web_ui_codec_check.py [--out DIR]

Exits 0 when every check passed, 1 otherwise (naming what was wrong). Every process it
starts is stopped before it exits.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import dataclasses
import html
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import temporalio.api.common.v1
import temporalio.api.workflowservice.v1
import temporalio.client

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from beluga_temporal import Chain, Orchestrator, create_worker, step  # noqa: E402
from tests._net import free_port  # noqa: E402
from tests.cli._procs import BELUGA, Proc, child_env  # noqa: E402

PLAINTEXT = "CODEC-UI-PLAINTEXT-4417"
"""In the run's input and result: shown only when the UI decodes through the codec server."""
SUMMARY = "chain codec-ui-chain: 1 node"
"""The start of the run's static summary: a payload too, so encrypted as well."""
CODEC_UNREACHABLE = "Codec Server could not connect"
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


@step
async def file_claim(claim: dict[str, str]) -> dict[str, str]:
    """Return the claim, marked filed (its result carries the plain text too)."""
    return {**claim, "filed": "yes"}


codec_ui_chain = Chain("codec-ui-chain", steps=[file_claim])


def chromium() -> str:
    """The Chromium executable on PATH."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    raise SystemExit("chromium not found: apt-get install -y chromium")


# Same flags as scripts/web_ui_check.py; not imported from it because that script
# imports test modules this one does not need.
def browse(url: str, profile: str, screenshot: Path) -> str:
    """Return the page's DOM after its scripts ran, and save a screenshot."""
    base = [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}"]
    shot = [*base, "--window-size=1400,1800", f"--screenshot={screenshot}", url]
    subprocess.run(shot, capture_output=True, timeout=PAGE_TIMEOUT, check=True)
    done = subprocess.run(
        [*base, "--dump-dom", url], capture_output=True, timeout=PAGE_TIMEOUT, check=True
    )
    dom = html.unescape(done.stdout.decode(errors="replace"))
    screenshot.with_suffix(".html").write_text(dom)  # to look at when a check fails
    # one space for every run of whitespace: the UI wraps long texts over lines
    return " ".join(dom.split())


@contextlib.contextmanager
def running(args: list[str], ready: str) -> Iterator[Proc]:
    """A `beluga` process with the key in its environment, stopped (group and all) on exit."""
    proc = Proc(args, env=child_env(BELUGA_ENCRYPTION_KEY=os.environ["BELUGA_ENCRYPTION_KEY"]))
    try:
        proc.wait_for_line(ready, timeout=60)
        yield proc
    finally:
        proc.stop(signal.SIGINT)


def dev_args(port: int, ui_port: int, db: Path, codec_endpoint: str | None) -> list[str]:
    """The `beluga dev` command line (on a database file, so runs survive a restart)."""
    args = [BELUGA, "dev", "--port", str(port), "--ui-port", str(ui_port)]
    args += ["--db-filename", str(db)]
    return args + (["--ui-codec-endpoint", codec_endpoint] if codec_endpoint else [])


@dataclasses.dataclass
class Run:
    """The chain run the pages show, and what the server stores of it."""

    workflow_id: str
    run_id: str
    raw_history: bytes
    stored_input: str
    """The start of the input payload's data as stored (base64): the UI's ciphertext."""


async def run_chain(address: str) -> Run:
    """Run the chain with the key from the environment; read back its raw history."""
    queue = f"codec-ui-{os.urandom(4).hex()}"
    orch = await Orchestrator.connect(address, task_queue=queue)
    async with create_worker(orch.client, queue, targets=[codec_ui_chain]):
        started = await orch.start(codec_ui_chain, {"claim": PLAINTEXT})
        result = await orch.result(started.workflow_id)
    assert result["claim"] == PLAINTEXT, result
    # read back without any codec: what the server (and a UI without the codec) holds
    plain = await temporalio.client.Client.connect(address)
    history = await plain.workflow_service.get_workflow_execution_history(
        temporalio.api.workflowservice.v1.GetWorkflowExecutionHistoryRequest(
            namespace="default",
            execution=temporalio.api.common.v1.WorkflowExecution(workflow_id=started.workflow_id),
        )
    )
    started_event = history.history.events[0].workflow_execution_started_event_attributes
    stored = base64.b64encode(started_event.input.payloads[0].data).decode()
    raw = history.history.SerializeToString()
    return Run(started.workflow_id, started.run_id, raw, stored[:32])


def judge(name: str, dom: str, shown: list[str], hidden: list[str]) -> list[str]:
    """Problems with one page: texts it does not show, or shows but must not."""
    problems = [f"{name}: {text!r} not shown" for text in shown if text not in dom]
    return problems + [f"{name}: {text!r} shown" for text in hidden if text in dom]


def check(out: Path, work: Path) -> list[str]:
    """Run the three page checks; return the problems found."""
    port, ui_port, codec_port = free_port(), free_port(), free_port()
    origin, endpoint = f"http://127.0.0.1:{ui_port}", f"http://127.0.0.1:{codec_port}"
    db, profile = work / "dev.db", str(work / "chromium")
    codec_args = [BELUGA, "codec-server", "--port", str(codec_port), "--cors-origin", origin]
    problems: list[str] = []
    with running(dev_args(port, ui_port, db, endpoint), "Press Ctrl+C"):
        run = asyncio.run(run_chain(f"127.0.0.1:{port}"))
        if PLAINTEXT.encode() in run.raw_history or SUMMARY.encode() in run.raw_history:
            problems.append("the raw history holds plain text: nothing to decode")
        page = f"{origin}/namespaces/default/workflows/"
        page += f"{urllib.parse.quote(run.workflow_id, safe='')}/{run.run_id}/history"
        print(f"run {run.workflow_id}: {page}")
        print(f"stored input (base64, first 32 characters): {run.stored_input}")
        sealed = [PLAINTEXT, SUMMARY]
        with running(codec_args, "Press Ctrl+C"):
            dom = browse(page, profile, out / "decoded.png")
            problems += judge("decoded", dom, sealed, [run.stored_input, CODEC_UNREACHABLE])
        dom = browse(page, profile, out / "codec-server-down.png")
        problems += judge("codec server down", dom, [CODEC_UNREACHABLE, run.stored_input], sealed)
    with running(dev_args(port, ui_port, db, None), "Press Ctrl+C"):
        dom = browse(page, profile, out / "no-codec-endpoint.png")
        problems += judge(
            "no codec endpoint", dom, [run.stored_input], [*sealed, CODEC_UNREACHABLE]
        )
    return problems


def main(out: Path) -> int:
    """Check the pages; print the outcome; return the exit status."""
    os.environ["BELUGA_ENCRYPTION_KEY"] = base64.b64encode(os.urandom(32)).decode()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="beluga-codec-ui-") as work:
        problems = check(out, Path(work))
    for problem in problems:
        print("PROBLEM", problem)
    verdict = "FAIL" if problems else "OK"
    print(f"{verdict} in {time.monotonic() - started:.0f} s: screenshots in {out}")
    return 1 if problems else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("/tmp/beluga-web-ui-codec"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    try:
        sys.exit(main(args.out))
    except KeyboardInterrupt:
        sys.exit(130)
