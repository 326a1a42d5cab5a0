"""Ingestion: formats, bad files, incremental re-ingest, removal, persistence across processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from retrievers.models import SearchFilters
from tests.file_factory import ARTICLES, write_docx, write_html, write_pdf, write_xlsx

NEW_RULE = "第四条 社区应当每季度组织一次消防安全演练，演练记录保存三年。"


def _folder(tmp_path: Path) -> Path:
    d = tmp_path / "docs"
    d.mkdir()
    (d / "办法.md").write_text("# 社区网格管理办法\n\n" + "\n".join(ARTICLES), encoding="utf-8")
    (d / "gbk通知.txt").write_bytes(
        "关于做好汛期地质灾害巡查工作的通知。各村社网格员须每日巡查滑坡隐患点。".encode("gbk")
    )
    write_docx(d / "会议纪要.docx", ["会议决定：老旧小区加装电梯由街道统筹推进。"])
    write_pdf(d / "工作简报.pdf", ["本周共受理噪声扰民投诉三十二件。"])
    write_html(d / "公告.html", "停水公告", ["因管网检修，解放碑片区周六停水八小时。"])
    write_xlsx(d / "统计.xlsx", [["街道", "网格数"], ["两路街道", 86], ["龙山街道", 54]])
    (d / "empty.txt").write_bytes(b"")
    (d / "binary.md").write_bytes(b"\x00\x01\x02" * 100)
    (d / "photo.jpg").write_bytes(b"\xff\xd8\xff" + b"\x00" * 50)
    return d


def _titles(hits) -> list[str]:
    return [h.doc_title for h in hits]


def test_folder_ingest_indexes_good_files_and_reports_bad_ones(tmp_path, make_kb):
    kb = make_kb()
    report = kb.ingest([_folder(tmp_path)])
    assert len(report.added) == 6
    reasons = {Path(s.path).name: s.reason for s in report.skipped}
    assert reasons.keys() == {"empty.txt", "binary.md", "photo.jpg"}
    assert "empty" in reasons["empty.txt"]
    assert "binary" in reasons["binary.md"]
    assert "unsupported" in reasons["photo.jpg"]
    assert {d.format for d in kb.documents()} == {"md", "txt", "docx", "pdf", "html", "xlsx"}

    assert kb.search("网格员看到有人占道摆摊怎么办", 3)[0].article == "第二条"
    assert "gbk通知" in _titles(kb.search("汛期滑坡隐患巡查", 3))
    assert "会议纪要" in _titles(kb.search("老旧小区加装电梯谁来推进", 3))
    assert "停水公告" in _titles(kb.search("解放碑什么时候停水", 3))
    table_hit = kb.search("两路街道有多少个网格", 1)[0]
    assert "街道: 两路街道；网格数: 86" in table_hit.text


def test_reingest_of_unchanged_files_writes_nothing(tmp_path, make_kb):
    kb = make_kb()
    folder = _folder(tmp_path)
    kb.ingest([folder])
    again = kb.ingest([folder])
    assert again.added == again.updated == again.removed == []
    assert len(again.unchanged) == 6
    assert again.chunks_written == 0


def test_changed_file_replaces_its_chunks_and_removed_file_leaves_the_index(tmp_path, make_kb):
    kb = make_kb()
    folder = _folder(tmp_path)
    kb.ingest([folder])
    md = folder / "办法.md"
    md.write_text("# 社区网格管理办法\n\n" + "\n".join(ARTICLES[:2] + [NEW_RULE]), encoding="utf-8")
    (folder / "公告.html").unlink()

    report = kb.ingest([folder])
    assert report.updated == [str(md.resolve())]
    assert [Path(p).name for p in report.removed] == ["公告.html"]
    assert "停水公告" not in {d.title for d in kb.documents()}
    hits = kb.search("消防演练记录要保存几年", 3)
    assert hits[0].article == "第四条" and "三年" in hits[0].text
    # The old third article is gone from both the keyword and the dense index.
    filters = SearchFilters(doc_title="社区网格管理办法")
    for mode in ("bm25", "dense"):
        texts = [h.text for h in kb.search("乱倒建筑垃圾罚款", 10, mode, filters)]
        assert ARTICLES[2] not in texts


def test_remove_by_title_drops_the_document_everywhere(tmp_path, make_kb):
    kb = make_kb()
    kb.ingest([_folder(tmp_path)])
    removed = kb.remove("会议纪要")
    assert [d.title for d in removed] == ["会议纪要"]
    for mode in ("hybrid", "bm25", "dense"):
        assert "会议纪要" not in _titles(kb.search("老旧小区加装电梯", 10, mode))
    assert kb.remove("不存在的文档") == []


def test_index_persists_and_is_searchable_from_a_new_process(tmp_path, make_settings, make_kb):
    kb = make_kb()
    kb.ingest([_folder(tmp_path)])
    kb.close()
    env = {**os.environ, "COPILOT_HOME": str(make_settings().home)}
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "copilot.cli",
            "search",
            "网格员发现占道经营",
            "--json",
            "--top-k",
            "2",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=True,
    )
    hits = json.loads(out.stdout)
    assert hits[0]["doc_title"] == "社区网格管理办法"
    assert hits[0]["article"] == "第二条"
    assert set(hits[0]) >= {"chunk_id", "doc_title", "article", "text", "score"}


def test_keyword_index_notices_a_change_made_by_another_process(tmp_path, make_kb):
    first = make_kb()
    first.ingest([_folder(tmp_path)])
    assert first.search("消防演练记录", 5, "bm25") == [] or all(
        "三年" not in h.text for h in first.search("消防演练记录", 5, "bm25")
    )
    other = make_kb()
    extra = tmp_path / "extra.md"
    extra.write_text("# 消防演练规定\n\n" + NEW_RULE, encoding="utf-8")
    other.ingest([extra])
    hits = first.search("消防演练记录保存几年", 3, "bm25")
    assert hits and "三年" in hits[0].text


def test_changing_the_embedder_reindexes_instead_of_mixing_vectors(tmp_path, make_kb):
    kb = make_kb(second_embedder="none")
    kb.ingest([_folder(tmp_path)])
    kb.close()
    switched = make_kb(second_embedder="none", embedder="hashing")
    assert switched.is_empty()
    report = switched.ingest([tmp_path / "docs"])
    assert len(report.added) == 6
    assert switched.search("占道经营", 1, "dense")


def test_missing_path_is_reported_and_the_rest_ingested(tmp_path, make_kb):
    kb = make_kb()
    good = tmp_path / "good.md"
    good.write_text("# 规定\n\n" + "\n".join(ARTICLES), encoding="utf-8")
    report = kb.ingest([tmp_path / "nope.md", good])
    assert [s.reason for s in report.skipped] == ["not found"]
    assert report.added == [str(good.resolve())]


def test_filters_restrict_results_to_one_document_or_system(bundled_kb):
    title = "重庆市市容环境卫生管理条例"
    hits = bundled_kb.search("乱扔垃圾罚款", 10, filters=SearchFilters(doc_title=title))
    assert hits and all(h.doc_title == title for h in hits)
    hits = bundled_kb.search("乱扔垃圾罚款", 10, "bm25", SearchFilters(system="数字法治"))
    assert hits and all(h.metadata.get("system") == "数字法治" for h in hits)
    chapter_hits = bundled_kb.search(
        "罚款", 10, "dense", SearchFilters(doc_title=title, chapter="第三章 市容管理")
    )
    assert chapter_hits and all(h.chapter == "第三章 市容管理" for h in chapter_hits)


def test_empty_query_returns_nothing(bundled_kb):
    assert bundled_kb.search("   ", 5) == []


def test_an_ingested_folder_never_reaches_outside_itself(tmp_path, make_kb):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.md").write_text(
        "# 内部名单\n\n第一条 涉密人员名单仅限内部查阅。", encoding="utf-8"
    )
    root = tmp_path / "root"
    (root / "sub").mkdir(parents=True)
    (root / "rules.md").write_text("# 网格管理办法\n\n" + "\n".join(ARTICLES), encoding="utf-8")
    (root / ".draft.md").write_text("# 草稿\n\n第一条 未定稿。", encoding="utf-8")
    (root / "leak.md").symlink_to(outside / "secret.md")
    (root / "outside-dir").symlink_to(outside, target_is_directory=True)
    (root / "same.md").symlink_to(root / "rules.md")  # inside the folder: one document
    (root / "dangling.md").symlink_to(root / "gone.md")
    kb = make_kb()
    report = kb.ingest([root])
    reasons = {Path(s.path).name: s.reason for s in report.skipped}
    assert "outside the folder" in reasons["leak.md"]
    assert "not followed" in reasons["outside-dir"]
    assert reasons[".draft.md"] == "hidden file"
    assert "broken" in reasons["dangling.md"]
    assert [d.title for d in kb.documents()] == ["网格管理办法"]
    assert "内部名单" not in _titles(kb.search("涉密人员名单", 5))


def test_a_file_past_the_chunk_cap_is_indexed_in_part_with_a_warning(tmp_path, make_kb):
    table = tmp_path / "rows.csv"
    table.write_text("编号,事项\n" + "".join(f"{i},井盖巡查{i}\n" for i in range(3000)))
    kb = make_kb(embedder="hashing", second_embedder="none", max_chunks_per_file=5)
    report = kb.ingest([table])
    assert report.added == [str(table)]
    assert "first 5 chunks" in report.warnings[0].reason
    (doc,) = kb.documents()
    assert doc.n_chunks == 5 and doc.metadata["truncated_at_chunks"] == 5
    assert kb.check().ok


def test_progress_reports_files_chunks_and_time_left(tmp_path, make_kb):
    folder = _folder(tmp_path)
    kb = make_kb(embedder="hashing", second_embedder="none")
    seen = []
    report = kb.ingest([folder], progress=seen.append)
    stages = [p.stage for p in seen]
    assert stages[0] == "scan" and stages[-1] == "done" and "keyword" in stages
    last = seen[-1]
    assert last.files_done == last.files_total == 8  # photo.jpg is not a candidate
    assert last.chunks_done == report.chunks_written and last.fraction == 1.0
    fractions = [p.fraction for p in seen if p.stage == "ingest"]
    assert fractions == sorted(fractions)


def test_removing_a_link_removes_the_document_it_brought_in(tmp_path, make_kb):
    root = tmp_path / "root"
    (root / ".archive").mkdir(parents=True)
    (root / ".archive" / "old.md").write_text(
        "# 旧办法\n\n" + "\n".join(ARTICLES), encoding="utf-8"
    )
    link = root / "current.md"
    link.symlink_to(root / ".archive" / "old.md")
    kb = make_kb(embedder="hashing", second_embedder="none")
    kb.ingest([root])
    assert [d.title for d in kb.documents()] == ["旧办法"]
    link.unlink()
    report = kb.ingest([root])
    assert report.removed and kb.documents() == []
    assert kb.check().ok
