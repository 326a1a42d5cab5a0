"""Open an existing index in a fresh process, run the dev questions, report latency and memory.

Run by ``bench.retrieval`` as ``python -m bench._search_probe HOME [--limit N]``; prints one
JSON object on its last stdout line. The process only opens and searches: nothing is
ingested, so its resident memory is what a search-only process needs for that index.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from bench._common import loadavg, percentiles, proc_status_mib, timed_queries


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("home", type=Path)
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--mode", default="hybrid")
    args = ap.parse_args()

    mem_start = proc_status_mib()
    t0 = time.perf_counter()
    from copilot.knowledge import build_knowledge_base
    from copilot.settings import Settings
    from evals.datasets import load_retrieval_cases
    from evals.retrieval_metrics import gold_rank, score_ranks

    t_import = time.perf_counter() - t0

    cases = load_retrieval_cases()
    if args.limit:
        cases = cases[: args.limit]
    t0 = time.perf_counter()
    kb = build_knowledge_base(Settings(home=args.home))
    kb.keyword_index()  # loads the saved BM25 index (rebuilds only if stale)
    t_open = time.perf_counter() - t0
    mem_open = proc_status_mib()
    n_chunks = kb.catalog.count_chunks()
    n_vectors = [ch.store.count() for ch in kb.dense]

    load_before = loadavg()

    def search(q: str):
        return [(h.doc_title, h.article) for h in kb.search(q, top_k=10, mode=args.mode)]

    t0 = time.perf_counter()
    search(cases[0].question)  # first query: loads the HNSW indexes from disk
    t_first = time.perf_counter() - t0
    results, lat = timed_queries([c.question for c in cases], search)
    mem_after = proc_status_mib()
    scores = score_ranks(
        [gold_rank(c, r) for c, r in zip(cases, results, strict=True)], [c.id for c in cases]
    )
    out = {
        "home": str(args.home),
        "mode": args.mode,
        "chunks": n_chunks,
        "vectors_per_channel": n_vectors,
        "n_questions": len(cases),
        "import_s": round(t_import, 2),
        "open_s": round(t_open, 2),
        "first_query_s": round(t_first, 2),
        **percentiles(lat),
        "rss_start_mib": mem_start.get("VmRSS"),
        "rss_after_open_mib": mem_open.get("VmRSS"),
        "rss_after_queries_mib": mem_after.get("VmRSS"),
        "hwm_mib": mem_after.get("VmHWM"),
        "hit_at_5": scores.hit_at_5,
        "hit_at_10": scores.hit_at_10,
        "mrr": scores.mrr,
        "loadavg_before": load_before,
        "loadavg_after": loadavg(),
    }
    kb.close()
    print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main()
