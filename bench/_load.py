"""Closed-loop HTTP load for the server benchmarks (bench.api, bench.bot)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
import numpy as np
from rich.table import Table

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


def load_row(latencies: list[float], errors: int, seconds: float) -> dict:
    """One table row of a closed-loop run: latency figures, throughput, errors."""
    return {
        **latency_stats(latencies),
        "per_s": round(len(latencies) / seconds, 1),
        "errors": errors,
    }


def serve(env: dict[str, str], port: int, *options: str) -> subprocess.Popen:
    """``copilot serve`` on 127.0.0.1:``port`` in its own process; returns once it is ready."""
    copilot = str(Path(sys.executable).parent / "copilot")
    proc = subprocess.Popen(
        [copilot, "serve", "--port", str(port), *options],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            raise RuntimeError("copilot serve exited before it was ready")
        time.sleep(0.5)
    return proc


def rows_table(title: str, rows: dict[str, dict], note: Callable[[dict], str]) -> Table:
    """Rows of ``load_row`` figures (and ``note`` for rows that are not latencies)."""
    table = Table(title=title)
    for col in ("row", "per s", "p50 ms", "p95 ms", "p99 ms", "errors / note"):
        table.add_column(col)
    for name, r in rows.items():
        table.add_row(
            name,
            str(r.get("per_s")),
            *(str(r.get(k, "")) for k in ("p50_ms", "p95_ms", "p99_ms")),
            str(r["errors"]) if "errors" in r else note(r),
        )
    return table
