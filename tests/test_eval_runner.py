"""The eval runner: gates on the bundled sets, a degraded retrieval failing its gate, resumable
runs, a city's own CSV, and the HTML report opened in a browser."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from evals.gates import CI_GATES
from evals.runner import EvalError, EvalRequest, expand_suites, parse_gate, run_eval

CHROMIUM = Path("/usr/bin/chromium")
COPILOT = str(Path(sys.executable).parent / "copilot")


def _copilot_eval(home: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, "COPILOT_HOME": str(home), "COPILOT_LLM_BACKEND": "none", **env}
    return subprocess.run(
        [COPILOT, "eval", *args], env=environment, capture_output=True, text=True, timeout=900
    )


@pytest.mark.slow
def test_bundled_sets_pass_the_release_gates_and_the_report_opens(
    bundled_kb, bundled_settings, bundled_eval, tmp_path
):
    report = tmp_path / "report"
    # The items the session's in-process ``eval all`` scored (tests/conftest.py): the CLI
    # reuses each one whose case, settings, code and index are the same, and scores the rest.
    shutil.copytree(bundled_eval[1] / "cache", report / "cache")
    gates = [a for g in CI_GATES for a in ("--fail-under", g)]
    run = _copilot_eval(bundled_settings.home, "all", "--report", str(report), *gates)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    data = json.loads((report / "report.json").read_text(encoding="utf-8"))
    ran = {(s["suite"], s["config"]) for s in data["suites"]}
    assert ran == {
        *(("retrieval", c) for c in ("bm25", "dense", "hybrid", "hybrid+rerank")),
        ("answer", "none"),
        ("routing", "none"),
        ("disposition", "none"),
    }
    assert len(data["gates"]) == len(CI_GATES) and all(g["passed"] for g in data["gates"])
    assert (report / "report.md").is_file() and (report / "plotly.min.js").is_file()
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is missing: apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
            headless=True,
        )
        try:
            page = browser.new_page()
            page.set_default_timeout(60_000)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto((report / "report.html").resolve().as_uri())
            page.wait_for_function(
                "() => document.querySelectorAll('.plot .js-plotly-plot .main-svg').length >= 6"
            )
            for suite in ("retrieval", "answer", "routing", "disposition"):
                assert page.locator(f'section.suite[data-suite="{suite}"]').count() == 1
            assert page.locator('.plot[data-kind="confusion"] .js-plotly-plot').count() >= 4
            assert page.locator('.plot[data-kind="latency"] .js-plotly-plot').count() >= 4
            assert page.locator("#gates tr.gate.pass").count() == len(CI_GATES)
            assert page.locator("#gates tr.gate.fail").count() == 0
        finally:
            browser.close()
    assert errors == []


def _copilot_eval_here(home: Path, *args: str, **env: str):
    """``copilot eval`` in this process (Click's runner): the same command, settings read
    from the same environment, without a new interpreter importing everything again. The
    gate test above runs the real executable."""
    from typer.testing import CliRunner

    from copilot.cli import app

    environment = {"COPILOT_HOME": str(home), "COPILOT_LLM_BACKEND": "none", **env}
    return CliRunner().invoke(app, ["eval", *args], env=environment)


@pytest.mark.slow
def test_a_degraded_retrieval_fails_its_gate(bundled_kb, bundled_settings):
    gate = ("--configs", "hybrid", "--limit", "60", "--fail-under", "retrieval.hit_at_5=0.85")
    healthy = _copilot_eval_here(bundled_settings.home, "retrieval", *gate)
    assert healthy.exit_code == 0, healthy.output[-3000:]
    assert "PASS" in healthy.stdout
    # A regression as a bad release would make it: the fusion's two main signals weighed 0.
    broken = _copilot_eval_here(
        bundled_settings.home,
        "retrieval",
        *gate,
        COPILOT_KEYWORD_WEIGHT="0",
        COPILOT_DENSE_WEIGHT="0",
    )
    assert broken.exit_code == 1, broken.output[-3000:]
    assert "FAIL" in broken.stdout


def test_a_stopped_run_resumes_from_its_cache(bundled_kb, bundled_settings, tmp_path):
    request = EvalRequest(
        suites=["retrieval"], configs=["bm25"], limit=8, report_dir=tmp_path / "r"
    )

    def stop_after_five(suite, config, done, total, hit):
        if done == 5:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_eval(request, bundled_settings, stop_after_five)
    resumed = run_eval(request, bundled_settings)
    [result] = resumed.suites
    assert (result.n, result.cached_items) == (8, 5)  # the five scored before the stop
    again = run_eval(request, bundled_settings).suites[0]
    assert again.cached_items == 8 and again.metrics == result.metrics
    fresh = run_eval(request.model_copy(update={"resume": False}), bundled_settings).suites[0]
    assert fresh.cached_items == 0 and fresh.metrics == result.metrics


def test_a_citys_own_csv_is_scored_through_its_label_map(bundled_kb, bundled_settings, tmp_path):
    from evals.external import CsvSource

    rows = [
        ("1", "渝北区两路街道空港大道有个井盖不见了，晚上很危险", "城乡建设"),
        ("2", "小区旁边的工地半夜施工，噪音吵得人睡不着", "环境保护"),
        ("3", "公司拖欠了我三个月工资一直不发", "劳动和社会保障"),
        ("4", "这条消息的类别没有映射", "外星事务"),
    ]
    data = tmp_path / "hotline.csv"
    data.write_text(
        "编号,内容,一级分类\n" + "".join(f"{i},{t},{c}\n" for i, t, c in rows), encoding="utf-8"
    )
    mapping = tmp_path / "map.json"
    mapping.write_text(
        json.dumps(
            {
                "城乡建设": ["城市管理局", "住房城乡建设委"],
                "环境保护": ["生态环境局"],
                "劳动和社会保障": ["人力社保局"],
            },
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    source = CsvSource(
        text_columns=["内容"], label_column="一级分类", label_map=mapping, id_column="编号"
    )
    report = run_eval(
        EvalRequest(suites=["routing"], datasets=[data], csv=source), bundled_settings
    )
    [result] = report.suites
    assert result.n == 3  # the row whose label the map does not know is left out, and said so
    assert any("1 rows left out" in note for note in result.notes)
    assert 0.0 <= result.metrics["label_accuracy"] <= 1.0
    [matrix] = result.confusion
    assert matrix.field == "label" and sum(map(sum, matrix.matrix)) == 3
    assert {"城乡建设", "环境保护", "劳动和社会保障"} <= set(matrix.labels)
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(ValueError, match="label"):
        run_eval(
            EvalRequest(
                suites=["routing"],
                datasets=[data],
                csv=source.model_copy(update={"label_map": bad}),
            ),
            bundled_settings,
        )


def test_without_an_llm_faithfulness_is_a_labelled_proxy(bundled_kb, bundled_settings, tmp_path):
    cases = tmp_path / "answers.jsonl"
    cases.write_text(
        json.dumps(
            {
                "id": "x1",
                "question": "小区打算召开业主大会，最晚要提前几天把开会的事通知到全体业主？",
                "doc_title": "物业管理条例",
                "article": "第十四条",
                "gold": "15日",
            },
            ensure_ascii=False,
        )
        + "\n",
        encoding="utf-8",
    )
    [result] = run_eval(EvalRequest(suites=["answer"], datasets=[cases]), bundled_settings).suites
    assert "faithfulness_lexical" in result.metrics and "faithfulness_judge" not in result.metrics
    assert any("PROXY" in note for note in result.notes)


@pytest.mark.parametrize(
    "text",
    ["retrieval.hit_at_5", "nosuch.metric=1", "retrieval.hit_at_5=high", "retrieval=0.5"],
)
def test_a_malformed_gate_is_a_clear_error(text):
    with pytest.raises(EvalError, match="fail-under"):
        parse_gate(text)


def test_gates_and_suites_are_understood():
    g = parse_gate("retrieval[hybrid+rerank].mrr=0.8")
    assert (g.suite, g.config, g.metric, g.threshold) == ("retrieval", "hybrid+rerank", "mrr", 0.8)
    assert expand_suites(["all", "routing"]) == ["retrieval", "answer", "routing", "disposition"]
    with pytest.raises(EvalError, match="unknown suite"):
        expand_suites(["speed"])
    assert all(parse_gate(g) for g in CI_GATES)


def test_the_command_line_refuses_what_it_cannot_run(bundled_settings, tmp_path):
    missing = _copilot_eval_here(
        bundled_settings.home, "routing", "--dataset", str(tmp_path / "no.jsonl")
    )
    assert missing.exit_code == 2 and "no dataset file" in missing.stderr
    two = _copilot_eval_here(bundled_settings.home, "routing", "answer", "--dataset", "x.jsonl")
    assert two.exit_code == 2 and "exactly one suite" in two.stderr
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"id": "1", "text": "ok"}\n{not json\n', encoding="utf-8")
    bad = _copilot_eval_here(bundled_settings.home, "routing", "--dataset", str(broken))
    assert bad.exit_code == 2 and "broken.jsonl:2" in bad.stderr


def test_backends_run_side_by_side_and_an_llm_judges_faithfulness(
    bundled_kb, bundled_settings, tmp_path
):
    from types import SimpleNamespace

    from copilot.answers.models import Answer, Citation
    from copilot.llm.openai_backend import OpenAIBackend
    from evals.suites.answers import _faithfulness
    from tests.contracts.fake_openai import fake_openai_endpoint

    cases = tmp_path / "q.jsonl"
    cases.write_text(
        json.dumps(
            {
                "id": "q1",
                "question": "物业管理条例规定业主大会怎么召开？",
                "doc_title": "物业管理条例",
                "article": "第十四条",
            },
            ensure_ascii=False,
        )
        + "\n",
        encoding="utf-8",
    )
    with fake_openai_endpoint() as url:
        settings = bundled_settings.model_copy(update={"llm_base_url": url, "llm_model": "fake"})
        report = run_eval(
            EvalRequest(suites=["answer"], datasets=[cases], backends=["none", "openai"]),
            settings,
        )
        assert [s.config for s in report.suites] == ["none", "openai"]
        # The judge: an OpenAI-compatible model asked for {"supported", "unsupported"}.
        judge = SimpleNamespace(
            llm=OpenAIBackend(url, "k", "fake"),
            source_text=lambda chunk_id: "业主大会会议应当于会议召开15日以前通知全体业主。",
        )
        answer = Answer(
            question="q",
            answer="应提前15日通知全体业主。",
            refused=False,
            citations=[
                Citation(
                    doc_title="物业管理条例",
                    article="第十四条",
                    quote="会议召开15日以前通知",
                    chunk_id="c1",
                )
            ],
            trace_id="t",
        )
        assert _faithfulness(judge, "q", answer) == {"faithfulness_judge": 1.0}
    judge.llm = None  # no model: the proxy, from the cited text
    proxy = _faithfulness(judge, "q", answer)["faithfulness_lexical"]
    assert 0.5 < proxy <= 1.0
