"""Eval run reports: ``report.json`` (the RunReport itself), ``report.md`` for reading in a
review and ``report.html``, an offline page with plotly figures (confusion heatmaps,
per-board precision/recall, latency histograms, configs side by side).

The HTML page loads ``plotly.min.js`` from its own folder: evaluators open it from a share
or an intranet with no internet access, so nothing may come from a CDN.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from html import escape
from pathlib import Path
from typing import Any

import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

from evals.results import Confusion, GateResult, ItemResult, LatencyStats, RunReport, SuiteResult

PLOTLY_JS = "plotly.min.js"
MD_FAILURES = 20
HTML_FAILURES = 50
INPUT_CHARS = 80
# Answers and retrieved ids can run to a page; a cell past this stops being readable.
VALUE_CHARS = 200
PER_CLASS_KEYS = ("n", "precision", "recall", "f1")
TIME_UNITS = ("seconds", "_ms", "latency")
PLOT_TEMPLATE = "plotly_white"
PLOT_CONFIG = {"displaylogo": False, "responsive": True}


# -- entry point ---------------------------------------------------------------------------


def write_reports(report: RunReport, out_dir: Path) -> dict[str, Path]:
    """Write report.json, report.md, report.html (and plotly.min.js beside it) to ``out_dir``."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {
        "json": out_dir / "report.json",
        "md": out_dir / "report.md",
        "html": out_dir / "report.html",
    }
    paths["json"].write_text(report.model_dump_json(indent=1), encoding="utf-8")
    paths["md"].write_text(render_markdown(report), encoding="utf-8")
    (out_dir / PLOTLY_JS).write_text(get_plotlyjs(), encoding="utf-8")
    paths["html"].write_text(render_html(report), encoding="utf-8")
    return paths


# -- shared helpers ------------------------------------------------------------------------


def group_suites(report: RunReport) -> dict[str, list[SuiteResult]]:
    """Suite name → its results under each config, in run order."""
    groups: dict[str, list[SuiteResult]] = {}
    for result in report.suites:
        groups.setdefault(result.suite, []).append(result)
    return groups


def metric_names(results: list[SuiteResult]) -> list[str]:
    """Every metric any config reports, first-seen order."""
    return list(dict.fromkeys(name for r in results for name in r.metrics))


def main_metrics(results: list[SuiteResult]) -> list[str]:
    """Metrics that every config reports and that lie in [0, 1].

    Seconds and counts would flatten rates to nothing on a shared axis, so the configs
    chart keeps to rates (hit@k, MRR, nDCG, accuracy); a fast stage's seconds fit in
    [0, 1] too, hence the name check.
    """
    return [
        name
        for name in metric_names(results)
        if not any(unit in name for unit in TIME_UNITS)
        and all(name in r.metrics and 0.0 <= r.metrics[name] <= 1.0 for r in results)
    ]


def metric_rows(results: list[SuiteResult]) -> list[list[object]]:
    """Rows of the configs-side-by-side table: dataset, n, each metric, seconds."""
    rows: list[list[object]] = [
        ["dataset 数据集", *(r.dataset for r in results)],
        ["n 样本数", *(r.n for r in results)],
    ]
    rows += [[m, *(fmt_number(r.metrics.get(m)) for r in results)] for m in metric_names(results)]
    rows.append(["seconds 耗时", *(f"{r.seconds:.1f}" for r in results)])
    return rows


def fmt_number(value: float | int | None) -> str:
    """A figure for a table cell: ints as is, floats to 3 places, missing as an em dash."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if isinstance(value, int) or (float(value).is_integer() and abs(value) >= 1000):
        return f"{int(value)}"
    return f"{value:.3f}"


def fmt_ms(value: float) -> str:
    """Milliseconds to one place: a thousandth of a millisecond is noise."""
    return f"{value:.1f}"


def fmt_class_stat(key: str, value: float | None) -> str:
    """Per-class cell: counts are stored as floats but read as whole numbers."""
    if key == "n" and value is not None and not math.isnan(value):
        return fmt_number(int(value))
    return fmt_number(value)


def cut(text: str, limit: int) -> str:
    """Whitespace collapsed to single spaces, cut to ``limit`` characters with an ellipsis."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def compact(value: dict[str, Any]) -> str:
    """A dict as one-line JSON, Chinese kept readable, cut to VALUE_CHARS."""
    return cut(
        json.dumps(value, ensure_ascii=False, separators=(", ", ": "), default=str), VALUE_CHARS
    )


def unique_notes(results: list[SuiteResult]) -> list[str]:
    """Notes of all configs, each once: configs of one suite usually share them."""
    return list(dict.fromkeys(note for r in results for note in r.notes))


def gate_summary(gates: list[GateResult]) -> str:
    """``2/3 passed — FAIL`` style line."""
    passed = sum(g.passed for g in gates)
    verdict = "PASS" if passed == len(gates) else "FAIL"
    return f"{passed}/{len(gates)} passed — {verdict}"


def gate_verdict(gate: GateResult) -> str:
    return "PASS" if gate.passed else "FAIL"


# -- Markdown ------------------------------------------------------------------------------


def md_cell(value: object) -> str:
    """Text safe inside a Markdown table cell: pipes escaped, one line."""
    return " ".join(str(value).split()).replace("|", "\\|")


def md_table(header: list[str], rows: Iterable[list[object]]) -> list[str]:
    """A GitHub-flavoured Markdown table as lines."""
    lines = [
        "| " + " | ".join(md_cell(h) for h in header) + " |",
        "|" + "|".join("---" for _ in header) + "|",
    ]
    lines += ["| " + " | ".join(md_cell(c) for c in row) + " |" for row in rows]
    return lines


def render_markdown(report: RunReport) -> str:
    """The whole report as Markdown."""
    lines = md_header(report)
    if report.gates:
        lines += md_gates(report.gates)
    for name, results in group_suites(report).items():
        lines += md_suite(name, results)
    return "\n".join(lines) + "\n"


def md_header(report: RunReport) -> list[str]:
    lines = [
        "# Eval report 评测报告",
        "",
        f"- created_at 生成时间: {report.created_at.isoformat(timespec='seconds')}",
        f"- command 命令: `{report.command}`",
        f"- seconds 耗时: {report.seconds:.1f}",
    ]
    if report.machine:
        machine = ", ".join(f"{k}={v}" for k, v in report.machine.items())
        lines.append(f"- machine 机器: {machine}")
    if report.gates:
        lines.append(f"- gates 门槛: {gate_summary(report.gates)}")
    return lines + [""]


def md_gates(gates: list[GateResult]) -> list[str]:
    rows = [
        [g.metric, fmt_number(g.threshold), fmt_number(g.value), gate_verdict(g)] for g in gates
    ]
    return [
        "## Gates 门槛",
        "",
        *md_table(["metric 指标", "threshold 阈值", "value 实测", "result 结果"], rows),
        "",
    ]


def md_suite(name: str, results: list[SuiteResult]) -> list[str]:
    lines = [f"## Suite: {name}", ""]
    lines += md_metrics(results)
    notes = unique_notes(results)
    if notes:
        lines += ["### Notes 说明", "", *(f"- {md_cell(n)}" for n in notes), ""]
    for r in results:
        lines += md_per_class(r)
        lines += md_confusions(r)
    lines += md_latency(results)
    for r in results:
        lines += md_failures(r)
    return lines


def md_metrics(results: list[SuiteResult]) -> list[str]:
    """One row per metric, one column per config."""
    header = ["metric 指标", *(r.config for r in results)]
    rows = metric_rows(results)
    return [*md_table(header, rows), ""]


def per_class_columns(labels: dict[str, dict[str, float]]) -> list[str]:
    """The usual columns first (n, precision, recall, f1), then any others the suite adds."""
    seen = dict.fromkeys(k for stats in labels.values() for k in stats)
    return [k for k in PER_CLASS_KEYS if k in seen] + [k for k in seen if k not in PER_CLASS_KEYS]


def md_per_class(result: SuiteResult) -> list[str]:
    lines: list[str] = []
    for field, labels in result.per_class.items():
        cols = per_class_columns(labels)
        rows = [
            [label, *(fmt_class_stat(c, stats.get(c)) for c in cols)]
            for label, stats in labels.items()
        ]
        lines += [f"### Per class 分类指标: {field} [{result.config}]", ""]
        lines += [*md_table(["label 类别", *cols], rows), ""]
    return lines


def md_confusions(result: SuiteResult) -> list[str]:
    lines: list[str] = []
    for conf in result.confusion:
        rows = [[gold, *row] for gold, row in zip(conf.labels, conf.matrix, strict=False)]
        lines += [
            f"### Confusion 混淆矩阵: {conf.field} [{result.config}] (rows gold 标注, columns predicted 预测)",
            "",
        ]
        lines += [*md_table(["gold \\ predicted", *conf.labels], rows), ""]
    return lines


def md_latency(results: list[SuiteResult]) -> list[str]:
    rows = [
        [r.config, s.stage, s.n, fmt_ms(s.p50_ms), fmt_ms(s.p95_ms)]
        for r in results
        for s in r.latency
    ]
    if not rows:
        return []
    header = ["config 配置", "stage 阶段", "n", "p50 ms", "p95 ms"]
    return ["### Latency 延迟", "", *md_table(header, rows), ""]


def failure_cells(item: ItemResult) -> list[str]:
    """id, input cut to INPUT_CHARS, expected, got."""
    return [item.id, cut(item.input, INPUT_CHARS), compact(item.expected), compact(item.got)]


def md_failures(result: SuiteResult) -> list[str]:
    if not result.failures:
        return []
    shown = result.failures[:MD_FAILURES]
    lines = [f"### Failures 失败样例 [{result.config}] ({len(result.failures)})", ""]
    header = ["id", "input 输入", "expected 期望", "got 实际"]
    lines += md_table(header, (failure_cells(f) for f in shown))
    if len(result.failures) > len(shown):
        lines.append(f"\n… {len(result.failures) - len(shown)} more 条未列出")
    return [*lines, ""]


# -- HTML ----------------------------------------------------------------------------------

CSS = """
body { font-family: system-ui, "Noto Sans CJK SC", "Microsoft YaHei", sans-serif;
       margin: 2rem auto; max-width: 1200px; color: #222; padding: 0 1rem; }
table { border-collapse: collapse; margin: 0.5rem 0 1rem; font-size: 0.9rem; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.5rem; text-align: left; vertical-align: top; }
th { background: #f3f5f8; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.gate.pass td.verdict { color: #17692b; font-weight: bold; }
tr.gate.fail td.verdict { color: #b3261e; font-weight: bold; }
.verdict-banner.pass { color: #17692b; } .verdict-banner.fail { color: #b3261e; }
section.suite { border-top: 2px solid #456; margin-top: 2rem; }
.plot { margin: 0.5rem 0 1rem; }
table.failures td { max-width: 28rem; word-break: break-all; }
.more { color: #666; }
"""


def h(value: object) -> str:
    """Escaped text for element content and attribute values."""
    return escape(str(value), quote=True)


def html_table(
    header: list[str], rows: Iterable[list[object]], cls: str = "", numeric_from: int = 1
) -> str:
    """A table of escaped cells; columns from ``numeric_from`` on are right-aligned."""
    head = "".join(f"<th>{h(c)}</th>" for c in header)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="num">{h(c)}</td>' if i >= numeric_from else f"<td>{h(c)}</td>"
            for i, c in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    cls_attr = f' class="{h(cls)}"' if cls else ""
    return f"<table{cls_attr}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


class PlotIds:
    """Sequential div ids, so that the same report renders to the same page."""

    def __init__(self) -> None:
        self.count = 0

    def next(self) -> str:
        self.count += 1
        return f"plot-{self.count}"


def plot_div(fig: go.Figure, kind: str, ids: PlotIds) -> str:
    """A figure in a ``.plot`` container; plotly.js comes once from the page head."""
    fig.update_layout(template=PLOT_TEMPLATE, margin={"t": 50, "l": 60, "r": 20, "b": 60})
    inner = fig.to_html(
        full_html=False, include_plotlyjs=False, div_id=ids.next(), config=PLOT_CONFIG
    )
    return f'<div class="plot" data-kind="{h(kind)}">{inner}</div>'


def render_html(report: RunReport) -> str:
    """The whole report as one page that needs only plotly.min.js beside it."""
    ids = PlotIds()
    body = [html_header(report)]
    if report.gates:
        body.append(html_gates(report.gates))
    body += [html_suite(name, results, ids) for name, results in group_suites(report).items()]
    return (
        '<!DOCTYPE html>\n<html lang="zh-CN">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>评测报告 Eval report {h(report.created_at.isoformat(timespec='seconds'))}</title>\n"
        f'<script src="{PLOTLY_JS}"></script>\n<style>{CSS}</style>\n</head>\n<body>\n'
        + "\n".join(body)
        + "\n</body>\n</html>\n"
    )


def html_header(report: RunReport) -> str:
    items = [
        ("created_at 生成时间", report.created_at.isoformat(timespec="seconds")),
        ("command 命令", report.command),
        ("seconds 耗时", f"{report.seconds:.1f}"),
    ]
    items += [(f"machine · {k}", v) for k, v in report.machine.items()]
    rows = "".join(f"<tr><th>{h(k)}</th><td>{h(v)}</td></tr>" for k, v in items)
    banner = ""
    if report.gates:
        cls = "pass" if report.passed else "fail"
        banner = f'<p class="verdict-banner {cls}">gates 门槛: {h(gate_summary(report.gates))}</p>'
    return f'<header><h1>评测报告 Eval report</h1><table id="run">{rows}</table>{banner}</header>'


def html_gates(gates: list[GateResult]) -> str:
    rows = "".join(
        f'<tr class="gate {"pass" if g.passed else "fail"}"><td>{h(g.metric)}</td>'
        f'<td class="num">{h(fmt_number(g.threshold))}</td>'
        f'<td class="num">{h(fmt_number(g.value))}</td>'
        f'<td class="verdict">{gate_verdict(g)}</td></tr>'
        for g in gates
    )
    head = "<tr><th>metric 指标</th><th>threshold 阈值</th><th>value 实测</th><th>result 结果</th></tr>"
    return (
        f'<h2>Gates 门槛</h2><table id="gates"><thead>{head}</thead><tbody>{rows}</tbody></table>'
    )


def html_suite(name: str, results: list[SuiteResult], ids: PlotIds) -> str:
    """One section per suite; its configs side by side, then each config's details."""
    configs = ",".join(r.config for r in results)
    parts = [f"<h2>Suite: {h(name)}</h2>", html_metrics(results)]
    if len(results) > 1 and main_metrics(results):
        parts.append(plot_div(configs_figure(results), "configs", ids))
    notes = unique_notes(results)
    if notes:
        parts.append(
            '<h3>Notes 说明</h3><ul class="notes">'
            + "".join(f"<li>{h(n)}</li>" for n in notes)
            + "</ul>"
        )
    parts += [html_config(r, ids) for r in results]
    return (
        f'<section class="suite" data-suite="{h(name)}" data-config="{h(configs)}">'
        + "\n".join(parts)
        + "</section>"
    )


def html_metrics(results: list[SuiteResult]) -> str:
    header = ["metric 指标", *(r.config for r in results)]
    rows = metric_rows(results)
    return html_table(header, rows, cls="metrics")


def html_config(result: SuiteResult, ids: PlotIds) -> str:
    """Per-class figures, confusions, latency and failures of one config."""
    parts = [f"<h3>Config 配置: {h(result.config)}</h3>"]
    parts += [html_per_class(field, labels) for field, labels in result.per_class.items()]
    board = result.per_class.get("board")
    if board:
        parts.append(plot_div(per_board_figure(board, result.config), "per-board", ids))
    parts += [
        plot_div(confusion_figure(c, result.config), "confusion", ids) for c in result.confusion
    ]
    parts.append(html_latency(result, ids))
    parts.append(html_failures(result))
    return f'<div class="config" data-config="{h(result.config)}">' + "\n".join(parts) + "</div>"


def html_per_class(field: str, labels: dict[str, dict[str, float]]) -> str:
    cols = per_class_columns(labels)
    rows = [
        [label, *(fmt_class_stat(c, stats.get(c)) for c in cols)] for label, stats in labels.items()
    ]
    return f"<h4>Per class 分类指标: {h(field)}</h4>" + html_table(
        ["label 类别", *cols], rows, cls="per-class"
    )


def html_latency(result: SuiteResult, ids: PlotIds) -> str:
    if not result.latency:
        return ""
    rows = [[s.stage, s.n, fmt_ms(s.p50_ms), fmt_ms(s.p95_ms)] for s in result.latency]
    table = html_table(["stage 阶段", "n", "p50 ms", "p95 ms"], rows, cls="latency")
    plots = [
        plot_div(latency_figure(s, result.config), "latency", ids)
        for s in result.latency
        if s.samples_ms
    ]
    return "<h4>Latency 延迟</h4>" + table + "".join(plots)


def html_failures(result: SuiteResult) -> str:
    if not result.failures:
        return ""
    shown = result.failures[:HTML_FAILURES]
    table = html_table(
        ["id", "input 输入", "expected 期望", "got 实际"],
        (failure_cells(f) for f in shown),
        cls="failures",
        numeric_from=4,
    )
    more = len(result.failures) - len(shown)
    tail = f'<p class="more">… {more} more 条未列出</p>' if more else ""
    return f"<h4>Failures 失败样例 ({len(result.failures)})</h4>{table}{tail}"


# -- figures -------------------------------------------------------------------------------


def confusion_figure(conf: Confusion, config: str) -> go.Figure:
    """Heatmap of counts: x = predicted, y = gold, each cell annotated."""
    fig = go.Figure(
        go.Heatmap(
            z=conf.matrix,
            x=conf.labels,
            y=conf.labels,
            text=conf.matrix,
            texttemplate="%{text}",
            colorscale="Blues",
            hovertemplate="gold %{y} → predicted %{x}: %{z}<extra></extra>",
        )
    )
    # Gold in reading order from the top, as in the Markdown table.
    fig.update_yaxes(autorange="reversed", title="gold 标注", type="category")
    fig.update_xaxes(title="predicted 预测", type="category")
    size = max(360, 40 * len(conf.labels) + 160)
    fig.update_layout(title=f"Confusion 混淆矩阵: {conf.field} [{config}]", height=size)
    return fig


def per_board_figure(board: dict[str, dict[str, float]], config: str) -> go.Figure:
    """Precision and recall per board label, grouped."""
    labels = list(board)
    fig = go.Figure(
        [
            go.Bar(name=key, x=labels, y=[board[label].get(key) for label in labels])
            for key in ("precision", "recall")
        ]
    )
    fig.update_layout(
        title=f"Per board 板块 precision / recall [{config}]",
        barmode="group",
        yaxis={"range": [0, 1.05]},
        height=380,
    )
    return fig


def latency_figure(stats: LatencyStats, config: str) -> go.Figure:
    """Histogram of samples with the p50 and p95 marked."""
    fig = go.Figure(go.Histogram(x=stats.samples_ms, name=stats.stage))
    for label, value, dash in (("p50", stats.p50_ms, "dash"), ("p95", stats.p95_ms, "dot")):
        fig.add_vline(
            x=value, line_dash=dash, annotation_text=f"{label} {value:.0f} ms", line_color="#b3261e"
        )
    fig.update_layout(
        title=f"Latency 延迟: {stats.stage} [{config}] (n={stats.n})",
        xaxis_title="ms",
        yaxis_title="count 次数",
        height=340,
        showlegend=False,
    )
    return fig


def configs_figure(results: list[SuiteResult]) -> go.Figure:
    """Main metrics per config, grouped bars."""
    names = main_metrics(results)
    fig = go.Figure(
        [go.Bar(name=r.config, x=names, y=[r.metrics[m] for m in names]) for r in results]
    )
    fig.update_layout(
        title=f"Configs 配置对比: {results[0].suite}",
        barmode="group",
        yaxis={"range": [0, 1.05]},
        height=400,
    )
    return fig
