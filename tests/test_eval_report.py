"""Eval run reports: the JSON round-trips, the Markdown reads in a review, and the HTML page
renders its plotly figures in a real browser from a folder with no network."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from evals.report import write_reports
from evals.results import (
    Confusion,
    GateResult,
    ItemResult,
    LatencyStats,
    RunReport,
    SuiteResult,
)

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]
WAIT_MS = 30_000
BOARDS = ["设施运行", "社会治理"]


def _retrieval(config: str, hit: float, mrr: float, ndcg: float) -> SuiteResult:
    samples = [12.0 + (i * 7) % 40 for i in range(30)]
    return SuiteResult(
        suite="retrieval",
        config=config,
        dataset="retrieval_dev.jsonl",
        n=30,
        metrics={"hit_at_5": hit, "mrr": mrr, "ndcg_at_10": ndcg, "seconds_per_query": 0.04},
        latency=[
            LatencyStats(stage="retrieve", n=30, p50_ms=30.0, p95_ms=49.0, samples_ms=samples)
        ],
        notes=["hit@5: 前5条命中任一相关条文 / any relevant article in the top 5"],
    )


def _routing_failures(count: int) -> list[ItemResult]:
    return [
        ItemResult(
            id=f"ev-{i:03d}",
            input="渝北区两路街道空港大道有个井盖不见了，晚上很危险" * 4,
            expected={"board": "设施运行"},
            got={"board": "社会治理"},
            ok=False,
        )
        for i in range(count)
    ]


def _routing() -> SuiteResult:
    return SuiteResult(
        suite="routing",
        config="none",
        dataset="events_dev.jsonl",
        n=40,
        metrics={"board_accuracy": 0.85, "urgency_accuracy": 0.9},
        per_class={
            "board": {
                "设施运行": {"n": 22.0, "precision": 0.9, "recall": 0.82},
                "社会治理": {"n": 18.0, "precision": 0.8, "recall": 0.89},
            }
        },
        confusion=[Confusion(field="board", labels=BOARDS, matrix=[[18, 4], [2, 16]])],
        latency=[LatencyStats(stage="route", n=40, p50_ms=3.0, p95_ms=8.5, samples_ms=[3.0] * 40)],
        failures=_routing_failures(25),
        notes=["<b>board</b> = 板块"],
    )


@pytest.fixture
def report() -> RunReport:
    return RunReport(
        created_at=datetime(2025, 5, 1, 9, 30, tzinfo=UTC),
        command="python -m evals.run --suite retrieval --suite routing",
        suites=[
            _retrieval("bm25", 0.7, 0.55, 0.6),
            _retrieval("hybrid+rerank", 0.9, 0.78, 0.81),
            _routing(),
        ],
        gates=[
            GateResult(
                metric="retrieval[hybrid+rerank].hit_at_5", threshold=0.85, value=0.9, passed=True
            ),
            GateResult(
                metric="routing[none].board_accuracy", threshold=0.9, value=0.85, passed=False
            ),
        ],
        seconds=12.5,
        machine={"cpu": "16 cores"},
    )


@pytest.fixture
def written(report: RunReport, tmp_path: Path) -> dict[str, Path]:
    return write_reports(report, tmp_path / "run")


def test_reports_are_written_and_the_json_round_trips(report, written):
    assert set(written) == {"json", "md", "html"}
    assert all(p.is_file() for p in written.values())
    assert (written["html"].parent / "plotly.min.js").stat().st_size > 1_000_000
    again = RunReport.model_validate_json(written["json"].read_text(encoding="utf-8"))
    assert again == report


def test_markdown_shows_the_failed_gate_and_configs_side_by_side(written):
    md = written["md"].read_text(encoding="utf-8")
    assert "python -m evals.run --suite retrieval --suite routing" in md
    assert "2025-05-01T09:30:00" in md
    assert re.search(r"\| routing\[none\]\.board_accuracy \| 0\.900 \| 0\.850 \| FAIL \|", md)
    assert re.search(r"\| retrieval\[hybrid\+rerank\]\.hit_at_5 \| .* \| PASS \|", md)
    assert re.search(r"^\| metric 指标 \| bm25 \| hybrid\+rerank \|$", md, re.M)
    assert "| hit_at_5 | 0.700 | 0.900 |" in md
    assert "| 设施运行 | 22 | 0.900 | 0.820 |" in md
    # 25 failures: 20 listed, the rest counted; inputs cut to 80 characters.
    assert md.count("| ev-0") == 20 and "… 5 more" in md
    long_input = next(line for line in md.splitlines() if line.startswith("| ev-000"))
    assert len(long_input.split(" | ")[1]) == 80


def test_html_is_self_contained_and_escapes_text(written):
    page = written["html"].read_text(encoding="utf-8")
    assert '<meta charset="utf-8">' in page and 'lang="zh-CN"' in page
    srcs = re.findall(r"<script[^>]*\bsrc=\"([^\"]*)\"", page)
    assert srcs == ["plotly.min.js"]
    assert not any("cdn" in s.lower() or "http" in s.lower() for s in srcs)
    assert "cdn.plot.ly" not in page
    assert "&lt;b&gt;board&lt;/b&gt;" in page and "<b>board</b>" not in page
    assert page.count('<tr class="gate fail">') == 1 and page.count('<tr class="gate pass">') == 1
    for kind in ("confusion", "per-board", "latency", "configs"):
        assert f'data-kind="{kind}"' in page
    assert page.count("<tr><td>ev-0") == 25


@pytest.mark.slow
def test_html_report_renders_heatmaps_and_gates_offline(written):
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is missing: apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    errors: list[str] = []
    requests: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS, headless=True)
        try:
            page = browser.new_page()
            page.set_default_timeout(WAIT_MS)
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("request", lambda r: requests.append(r.url))
            page.goto(written["html"].resolve().as_uri())
            page.wait_for_function(
                "() => document.querySelectorAll('.plot .js-plotly-plot .main-svg').length >= 3"
            )
            confusion = page.locator('.plot[data-kind="confusion"] .js-plotly-plot')
            assert confusion.count() >= 1
            # The heatmap drew its counts into the cells.
            assert "18" in confusion.first.inner_text()
            assert page.locator('.plot[data-kind="latency"] .js-plotly-plot').count() >= 1
            assert page.locator('.plot[data-kind="per-board"] .js-plotly-plot').count() == 1
            assert page.locator('.plot[data-kind="configs"] .js-plotly-plot').count() == 1
            assert page.locator("#gates tr.gate.fail").count() == 1
            assert page.locator("#gates tr.gate.pass").count() == 1
            assert page.locator('section.suite[data-suite="routing"]').count() == 1
            retrieval = page.locator('section.suite[data-suite="retrieval"]')
            assert retrieval.get_attribute("data-config") == "bm25,hybrid+rerank"
            assert page.locator("table.failures").count() == 1
        finally:
            browser.close()
    assert errors == []
    assert all(url.startswith("file://") for url in requests), requests
