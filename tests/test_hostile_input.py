"""Hostile input to ingest (issue [L]): zip bombs, deep nesting, a million-row CSV,
symbolic links, NULs, markup, mixed encodings, and a kill at each write step.

Every ingest runs in a child process (``tests/ingest_child.py``) so that its peak RSS is
its own and a kill is a real one (``os._exit``: no cleanup, nothing flushed). After each
case the index must be consistent: catalogue, vectors and BM25 agree.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
import zipfile
from pathlib import Path

import pytest

from tests.file_factory import write_docx, write_xlsx
from tests.ingest_child import CRASH_EXIT

REPO = Path(__file__).resolve().parent.parent
RSS_LIMIT_MIB = 1024
MIB = 1024 * 1024


def run_child(home: Path, action: str, *paths: Path, expect: int = 0, **options) -> dict:
    out = home.parent / f"child-{uuid.uuid4().hex[:8]}.json"
    cmd = [sys.executable, "-m", "tests.ingest_child", str(home), str(out), action]
    cmd += [str(p) for p in paths]
    for name, value in options.items():
        flag = "--" + name.replace("_", "-")
        cmd += [flag] if value is True else [flag, str(value)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("COPILOT_")}
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=1200)
    assert proc.returncode == expect, proc.stderr[-4000:]
    assert "Traceback" not in proc.stderr, proc.stderr[-4000:]
    if expect != 0:
        return {}
    return json.loads(out.read_text(encoding="utf-8"))


def assert_consistent(state: dict) -> None:
    live = {cid for d in state["documents"] for _, cid in [(0, c[0]) for c in d["chunks"]]}
    assert set(state["vectors"]) == live | set(state["staged"])
    assert state["keyword"] is not None and set(state["keyword"]) == live
    assert state["keyword_generation"] == state["generation"]
    for d in state["documents"]:
        assert d["n_chunks"] == len(d["chunks"])


# -- hostile files -----------------------------------------------------------------


def _zip_bomb(path: Path, member: str, declared: int, extra: dict[str, bytes]) -> Path:
    """A zip whose one member inflates to ``declared`` bytes (kilobytes on disk)."""
    block = b"<w:p><w:r><w:t>" + b"A" * 1000 + b"</w:t></w:r></w:p>"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for name, data in extra.items():
            zf.writestr(name, data)
        with zf.open(member, "w", force_zip64=True) as fh:
            written = 0
            chunk = block * (MIB // len(block))
            while written < declared:
                fh.write(chunk)
                written += len(chunk)
    return path


_CONTENT_TYPES = (
    b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
    b'content-types"></Types>'
)


@pytest.fixture(scope="module")
def hostile_folder(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("hostile") / "inbox"
    root.mkdir()
    outside = root.parent / "outside"
    outside.mkdir()
    (outside / "secret.md").write_text("# 内部名单\n\n第一条 仅限内部。", encoding="utf-8")

    _zip_bomb(
        root / "bomb.docx", "word/document.xml", 400 * MIB, {"[Content_Types].xml": _CONTENT_TYPES}
    )
    _zip_bomb(
        root / "bomb.xlsx",
        "xl/worksheets/sheet1.xml",
        300 * MIB,
        {"[Content_Types].xml": _CONTENT_TYPES},
    )
    with zipfile.ZipFile(root / "entries.docx", "w") as zf:
        for i in range(6000):
            zf.writestr(f"word/media/p{i}.xml", b"<a/>")
    good = write_docx(
        root / "good.docx",
        ["第一条 网格员每日巡查。", "第二条 发现问题及时上报。", "第三条 本办法自公布之日起施行。"],
    )
    (root / "truncated.docx").write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    (root / "deep.html").write_text(
        "<html><title>嵌套</title><body>"
        + "<div>" * 100_000
        + "网格事项说明。"
        + "</div>" * 100_000,
        encoding="utf-8",
    )
    text = "第一条 网格员应当巡查。\n" * 800  # well past the first 8 KiB
    (root / "nul.txt").write_bytes(
        text.encode() + b"\x00\x00\x01" + "第二条 NUL之后的内容。".encode()
    )
    (root / "社区[b]网格[bold red]管理办法[dim].md").write_text(
        "# 社区[/b]网格[bold red]管理办法[/dim]\n\n第一条 标题里有标记。\n第二条 照样导入。\n第三条 照样列出。",
        encoding="utf-8",
    )
    (root / "gbk.txt").write_bytes(
        "第一条 井盖丢了，请尽快处理。\n第二条 路灯不亮。".encode("gb18030")
    )
    (root / "utf16.txt").write_bytes("第一条 UTF-16 文件。\n第二条 带字节序标记。".encode("utf-16"))
    (root / "mixed.csv").write_bytes(
        "事项,地点\n".encode()
        + "井盖丢失,渝中区\n".encode()
        + "路灯不亮,江北区\n".encode("gb18030")
    )
    (root / "longfield.csv").write_text(
        "事项,说明\n井盖," + "长" * 300_000 + "\n", encoding="utf-8"
    )
    (root / "fake.pdf").write_bytes(os.urandom(4096))
    (root / "empty.md").write_bytes(b"")
    (root / "binary.txt").write_bytes(b"\x00\x01\x02" * 4000)
    (root / "leak.md").symlink_to(outside / "secret.md")
    (root / "loop").symlink_to(root, target_is_directory=True)
    write_xlsx(root / "table.xlsx", [["区县", "人口"], ["渝中区", 589000], ["江北区", 925000]])
    return root


EXPECTED = {
    "bomb.docx": ("skipped", "when unzipped"),
    "bomb.xlsx": ("skipped", "when unzipped"),
    "entries.docx": ("skipped", "6000 entries"),
    "good.docx": ("added", None),
    "truncated.docx": ("skipped", "not a valid docx"),
    "deep.html": ("added", None),
    "nul.txt": ("added", None),
    "社区[b]网格[bold red]管理办法[dim].md": ("added", None),
    "gbk.txt": ("added", None),
    "utf16.txt": ("added", None),
    "mixed.csv": ("added", None),
    "longfield.csv": ("skipped", "field larger than field limit"),
    "fake.pdf": ("skipped", "no %PDF header"),
    "empty.md": ("skipped", "empty file"),
    "binary.txt": ("skipped", "binary"),
    "leak.md": ("skipped", "outside the folder"),
    "loop": ("skipped", "not followed"),
    "table.xlsx": ("added", None),
}


@pytest.fixture(scope="module")
def hostile_run(hostile_folder: Path) -> tuple[dict, dict, Path]:
    home = hostile_folder.parent / "home"
    ingested = run_child(home, "ingest", hostile_folder)
    checked = run_child(home, "check")
    return ingested, checked, home


def test_hostile_files_are_skipped_with_reasons_or_ingested_clean(hostile_run):
    ingested, _, _ = hostile_run
    report = ingested["report"]
    outcome = {Path(p).name: ("added", None) for p in report["added"]}
    outcome.update({Path(s["path"]).name: ("skipped", s["reason"]) for s in report["skipped"]})
    for name, (kind, reason) in EXPECTED.items():
        assert name in outcome, f"{name} neither ingested nor skipped"
        got_kind, got_reason = outcome[name]
        assert got_kind == kind, (name, got_reason)
        if reason:
            assert reason in got_reason, (name, got_reason)


def test_hostile_ingest_stays_under_one_gib(hostile_run):
    ingested, _, _ = hostile_run
    assert ingested["peak_rss_mib"] <= RSS_LIMIT_MIB


def test_hostile_ingest_leaves_a_consistent_index_without_controls(hostile_run):
    _, checked, _ = hostile_run
    assert checked["check"]["orphan_vectors"] == {"dense": 0}
    assert checked["check"]["missing_vectors"] == {"dense": 0}
    assert not checked["check"]["keyword_stale"]
    state = checked["state"]
    assert_consistent(state)
    texts = "".join(t for d in state["documents"] for _, t in d["chunks"])
    assert "NUL之后的内容" in texts and "\x00" not in texts and "\x01" not in texts
    assert "井盖丢了" in texts  # the GBK file, decoded
    assert "内部" not in texts  # the link out of the folder


def test_a_title_with_markup_lists_as_text(hostile_run):
    _, _, home = hostile_run
    env = {k: v for k, v in os.environ.items() if not k.startswith("COPILOT_")}
    env |= {
        "COPILOT_HOME": str(home),
        "COPILOT_EMBEDDER": "hashing",
        "COPILOT_SECOND_EMBEDDER": "none",
        "COLUMNS": "400",  # one table row per document
    }
    proc = subprocess.run(
        [sys.executable, "-m", "copilot.cli", "docs", "list"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr
    assert "社区[/b]网格[bold red]管理办法[/dim]" in proc.stdout.replace("\n", "")


# -- a million rows ----------------------------------------------------------------


@pytest.mark.slow
def test_a_million_row_csv_streams_with_steady_progress_and_bounded_memory(tmp_path):
    big = tmp_path / "data" / "meter.csv"
    big.parent.mkdir()
    # One narrow column: a million rows are the point, not the width (time is per character).
    with big.open("w", encoding="utf-8") as fh:
        fh.write("读数\n")
        fh.writelines(f"{i % 997}\n" for i in range(1_000_000))
    result = run_child(tmp_path / "home", "ingest", big.parent)
    report, snaps = result["report"], result["progress"]
    assert report["added"] == [str(big)] and not report["skipped"]
    assert result["peak_rss_mib"] <= RSS_LIMIT_MIB
    ingesting = [s for s in snaps if s["stage"] == "ingest"]
    fractions = [s["fraction"] for s in ingesting]
    chunks = [s["chunks_done"] for s in ingesting]
    assert fractions == sorted(fractions) and chunks == sorted(chunks)
    # Progress came all along the file, not in one jump at the end.
    assert len({round(f, 1) for f in fractions if 0 < f < 1}) >= 8
    assert any(s["eta_s"] is not None and s["eta_s"] > 0 for s in ingesting)
    assert report["chunks_written"] == snaps[-1]["chunks_done"] > 10_000  # ~16,000 chunks
    state = run_child(tmp_path / "home", "check")
    assert state["after"]["orphan_vectors"] == {"dense": 0}
    assert_consistent(state["state"])


# -- a kill at each write step ---------------------------------------------------------

V1 = {
    "a.md": "# 甲办法\n\n"
    + "\n".join(f"第{i}条 网格员巡查事项{i}，发现问题及时上报。" for i in range(1, 31)),
    "b.md": "# 乙办法\n\n" + "\n".join(f"第{i}条 垃圾分类投放规定{i}。" for i in range(1, 11)),
    "c.md": "# 丙办法\n\n" + "\n".join(f"第{i}条 违规处罚罚款{i}百元。" for i in range(1, 11)),
}
V2 = {
    "a.md": "# 甲办法\n\n"
    + "\n".join(f"第{i}条 网格员巡查事项{i}，修订后上报时限两小时。" for i in range(1, 21)),
    "b.md": V1["b.md"],
    "d.md": "# 丁规定\n\n"
    + "\n".join(f"第{i}条 新增规定第{i}项，违规处罚罚款。" for i in range(1, 71)),
}
GROUP = 25  # chunks per write group: d.md spans three groups


def _write_version(folder: Path, version: dict[str, str]) -> None:
    for f in folder.glob("*.md"):
        f.unlink()
    for name, text in version.items():
        (folder / name).write_text(text, encoding="utf-8")


def _by_name(state: dict) -> dict[str, list]:
    """Documents keyed by file name, chunk ids and texts: what a search can return."""
    return {Path(d["path"]).name: d["chunks"] for d in state["documents"]}


@pytest.fixture(scope="module")
def crash_world(tmp_path_factory):
    base = tmp_path_factory.mktemp("crash")
    folder = base / "rules"
    folder.mkdir()
    _write_version(folder, V1)
    v1 = run_child(base / "v1", "ingest", folder, group=GROUP, dump=True)["state"]
    _write_version(folder, V2)
    shutil.copytree(base / "v1", base / "v1-copy")  # a clean v2 index starts from v1 too
    v2 = run_child(base / "v1-copy", "ingest", folder, group=GROUP, dump=True)["state"]
    return base, folder, v1, v2


@pytest.mark.parametrize(
    "crash_at",
    [
        "remove:1",
        "vectors:1",
        "catalogue:1",
        "vectors:2",
        "catalogue:2",
        "stale-delete:2",
        "keyword:1",
    ],
)
def test_a_kill_at_any_write_step_is_repaired_and_resumed_to_the_clean_index(crash_world, crash_at):
    base, folder, v1, v2 = crash_world
    home = base / f"case-{crash_at.replace(':', '-')}"
    _write_version(folder, V1)
    shutil.copytree(base / "v1", home)
    _write_version(folder, V2)
    run_child(home, "ingest", folder, group=GROUP, crash_at=crash_at, expect=CRASH_EXIT)

    # Open, check --repair, ingest again: what an operator does after the crash.
    repaired = run_child(home, "recover", folder, group=GROUP)
    # The kill did leave the index out of step: vectors repaired on opening, or BM25 stale.
    found = repaired["startup_check"] or repaired["check"]
    assert any(found["orphan_vectors"].values()) or found["keyword_stale"], found
    after = repaired["after"]
    assert not any(after["orphan_vectors"].values()) and not any(after["missing_vectors"].values())
    assert not after["keyword_stale"] and not after["abandoned_staging"]
    assert_consistent(repaired["state"])
    # Every document searchable after the repair is one whole version of its file.
    old, new = _by_name(v1), _by_name(v2)
    for name, chunks in _by_name(repaired["state"]).items():
        assert chunks in (old.get(name), new.get(name)), name

    final = repaired["final"]
    assert _by_name(final) == new
    assert final["vectors"] == v2["vectors"] and final["keyword"] == v2["keyword"]
    assert final["search"] == v2["search"]
    resumed = repaired
    if crash_at == "catalogue:2":
        # Staged groups were kept: the rerun embedded less than the whole of d.md again.
        assert str(folder / "d.md") in resumed["report"]["resumed"]
