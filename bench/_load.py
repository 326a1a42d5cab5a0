"""Closed-loop HTTP load for the server benchmarks (bench.api, bench.bot)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import httpx
import numpy as np

from bench._common import percentiles

MakeRequest = Callable[[httpx.AsyncClient, int, int], Awaitable[httpx.Response]]


def latency_stats(ms: list[float]) -> dict[str, float]:
    """p50/p95/mean/max and p99 of latencies in ms (empty: nothing measured)."""
    return {**percentiles(ms), "p99_ms": round(float(np.percentile(ms, 99)), 2)} if ms else {}


async def closed_loop(
    client: httpx.AsyncClient, make_request: MakeRequest, seconds: float, concurrency: int
) -> tuple[list[float], int]:
    """``concurrency`` senders, each sending its next request when the last is answered,
    for ``seconds``; every latency (ms) and how many answers were errors (≥ 400)."""
    latencies: list[float] = []
    errors = 0
    stop = time.perf_counter() + seconds

    async def sender(w: int) -> None:
        nonlocal errors
        i = 0
        while time.perf_counter() < stop:
            t0 = time.perf_counter()
            resp = await make_request(client, w, i)
            latencies.append((time.perf_counter() - t0) * 1000)
            if resp.status_code >= 400:
                errors += 1
            i += 1

    await asyncio.gather(*(sender(w) for w in range(concurrency)))
    return latencies, errors
