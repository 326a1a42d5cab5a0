"""Answer latency without an LLM: ``python -m bench.answer [--home DIR]``.

Prints p50/p95 of ``ask`` per route (policy answer, refusal, indicator) beside the
retrieval-only latency of the same questions measured in the same run (the baseline
the answer engine adds its work to). Quality figures: ``copilot eval answer``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bench._common import RESULTS_DIR, machine_info, percentiles, timed_queries
from copilot.knowledge import ensure_bundled_index
from copilot.services import build_services
from copilot.settings import Settings
from evals.datasets import DATASETS_DIR, load_jsonl

TARGET_P50_MS = 150.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--home", type=Path, default=Path(".copilot/bench"))
    args = parser.parse_args()
    settings = Settings(home=args.home)
    services = build_services(settings, with_llm=False)
    ensure_bundled_index(services.kb, settings)
    sets = {
        "policy": load_jsonl(DATASETS_DIR / "answer_dev.jsonl")
        + load_jsonl(DATASETS_DIR / "policy_dev2.jsonl"),
        "refusal": load_jsonl(DATASETS_DIR / "unanswerable_dev.jsonl")
        + load_jsonl(DATASETS_DIR / "unanswerable_nearmiss_dev.jsonl"),
        "indicator": load_jsonl(DATASETS_DIR / "indicator_dev.jsonl"),
    }
    rows = {}
    for name, cases in sets.items():
        qs = [c["question"] for c in cases]
        # Both cold: the embedder remembers recent question vectors.
        services.kb.embedder.forget_queries()
        _, ask_ms = timed_queries(qs, services.answers.ask)
        services.kb.embedder.forget_queries()
        _, search_ms = timed_queries(qs, lambda q: services.kb.search(q, settings.answer_top_k))
        rows[name] = {"n": len(qs), "search": percentiles(search_ms), "ask": percentiles(ask_ms)}
    all_q = [c["question"] for cases in sets.values() for c in cases]
    services.kb.embedder.forget_queries()
    _, all_ms = timed_queries(all_q, services.answers.ask)
    rows["all"] = {"n": len(all_q), "ask": percentiles(all_ms)}

    console = Console()
    table = Table(title="copilot ask, no LLM (ms)")
    for col in ("questions", "n", "search p50", "search p95", "ask p50", "ask p95"):
        table.add_column(col)
    for name, r in rows.items():
        s = r.get("search", {})
        table.add_row(
            name,
            str(r["n"]),
            str(s.get("p50_ms", "–")),
            str(s.get("p95_ms", "–")),
            str(r["ask"]["p50_ms"]),
            str(r["ask"]["p95_ms"]),
        )
    console.print(table)
    console.print("quality figures: copilot eval answer (docs/evals.md)")
    ok = rows["all"]["ask"]["p50_ms"] <= TARGET_P50_MS
    console.print(
        f"ask p50 {rows['all']['ask']['p50_ms']} ms, target <= {TARGET_P50_MS} ms: {'OK' if ok else 'MISSED'}"
    )
    RESULTS_DIR.mkdir(exist_ok=True)
    out = {"machine": machine_info(), "latency": rows}
    (RESULTS_DIR / "answer.json").write_text(
        json.dumps(out, ensure_ascii=False, indent=2), encoding="utf-8"
    )


if __name__ == "__main__":
    main()
