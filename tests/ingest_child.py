"""One knowledge-base operation in a child process, for the hostile-input tests.

``python -m tests.ingest_child HOME OUT ingest|check|dump|recover PATH… [options]``:
ingests with the hashing embedder and writes the report, the progress snapshots and the
peak RSS to OUT; with ``--crash-at`` it dies like ``kill -9`` (``os._exit``, nothing
flushed, no cleanup) right after the N-th call of one write step. ``check [--repair]``
and ``dump`` write the index check and the whole index state (catalogue, staging, vector
ids, BM25 ids, a few searches) the tests compare with a clean index; ``recover`` does
what an operator does after a crash (open, ``check --repair``, ingest again) in one process.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import bm25s

from copilot.knowledge import build_knowledge_base
from copilot.settings import Settings
from retrievers.catalog import Catalog
from retrievers.keyword_index import KeywordIndex
from retrievers.knowledge_base import KnowledgeBase
from retrievers.vector_store import ChromaVectorStore

CRASH_EXIT = 137
# The write steps of an ingest, in the order one group goes through them.
STEPS = {
    "vectors": (ChromaVectorStore, "upsert"),
    "catalogue": (Catalog, "stage_and_commit"),
    "stale-delete": (ChromaVectorStore, "delete"),
    "keyword": (bm25s.BM25, "save"),
    "remove": (Catalog, "remove_document"),
}
QUERIES = ["网格员巡查发现问题", "违规处罚罚款", "垃圾分类投放"]


def crash_after(spec: str) -> None:
    step, n = spec.split(":")
    owner, name = STEPS[step]
    real = getattr(owner, name)
    calls = {"n": 0}

    def wrapped(*args, **kwargs):
        result = real(*args, **kwargs)
        calls["n"] += 1
        if calls["n"] == int(n):
            os._exit(CRASH_EXIT)
        return result

    setattr(owner, name, wrapped)


def peak_rss_mib() -> float:
    """This process's own peak resident set (VmHWM). Not ``ru_maxrss``: Linux carries that
    across ``execve``, so a child started by a 3 GiB pytest would report 3 GiB."""
    for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def settings(home: Path) -> Settings:
    return Settings(home=home, embedder="hashing", second_embedder="none")


def dump(kb: KnowledgeBase) -> dict:
    docs = []
    for d in kb.catalog.documents():
        chunks = [[c.chunk_id, c.text] for c in kb.catalog.chunks_of(d.doc_id)]
        docs.append(
            {"path": d.path, "hash": d.content_hash, "n_chunks": d.n_chunks, "chunks": chunks}
        )
    keyword = KeywordIndex.load(kb.index_dir / "keyword")
    return {
        "documents": docs,
        "staged": sorted(kb.catalog.staged_ids()),
        "vectors": sorted(kb.dense[0].store.ids()),
        "keyword": sorted(keyword.chunk_ids) if keyword else None,
        "keyword_generation": keyword.generation if keyword else None,
        "generation": kb.catalog.generation,
        # BM25 alone: exact, so two equal indexes rank alike (HNSW is approximate and its
        # graph depends on the order vectors came and went; the vector ids are compared).
        "search": {q: [h.chunk_id for h in kb.search(q, 5, "bm25")] for q in QUERIES},
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("home", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("action", choices=["ingest", "check", "dump", "recover"])
    ap.add_argument("paths", nargs="*", type=Path)
    ap.add_argument("--crash-at")
    ap.add_argument("--group", type=int)
    ap.add_argument("--repair", action="store_true")
    ap.add_argument("--dump", action="store_true", help="after an ingest, dump the index too")
    args = ap.parse_args()
    if args.group:
        KnowledgeBase.WRITE_GROUP_CHUNKS = args.group
    kb = build_knowledge_base(settings(args.home))
    result: dict = {}
    startup = kb.startup_check.model_dump() if kb.startup_check else None
    if args.action == "ingest":
        if args.crash_at:
            crash_after(args.crash_at)
        snapshots: list[dict] = []
        t0 = time.perf_counter()

        def progress(p) -> None:
            snapshots.append({**p.model_dump(), "t": round(time.perf_counter() - t0, 3)})

        report = kb.ingest(args.paths, progress=progress)
        result = {"report": report.model_dump(), "progress": snapshots}
        if args.dump:
            result["state"] = dump(kb)
    elif args.action == "recover":
        result = {"check": kb.check(repair=True).model_dump()}
        result["after"] = kb.check().model_dump()
        result["state"] = dump(kb)
        result["report"] = kb.ingest(args.paths).model_dump()
        result["final"] = dump(kb)
    elif args.action == "check":
        result = {"check": kb.check(repair=args.repair).model_dump(), "after": None}
        result["after"] = kb.check().model_dump()
        result["state"] = dump(kb)
    else:
        result = {"state": dump(kb)}
    result["startup_check"] = startup
    result["peak_rss_mib"] = peak_rss_mib()
    kb.close()
    args.out.write_text(json.dumps(result, ensure_ascii=False), encoding="utf-8")


if __name__ == "__main__":
    main()
