"""Payload encryption cost: the codec per payload, and a 3-step chain end to end.

1. Micro: `EncryptionCodec.encode` / `decode` per payload of 200 B, 10 KiB and 1 MiB, with
   a key and without one (the pass-through codec `BelugaPlugin` installs when no key is
   set, which only checks the `encoding` metadata).
2. End to end: the same 3-step chain on one tuned dev server through two clients —
   one whose plugin holds a key, one without — each with its own worker, runs
   interleaved. Prints p50/p95 latency of both and their ratio.

    .venv/bin/python benchmarks/codec_overhead.py [--runs 100] [--micro-only]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from beluga_temporal import BelugaPlugin, Chain, Orchestrator, create_worker, step
from beluga_temporal.local import start_environment
from beluga_temporal.security import EncryptionCodec

SIZES = {"200 B": 200, "10 KiB": 10 * 1024, "1 MiB": 1024 * 1024}


def _micro_case(codec: EncryptionCodec, size: int) -> tuple[float, float]:
    payloads = pydantic_data_converter.payload_converter.to_payloads([{"blob": "x" * size}])
    rounds = max(20, min(20_000, 20_000_000 // max(size, 1)))
    start = time.perf_counter()
    for _ in range(rounds):
        sealed = codec.encrypt(payloads)
    encode = (time.perf_counter() - start) / rounds
    start = time.perf_counter()
    for _ in range(rounds):
        codec.decrypt(sealed)
    decode = (time.perf_counter() - start) / rounds
    return encode * 1e6, decode * 1e6


def micro() -> None:
    keyed, keyless = EncryptionCodec(os.urandom(32)), EncryptionCodec()
    print("## Codec cost per payload (µs)\n")
    print("| payload | encode (key) | decode (key) | encode (no key) | decode (no key) |")
    print("|---|---|---|---|---|")
    for label, size in SIZES.items():
        enc, dec = _micro_case(keyed, size)
        penc, pdec = _micro_case(keyless, size)
        print(f"| {label} | {enc:.1f} | {dec:.1f} | {penc:.2f} | {pdec:.2f} |")
    print()


@step
async def validate(order: dict[str, object]) -> dict[str, object]:
    return {**order, "valid": True}


@step
async def price(order: dict[str, object]) -> dict[str, object]:
    return {**order, "total": 12.5}


@step
async def charge(order: dict[str, object]) -> dict[str, object]:
    return {**order, "charged": True}


chain = Chain("codec-bench-chain", steps=[validate, price, charge])


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def end_to_end(runs: int) -> None:
    env = await start_environment("dev")
    try:
        clients = {
            name: Client(
                env.client.service_client,
                namespace=env.client.namespace,
                plugins=[BelugaPlugin(payload_codec=codec)],
            )
            for name, codec in (
                ("no key", EncryptionCodec()),
                ("key", EncryptionCodec(os.urandom(32))),
            )
        }
        queues = {name: f"codec-bench-{uuid.uuid4().hex[:6]}" for name in clients}
        workers = [create_worker(clients[n], queues[n], targets=[chain]) for n in clients]
        order = {"order_id": "o-1", "items": ["book"] * 20, "note": "x" * 500}
        times: dict[str, list[float]] = {name: [] for name in clients}
        async with workers[0], workers[1]:
            for i in range(runs + 10):
                # alternate which goes first: the order of a pair must not bias the result
                order_of_pair = list(clients.items())[:: 1 if i % 2 else -1]
                for name, client in order_of_pair:
                    orch = Orchestrator(client, queues[name])
                    start = time.perf_counter()
                    await orch.execute(chain, order)
                    if i >= 10:  # warm-up runs are not counted
                        times[name].append((time.perf_counter() - start) * 1000)
    finally:
        await env.shutdown()
    print(f"## 3-step chain, tuned dev server, {runs} sequential runs each (ms)\n")
    print("| client/worker | p50 | p95 | mean |")
    print("|---|---|---|---|")
    for name, values in times.items():
        p50, p95 = _percentile(values, 0.5), _percentile(values, 0.95)
        print(f"| {name} | {p50:.1f} | {p95:.1f} | {statistics.mean(values):.1f} |")
    ratio = statistics.median(times["key"]) / statistics.median(times["no key"])
    print(f"\np50 ratio key / no key: {ratio:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--micro-only", action="store_true")
    args = parser.parse_args()
    micro()
    if not args.micro_only:
        asyncio.run(end_to_end(args.runs))


if __name__ == "__main__":
    main()
