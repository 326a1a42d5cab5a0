"""城市体征: the jurisdiction's indicators against their thresholds, map and comparisons."""

from __future__ import annotations

from typing import Any

import gradio as gr
import pandas as pd

from copilot.indicators.vitals import VitalRow, VitalsView
from copilot.work_orders.board import BoardSummary
from ui.charts import bar_chart
from ui.context import UiContext, friendly
from ui.district_map import choropleth
from ui.render import e

STATUS_COLOUR = {"red": "#c0392b", "yellow": "#d4ac0d", "green": "#27ae60", "none": "#7f8c8d"}
# Share of open orders past their deadline: the board's own vital sign.
OVERDUE_YELLOW, OVERDUE_RED = 0.05, 0.15


def build(ctx: UiContext) -> dict[str, Any]:
    with gr.Row():
        indicator = gr.Dropdown([], label="指标", scale=3, elem_id="vital-indicator")
        refresh = gr.Button("刷新", scale=1)
    summary = gr.HTML(elem_id="vitals-summary")
    with gr.Row():
        vmap = gr.Plot(label="分区县", elem_id="vitals-map", scale=3)
        bars = gr.Plot(label="下级单位比较", elem_id="vitals-bars", scale=3)
    table = gr.Dataframe(interactive=False, label="本辖区指标", elem_id="vitals-table")

    @friendly
    def load(key: str | None, request: gr.Request):
        user = ctx.user(request)
        view = ctx.services.vitals_for(user)
        board = ctx.services.board_for(user)
        keys = sorted({r.key for r in view.children} | {r.key for r in view.own})
        names = {r.key: r.name for r in [*view.own, *view.children]}
        if key not in keys:
            # The first indicator with thresholds, else the first one.
            key = next((k for k in keys if k in view.thresholds), keys[0] if keys else None)
        rows = [r for r in view.children if r.key == key]
        return (
            gr.update(choices=[(names[k], k) for k in keys], value=key),
            _summary(view, board),
            _map(ctx, rows) if rows else None,
            _bars(rows) if rows else None,
            _table(view.own),
        )

    outputs = [indicator, summary, vmap, bars, table]
    indicator.input(load, [indicator], outputs)
    refresh.click(load, [indicator], outputs)
    return {"open": (load, [indicator], outputs)}


def _summary(view: VitalsView, board: BoardSummary) -> str:
    rate = board.overdue_rate
    status = "red" if rate >= OVERDUE_RED else "yellow" if rate >= OVERDUE_YELLOW else "green"
    lights = "".join(
        f'<span class="cq-light" style="background:{STATUS_COLOUR[r.status]}" '
        f'title="{e(r.name)}">{e(r.name)} {e(r.display)}（{e(r.status_zh)}）</span>'
        for r in view.own
        if r.status != "none"
    )
    note = (
        ""
        if view.own
        else '<p class="cq-muted">本辖区暂无人口普查指标（普查数据统计到区县一级）。</p>'
    )
    return (
        f'<div class="cq-vitals"><h4>{e(view.region_name)} · 城市体征</h4>'
        f'<p><span class="cq-light" style="background:{STATUS_COLOUR[status]}">'
        f"工单超期率 {rate:.0%}（在办 {board.open}，超期 {board.overdue}；"
        f"黄线 {OVERDUE_YELLOW:.0%}，红线 {OVERDUE_RED:.0%}）</span>{lights}</p>{note}</div>"
    )


def _map(ctx: UiContext, rows: list[VitalRow]):
    outlines = ctx.outlines()
    values = {r.region_code: r.value for r in rows}
    hover = {r.region_code: f"状态: {r.status_zh}" for r in rows}
    name = rows[0].name
    return choropleth(
        outlines,
        values,
        title=name,
        colorbar=rows[0].unit or name,
        colorscale="YlOrRd",
        hover=hover,
    )


def _bars(rows: list[VitalRow]):
    return bar_chart(
        [r.region_name for r in rows],
        [r.value for r in rows],
        title=f"{rows[0].name}（{rows[0].unit}）",
        colour=[STATUS_COLOUR[r.status] for r in rows],
        text=[r.status_zh for r in rows],
        height=420,
        bottom=90,
    )


def _table(rows: list[VitalRow]):
    return pd.DataFrame(
        [[r.name, r.display, r.status_zh, r.year, r.source] for r in rows],
        columns=["指标", "数值", "状态", "年份", "来源"],
    )
