"""Prometheus text exposition: requests, a latency histogram, orders by state, queue depth.

Kept in process (no client library): one process's counters, summed by the scraper across
processes as Prometheus does for any counter.
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

from sqlalchemy import func, select

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: Counter[tuple[str, str, int]] = Counter()
        self.buckets: Counter[tuple[str, float]] = Counter()
        self.sums: Counter[str] = Counter()
        self.counts: Counter[str] = Counter()
        self.fallbacks: Counter[str] = Counter()

    def fallback(self, where: str) -> None:
        """A model reply was not used and the deterministic path answered instead."""
        with self._lock:
            self.fallbacks[where] += 1

    def observe(self, method: str, path: str, status: int, seconds: float) -> None:
        with self._lock:
            self.requests[(method, path, status)] += 1
            for b in BUCKETS:
                if seconds <= b:
                    self.buckets[(path, b)] += 1
            self.sums[path] += seconds
            self.counts[path] += 1

    def render(self, services: Any) -> str:
        lines = [
            "# HELP copilot_requests_total HTTP requests by method, route and status.",
            "# TYPE copilot_requests_total counter",
        ]
        with self._lock:
            for (method, path, status), n in sorted(self.requests.items()):
                lines.append(
                    f'copilot_requests_total{{method="{method}",route="{path}",status="{status}"}} {n}'
                )
            lines += [
                "# HELP copilot_request_seconds Request latency by route.",
                "# TYPE copilot_request_seconds histogram",
            ]
            for path in sorted(self.counts):
                for b in BUCKETS:
                    lines.append(
                        f'copilot_request_seconds_bucket{{route="{path}",le="{b}"}} '
                        f"{self.buckets[(path, b)]}"
                    )
                lines.append(
                    f'copilot_request_seconds_bucket{{route="{path}",le="+Inf"}} {self.counts[path]}'
                )
                lines.append(f'copilot_request_seconds_sum{{route="{path}"}} {self.sums[path]:.6f}')
                lines.append(f'copilot_request_seconds_count{{route="{path}"}} {self.counts[path]}')
            lines += [
                "# HELP copilot_llm_fallbacks_total Model replies replaced by the deterministic path.",
                "# TYPE copilot_llm_fallbacks_total counter",
            ]
            for where in ("answer", "draft"):
                lines.append(
                    f'copilot_llm_fallbacks_total{{where="{where}"}} {self.fallbacks[where]}'
                )
        lines += _store_gauges(services)
        return "\n".join(lines) + "\n"


def _store_gauges(services: Any) -> list[str]:
    from copilot.work_orders.models import WorkOrder

    lines = [
        "# HELP copilot_work_orders Work orders by state.",
        "# TYPE copilot_work_orders gauge",
    ]
    with services.orders.engine.connect() as conn:
        for state, n in conn.execute(
            select(WorkOrder.state, func.count()).group_by(WorkOrder.state)
        ):
            lines.append(f'copilot_work_orders{{state="{state}"}} {n}')
    lines += [
        "# HELP copilot_event_queue_depth Submitted events waiting or being worked.",
        "# TYPE copilot_event_queue_depth gauge",
        f"copilot_event_queue_depth {services.inbox.depth()}",
    ]
    return lines
