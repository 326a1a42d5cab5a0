"""Small helpers shared by the benchmark driver and its search probe subprocess."""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = Path(__file__).resolve().parent / "results"


def proc_status_mib() -> dict[str, float]:
    """VmRSS (resident now) and VmHWM (peak resident) of this process, in MiB."""
    out: dict[str, float] = {}
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = round(int(rest.split()[0]) / 1024, 1)  # kB -> MiB
    return out


def loadavg() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def percentiles(ms: Sequence[float]) -> dict[str, float]:
    a = np.asarray(ms, dtype=float)
    return {
        "p50_ms": round(float(np.percentile(a, 50)), 2),
        "p95_ms": round(float(np.percentile(a, 95)), 2),
        "mean_ms": round(float(a.mean()), 2),
        "max_ms": round(float(a.max()), 2),
    }


def timed_queries(
    questions: Sequence[str], search: Callable[[str], Any], warmup: str | None = None
) -> tuple[list[Any], list[float]]:
    """One warm-up query, then every question timed with perf_counter (ms)."""
    search(warmup if warmup is not None else questions[0])
    results, lat = [], []
    for q in questions:
        t0 = time.perf_counter()
        r = search(q)
        lat.append((time.perf_counter() - t0) * 1000.0)
        results.append(r)
    return results, lat


def machine_info() -> dict[str, Any]:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_kib = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kib = int(line.split()[1])
    except OSError:
        pass
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu_model": cpu,
        "mem_total_gib": round(mem_kib / 1024 / 1024, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "date_utc": datetime.now(UTC).isoformat(timespec="seconds"),
    }
