"""The ``copilot`` CLI: search (single and batch), ingest, docs, shell, first-run indexing."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from copilot.cli import app
from tests.file_factory import ARTICLES, write_pdf

runner = CliRunner()


@pytest.fixture
def bundled_env(monkeypatch, bundled_kb, bundled_settings):
    monkeypatch.setenv("COPILOT_HOME", str(bundled_settings.home))


def test_search_json_prints_hits_with_article_and_score(bundled_env):
    result = runner.invoke(
        app, ["search", "物业公司擅自改变物业管理用房用途会被罚多少", "--json", "--top-k", "3"]
    )
    assert result.exit_code == 0, result.output
    hits = json.loads(result.stdout)
    assert len(hits) == 3
    assert set(hits[0]) >= {"chunk_id", "doc_title", "article", "text", "score"}
    assert hits[0]["doc_title"] == "物业管理条例"
    assert hits[0]["article"] == "第六十二条"
    assert hits[0]["score"] >= hits[1]["score"] >= hits[2]["score"]


def test_batch_search_writes_one_line_per_question_and_flags_bad_lines(bundled_env, tmp_path):
    src = tmp_path / "q.jsonl"
    src.write_text(
        "\n".join(
            [
                json.dumps(
                    {"id": "a", "question": "燃放烟花爆竹的禁放区域由谁划定"}, ensure_ascii=False
                ),
                "{not json",
                json.dumps({"id": "b", "question": "网吧可以接纳未成年人吗"}, ensure_ascii=False),
                json.dumps({"id": "c"}),
            ]
        ),
        encoding="utf-8",
    )
    dst = tmp_path / "out" / "hits.jsonl"
    result = runner.invoke(
        app, ["search", "--input", str(src), "--output", str(dst), "--top-k", "4"]
    )
    assert result.exit_code == 1  # some lines were bad: the caller must notice
    rows = [json.loads(line) for line in dst.read_text(encoding="utf-8").splitlines()]
    assert [r.get("id") for r in rows] == ["a", None, "b", None]
    assert len(rows[0]["hits"]) == 4 and len(rows[2]["hits"]) == 4
    assert "line 2" in rows[1]["error"] and "line 4" in rows[3]["error"]


def test_batch_input_in_gbk_is_read_and_binary_input_is_refused(bundled_env, tmp_path):
    src = tmp_path / "q.jsonl"
    src.write_bytes(
        json.dumps({"id": "g", "question": "燃放烟花爆竹的禁放区域"}, ensure_ascii=False).encode(
            "gbk"
        )
    )
    dst = tmp_path / "hits.jsonl"
    assert runner.invoke(app, ["search", "--input", str(src), "--output", str(dst)]).exit_code == 0
    assert json.loads(dst.read_text(encoding="utf-8"))["hits"]
    binary = tmp_path / "b.jsonl"
    binary.write_bytes(b"\x00\x01\x02" * 50)
    result = runner.invoke(app, ["search", "--input", str(binary), "--output", str(dst)])
    assert result.exit_code == 2 and "cannot read input" in result.output


def test_each_batch_line_is_decoded_and_limited_on_its_own(bundled_env, tmp_path):
    def line(rid: str, question: str) -> bytes:
        return json.dumps({"id": rid, "question": question}, ensure_ascii=False).encode()

    src = tmp_path / "mixed.jsonl"
    src.write_bytes(
        b"\n".join(
            [
                line("utf8", "燃放烟花爆竹的禁放区域由谁划定"),
                json.dumps({"id": "gbk", "question": "井盖丢了"}, ensure_ascii=False).encode("gbk"),
                b"\xff\xfe\x81garbage\xff",
                b"[" * 100_000,
                line("long", "问" * 3000),
                line("last", "网吧可以接纳未成年人吗"),
            ]
        )
    )
    dst = tmp_path / "out.jsonl"
    result = runner.invoke(app, ["search", "--input", str(src), "--output", str(dst)])
    assert result.exit_code == 1 and "Traceback" not in result.output
    rows = [json.loads(r) for r in dst.read_text(encoding="utf-8").splitlines()]
    assert [r.get("id") for r in rows] == ["utf8", "gbk", None, None, None, "last"]
    assert rows[0]["hits"] and rows[5]["hits"] and "encoding" not in rows[0]
    # The GBK line is read as GBK — and only it: the UTF-8 lines around it stay UTF-8.
    assert rows[1]["encoding"] == "gb18030" and rows[1]["hits"]
    assert "UTF-8 or GB18030" in rows[2]["error"]
    assert "nested deeper" in rows[3]["error"]
    assert "longer than 2000" in rows[4]["error"]


def test_a_question_longer_than_the_limit_is_refused_with_a_reason(bundled_env):
    result = runner.invoke(app, ["ask", "问" * 2001])
    assert result.exit_code == 2 and "too long" in result.output


def test_search_without_a_question_is_a_usage_error(bundled_env):
    result = runner.invoke(app, ["search", "  "])
    assert result.exit_code == 2
    result = runner.invoke(app, ["search", "x", "--mode", "fuzzy"])
    assert result.exit_code == 2


def test_first_search_on_an_empty_index_builds_it_from_the_bundled_data(monkeypatch, tmp_path):
    monkeypatch.setenv("COPILOT_HOME", str(tmp_path / "fresh"))
    result = runner.invoke(app, ["search", "河长巡河发现问题怎么处理", "--top-k", "2"])
    assert result.exit_code == 0, result.output
    assert "索引为空" in result.output
    assert "108/108" in result.output  # the progress bar went through every file
    listed = runner.invoke(app, ["docs", "list", "--json"])
    assert len(json.loads(listed.stdout)) == 108


def test_ingest_list_and_remove_round_trip(monkeypatch, tmp_path):
    monkeypatch.setenv("COPILOT_HOME", str(tmp_path / "home"))
    doc = tmp_path / "办法.md"
    doc.write_text("# 社区网格管理办法\n\n" + "\n".join(ARTICLES), encoding="utf-8")
    bad = tmp_path / "empty.txt"
    bad.write_bytes(b"")
    result = runner.invoke(app, ["ingest", str(doc), str(bad), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert len(report["added"]) == 1
    assert report["skipped"] == [{"path": str(bad), "reason": "empty file"}]

    listed = json.loads(runner.invoke(app, ["docs", "list", "--json"]).stdout)
    assert [d["title"] for d in listed] == ["社区网格管理办法"]
    assert runner.invoke(app, ["docs", "remove", "社区网格管理办法"]).exit_code == 0
    assert json.loads(runner.invoke(app, ["docs", "list", "--json"]).stdout) == []
    assert runner.invoke(app, ["docs", "remove", "社区网格管理办法"]).exit_code == 1


def test_a_title_with_markup_prints_as_text_in_list_search_and_ask(monkeypatch, tmp_path):
    monkeypatch.setenv("COPILOT_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("COPILOT_EMBEDDER", "hashing")
    doc = tmp_path / "markup.md"
    title = "社区[/b]网格[bold red]管理办法[/dim]"
    doc.write_text(f"# {title}\n\n" + "\n".join(ARTICLES), encoding="utf-8")
    assert runner.invoke(app, ["ingest", str(doc)]).exit_code == 0
    for argv in (["docs", "list"], ["search", "网格员 巡查"], ["ask", "网格员多久巡查一次？"]):
        result = runner.invoke(app, argv)
        assert result.exit_code == 0, (argv, result.output)
        assert "MarkupError" not in result.output and "Traceback" not in result.output
    assert "[/b]" in runner.invoke(app, ["search", "网格员 巡查"]).output
    removed = runner.invoke(app, ["docs", "remove", title])
    assert removed.exit_code == 0 and "[/b]" in removed.output


def test_shell_answers_each_question_until_end_of_input(bundled_env):
    result = runner.invoke(app, ["shell"], input="城市道路上乱扔垃圾罚多少钱\n退出\n")
    assert result.exit_code == 0, result.output
    assert "108 部法规已索引" in result.output and "引用" in result.output
    assert "《" in result.output and "条" in result.output


def test_misconfigured_embedder_gives_a_clear_message(monkeypatch, tmp_path):
    monkeypatch.setenv("COPILOT_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("COPILOT_EMBEDDER", "sentence-transformers")
    result = runner.invoke(app, ["search", "x"])
    assert result.exit_code == 2
    assert "COPILOT_EMBEDDER_MODEL_PATH" in result.output


def test_route_json_of_a_consultation_carries_the_cited_policy_answer(bundled_env):
    result = runner.invoke(app, ["route", "请问重庆市低保怎么申请？", "--json"])
    assert result.exit_code == 0, result.output
    decision = json.loads(result.stdout)
    assert decision["is_event"] and decision["message_type"] == "咨询"
    assert decision["department"] == "民政局"
    assert not decision["answer"]["refused"]
    assert any("最低生活保障" in c["doc_title"] for c in decision["answer"]["citations"])


def test_ingest_exits_1_with_the_reasons_when_nothing_could_be_ingested(monkeypatch, tmp_path):
    monkeypatch.setenv("COPILOT_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("COPILOT_EMBEDDER", "hashing")
    monkeypatch.setenv("COPILOT_SECOND_EMBEDDER", "none")
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    fake = tmp_path / "fake.pdf"
    fake.write_bytes("第一条 这不是pdf".encode())
    result = runner.invoke(app, ["ingest", str(empty), str(fake), str(tmp_path / "missing.md")])
    assert result.exit_code == 1, result.output
    assert "empty file" in result.output and "not a valid pdf" in result.output
    assert "not found" in result.output
    assert "nothing ingested" in result.output

    as_json = runner.invoke(app, ["ingest", str(empty), "--json"])
    assert as_json.exit_code == 1
    assert json.loads(as_json.stdout)["skipped"] == [{"path": str(empty), "reason": "empty file"}]

    (tmp_path / "nothing-here").mkdir()
    assert runner.invoke(app, ["ingest", str(tmp_path / "nothing-here")]).exit_code == 1


def test_ingest_exits_0_when_everything_is_unchanged(monkeypatch, tmp_path):
    monkeypatch.setenv("COPILOT_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("COPILOT_EMBEDDER", "hashing")
    monkeypatch.setenv("COPILOT_SECOND_EMBEDDER", "none")
    doc = tmp_path / "办法.md"
    doc.write_text("# 社区网格管理办法\n\n" + "\n".join(ARTICLES), encoding="utf-8")
    assert runner.invoke(app, ["ingest", str(doc)]).exit_code == 0
    again = runner.invoke(app, ["ingest", str(doc), "--json"])
    assert again.exit_code == 0
    assert json.loads(again.stdout)["unchanged"] == [str(doc.resolve())]


def _pdf_with_a_broken_xref(path):
    """A readable PDF whose startxref points nowhere: pypdf recovers, and logs warnings."""
    write_pdf(path, ["第一条 为了加强社区网格管理，制定本办法。"])
    data = path.read_bytes()
    path.write_bytes(data[: data.rfind(b"startxref")] + b"startxref\n999999\n%%EOF\n")
    return path


def test_ingest_of_malformed_pdfs_keeps_pypdf_warnings_off_the_terminal(tmp_path):
    # A real process: in-process, pytest's log capture would hide what a terminal shows.
    broken = _pdf_with_a_broken_xref(tmp_path / "简报.pdf")
    truncated = tmp_path / "truncated.pdf"
    truncated.write_bytes(b"%PDF-1.4\n1 0 obj garbage")
    env = {
        **os.environ,
        "COPILOT_HOME": str(tmp_path / "home"),
        "COPILOT_EMBEDDER": "hashing",
        "COPILOT_SECOND_EMBEDDER": "none",
        "PYTHONIOENCODING": "utf-8",
    }
    result = subprocess.run(
        [sys.executable, "-m", "copilot.cli", "ingest", str(broken), str(truncated)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr  # the broken-xref file was still read
    assert "added 1" in result.stdout
    assert "truncated.pdf" in result.stdout and "cannot parse pdf" in result.stdout
    for noise in ("startxref pointer", "Object Streams", "PdfReadWarning", "pypdf"):
        assert noise not in result.stderr, result.stderr


@pytest.mark.parametrize("argv", [["--help"], ["ask"], ["no-such-command"], ["search", " "]])
def test_help_and_usage_errors_import_nothing_heavy(argv):
    script = (
        "import sys\n"
        "from copilot.cli import app\n"
        "try:\n"
        f"    app({argv!r})\n"
        "except SystemExit as exc:\n"
        "    code = exc.code\n"
        "heavy = ('llama_index', 'chromadb', 'torch', 'sklearn', 'numpy', 'sqlalchemy', 'pypdf')\n"
        "print(code, sorted(m for m in heavy if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    code, loaded = result.stdout.strip().splitlines()[-1].split(" ", 1)
    assert code == ("0" if argv == ["--help"] else "2")
    assert loaded == "[]"


def test_importing_the_cli_does_not_import_llama_index():
    result = subprocess.run(
        [sys.executable, "-c", "import copilot.cli, sys; print('llama_index' in sys.modules)"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.stdout.strip() == "False", result.stderr


def test_work_order_sub_apps_load_when_invoked(tmp_path):
    db = f"sqlite:///{tmp_path / 'wo.db'}"
    listed = runner.invoke(app, ["orders", "list", "--database-url", db, "--json"])
    assert listed.exit_code == 0, listed.output
    assert json.loads(listed.stdout) == []
    helped = runner.invoke(app, ["sla", "--help"])
    assert helped.exit_code == 0 and "sweep" in helped.output
    top = runner.invoke(app, ["--help"])
    assert "orders" in top.output and "时限管理" in top.output


DISPOSE_KEYS = {
    "order_id",
    "state",
    "board",
    "event_type",
    "urgency",
    "message_type",
    "tier",
    "owner_unit",
    "department",
    "cooperating_units",
    "deadline",
    "draft",
    "reasons",
    "trace_id",
}
STALL = "南岸区南坪街道有人占道摆摊，堵住了人行道"


def test_dispose_json_files_a_pending_order_with_its_draft(bundled_env, monkeypatch, tmp_path):
    monkeypatch.setenv("COPILOT_DATABASE_URL", f"sqlite:///{tmp_path / 'orders.db'}")
    result = runner.invoke(app, ["dispose", STALL, "--json"])
    assert result.exit_code == 0, result.output
    done = json.loads(result.stdout)
    assert set(done) >= DISPOSE_KEYS
    assert done["state"] == "pending_approval" and done["order_id"].startswith("WO-")
    assert done["draft"]["处置措施"] and done["draft"]["处置依据"][0]["quote"]
    assert set(done["draft"]) >= {"事件概述", "事件定性", "责任单位", "协同单位", "办理时限"}
    again = runner.invoke(app, ["dispose", STALL, "--json"])
    assert json.loads(again.stdout)["order_id"] == done["order_id"]  # same text, same key


def test_approving_from_the_cli_dispatches_once_and_the_trace_shows_every_step(
    bundled_env, monkeypatch, tmp_path
):
    monkeypatch.setenv("COPILOT_DATABASE_URL", f"sqlite:///{tmp_path / 'orders.db'}")
    done = json.loads(runner.invoke(app, ["dispose", STALL, "--json"]).stdout)
    for _ in range(2):  # a second approval changes nothing
        approved = runner.invoke(app, ["orders", "approve", done["order_id"], "--json"])
        assert approved.exit_code == 0, approved.output
        assert json.loads(approved.stdout)["state"] == "dispatched"
    rejected = runner.invoke(app, ["orders", "reject", done["order_id"]])
    assert rejected.exit_code == 1 and "dispatched" in rejected.output
    shown = runner.invoke(app, ["trace", done["trace_id"], "--json"])
    steps = [s["node"] for s in json.loads(shown.stdout)["steps"]]
    assert steps[0] == "intake" and steps[-2:] == ["approval", "dispatch"]
    assert runner.invoke(app, ["trace", "no-such-trace"]).exit_code == 1


def test_dispose_batch_writes_a_record_per_line_and_keeps_going_after_bad_ones(
    bundled_env, monkeypatch, tmp_path
):
    monkeypatch.setenv("COPILOT_DATABASE_URL", f"sqlite:///{tmp_path / 'orders.db'}")
    src, dst = tmp_path / "events.jsonl", tmp_path / "drafts.jsonl"
    src.write_text(
        json.dumps({"id": "e1", "text": STALL}, ensure_ascii=False)
        + "\n{not json\n"
        + json.dumps({"id": "e2", "text": "请问低保怎么申请？"}, ensure_ascii=False)
        + "\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["dispose", "--input", str(src), "--output", str(dst)])
    assert result.exit_code == 1  # one malformed line, reported, the rest done
    rows = [json.loads(line) for line in dst.read_text(encoding="utf-8").splitlines()]
    assert [r.get("id") for r in rows] == ["e1", None, "e2"]
    assert rows[0]["state"] == "pending_approval" and rows[1]["error"].startswith("line 2")
    assert rows[2]["order_id"] is None and rows[2]["message_type"] == "咨询"


def test_an_argument_that_is_not_utf8_is_a_clear_usage_error():
    copilot = os.path.join(os.path.dirname(sys.executable), "copilot")
    result = subprocess.run(
        [copilot, "search", b"\xff\xfe\xe4\xba"], capture_output=True, timeout=60
    )
    err = result.stderr.decode("utf-8")
    assert result.returncode == 2 and "argument 2 is not valid UTF-8" in err
    assert "Traceback" not in err and "UnicodeEncodeError" not in err


def test_an_order_whose_report_holds_markup_lists_and_shows_as_text(tmp_path):
    from copilot.services import build_services
    from copilot.settings import Settings
    from copilot.work_orders.schemas import NewWorkOrder

    db = f"sqlite:///{tmp_path / 'wo.db'}"
    services = build_services(Settings(home=tmp_path / "h", database_url=db), lazy=True)
    text = "井盖丢了[/b][bold red]快来[/dim]"
    order = services.orders.create(
        NewWorkOrder(
            idempotency_key="markup-1",
            title=text,
            text=text,
            board="设施运行",
            event_type="FAC-MANHOLE-COVER",
            urgency="较急",
            tier="镇街",
            department="城市管理局",
            owner_unit="两路街道[/i]",
            deadline_hours={"一般": 72, "较急": 24, "紧急": 4},
        ),
        actor="网格员[/u]",
    )
    services.close()
    for argv in (["orders", "list"], ["orders", "show", order.order_no]):
        result = runner.invoke(app, [*argv, "--database-url", db])
        assert result.exit_code == 0, (argv, result.output)
        assert "[/b]" in result.output and "Traceback" not in result.output
