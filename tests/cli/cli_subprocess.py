"""Run `beluga` as a subprocess against a test's `LocalRuntime` (its server's address)."""

from __future__ import annotations

import asyncio
import dataclasses

from beluga_temporal import LocalRuntime
from tests.cli._procs import BELUGA, REPO, child_env


@dataclasses.dataclass(frozen=True)
class Ran:
    """What a `beluga` command did."""

    code: int
    out: str
    err: str

    def __str__(self) -> str:
        return f"exit {self.code}\n--- stdout\n{self.out}\n--- stderr\n{self.err}"


def address(runtime: LocalRuntime) -> str:
    """The `host:port` of the runtime's server."""
    return runtime.client.service_client.config.target_host


async def beluga(runtime: LocalRuntime, *args: str, timeout: float = 60, **env: str) -> Ran:
    """Run `beluga --address ADDRESS ARGS...` with `env` added; wait for it to end."""
    proc = await asyncio.create_subprocess_exec(
        BELUGA,
        "--address",
        address(runtime),
        *args,
        cwd=REPO,
        env=child_env(**env),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout)
    except TimeoutError:
        proc.kill()
        out, err = await proc.communicate()
        err += b"\n[killed: timed out]"
    return Ran(proc.returncode or 0, out.decode(), err.decode())
