"""Disposition latency without an LLM: ``python -m bench.dispose [--n N] [--home DIR]``.

Submits development events (route → draft → pending order in a scratch SQLite store) and
prints p50/p95 beside routing alone on the same events in the same run: the baseline the
draft, the legal basis and the order write add to. Target: dispose p50 ≤ 300 ms.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import uuid
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bench._common import RESULTS_DIR, machine_info, percentiles, timed_queries
from copilot.knowledge import ensure_bundled_index
from copilot.services import build_services
from copilot.settings import Settings
from evals.datasets import DATASETS_DIR, load_jsonl

TARGET_P50_MS = 300.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=100, help="events to submit")
    ap.add_argument("--home", type=Path, default=Path(".copilot/bench"))
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(home=args.home, database_url=f"sqlite:///{tmp}/bench.db")
        services = build_services(settings, with_llm=False)
        ensure_bundled_index(services.kb, settings)
        cases = load_jsonl(DATASETS_DIR / "events_dev.jsonl")
        texts = [cases[i % len(cases)]["text"] for i in range(args.n)]
        services.route(texts[0], answer_consultations=False)  # warm-up: models, caches
        services.kb.embedder.forget_queries()
        _, route_ms = timed_queries(texts, lambda t: services.route(t, answer_consultations=False))
        services.kb.embedder.forget_queries()
        _, dispose_ms = timed_queries(
            texts, lambda t: services.submit_event(t, "bench", uuid.uuid4().hex)
        )
        services.close()
    rows = {"route (baseline)": percentiles(route_ms), "dispose": percentiles(dispose_ms)}
    table = Table(title=f"dispose without an LLM, {args.n} events (ms)")
    for col in ("stage", "p50", "p95"):
        table.add_column(col)
    for name, p in rows.items():
        table.add_row(name, str(p["p50_ms"]), str(p["p95_ms"]))
    console = Console()
    console.print(table)
    ok = rows["dispose"]["p50_ms"] <= TARGET_P50_MS
    console.print(
        f"dispose p50 {rows['dispose']['p50_ms']} ms, target <= {TARGET_P50_MS} ms: {'OK' if ok else 'MISSED'}"
    )
    RESULTS_DIR.mkdir(exist_ok=True)
    (RESULTS_DIR / "dispose.json").write_text(
        json.dumps({"machine": machine_info(), "latency": rows}, ensure_ascii=False, indent=2),
        encoding="utf-8",
    )


if __name__ == "__main__":
    main()
