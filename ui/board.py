"""工单看板 (挂图作战): the jurisdiction's orders, tallies, the district map, actions, export."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import gradio as gr
import pandas as pd

from copilot.users.scope import sees_everything
from copilot.vocabulary import BOARDS, TIERS
from copilot.work_orders.board import BoardSummary
from copilot.work_orders.deadlines import beijing_time, utcnow
from copilot.work_orders.permissions import DECISIONS, allowed_decisions, allowed_transitions
from copilot.work_orders.schemas import OrderFilters, WorkOrderOut
from copilot.work_orders.states import State
from ui.charts import bar_chart
from ui.context import UiContext, fail, friendly
from ui.district_map import choropleth
from ui.render import order_detail_html

ALL = "全部"
ROWS = 200
COLUMNS = ["工单号", "标题", "状态", "板块", "层级", "责任单位", "办理时限", "提示"]


def build(ctx: UiContext) -> dict[str, Any]:
    with gr.Row():
        tier = gr.Dropdown([ALL, *TIERS], value=ALL, label="层级", scale=1)
        district = gr.Dropdown([(ALL, "")], value="", label="区县", scale=2, elem_id="f-district")
        town = gr.Dropdown([(ALL, "")], value="", label="镇街", scale=2, elem_id="f-town")
        board = gr.Dropdown([ALL, *BOARDS], value=ALL, label="板块", scale=2)
        states = gr.Dropdown(
            [(s.zh, s.value) for s in State], multiselect=True, label="状态", scale=2
        )
        overdue = gr.Checkbox(label="仅看超期", scale=1)
        refresh = gr.Button("刷新", scale=1, elem_id="board-refresh")
    totals = gr.HTML(elem_id="board-totals")
    with gr.Row():
        map_plot = gr.Plot(label="各区县在办/超期工单", elem_id="district-map", scale=3)
        with gr.Column(scale=2):
            board_plot = gr.Plot(label="按板块", elem_id="board-bars")
            state_plot = gr.Plot(label="按状态", elem_id="state-bars")
    # Set by the map's click handler (static/board.js): a district code.
    map_pick = gr.Textbox(elem_id="map-pick", elem_classes=["cq-hidden"], show_label=False)
    table = gr.Dataframe(
        headers=COLUMNS,
        interactive=False,
        wrap=True,
        max_height=360,
        elem_id="orders-table",
        label="工单列表（点击一行查看与办理）",
    )
    with gr.Row():
        export_csv = gr.Button("导出 CSV", elem_id="export-csv")
        export_xlsx = gr.Button("导出 Excel", elem_id="export-xlsx")
        export_file = gr.File(label="导出文件", elem_id="export-file", height=60)
    with gr.Group():
        detail = gr.HTML(elem_id="order-detail")
        with gr.Row():
            action = gr.Dropdown([], label="可执行操作", elem_id="order-action")
            note = gr.Textbox(label="办理意见", elem_id="order-note")
            do = gr.Button("执行", elem_id="order-do")
    selected = gr.State(None)  # (order_no, version)
    listed = gr.State([])  # order numbers in table order
    # A set of inputs: Gradio hands the handler one dict, component → value.
    filters_in = {tier, district, town, board, states, overdue}

    def filters(v: dict) -> OrderFilters:
        return OrderFilters(
            tier=None if v[tier] in (None, ALL) else v[tier],
            district_code=v[district] or None,
            town_code=v[town] or None,
            board=None if v[board] in (None, ALL) else v[board],
            states=[State(s) for s in v[states]] if v[states] else None,
            overdue=bool(v[overdue]),
            limit=ROWS,
        )

    @friendly
    def load(v: dict, request: gr.Request):
        user = ctx.user(request)
        f = filters(v)
        orders = ctx.services.orders_for(user, f)
        summary = ctx.services.board_for(user, f)
        return (
            _totals(summary, len(orders)),
            _map(ctx, summary),
            _bars(summary.by_board, "按板块", "#2e86c1"),
            _bars({State(k).zh: v for k, v in summary.by_state.items()}, "按状态", "#7d3c98"),
            _table(orders),
            [o.order_no for o in orders],
        )

    outputs = [totals, map_plot, board_plot, state_plot, table, listed]
    refresh.click(load, filters_in, outputs, concurrency_limit=8)
    for f in (tier, town, board, states, overdue):
        f.input(load, filters_in, outputs, concurrency_limit=8)

    @friendly
    def on_district(district_v: str, request: gr.Request):
        user = ctx.user(request)
        return gr.update(choices=_towns(ctx, user, district_v), value="")

    district.input(on_district, [district], [town]).then(load, filters_in, outputs)

    @friendly
    def on_map_pick(code: str, request: gr.Request):
        user = ctx.user(request)
        code = (code or "").strip()
        valid = {c for _, c in _districts(ctx, user)}
        if code not in valid:
            return gr.skip(), gr.skip()
        return gr.update(value=code), gr.update(choices=_towns(ctx, user, code), value="")

    map_pick.change(on_map_pick, [map_pick], [district, town]).then(load, filters_in, outputs)

    @friendly
    def on_select(order_nos: list[str], evt: gr.SelectData, request: gr.Request):
        user = ctx.user(request)
        row = evt.index[0] if isinstance(evt.index, list | tuple) else evt.index
        if row is None or row >= len(order_nos):
            return gr.skip(), gr.skip(), None
        order = ctx.services.order_for(user, order_nos[row])
        return _detail(ctx, user, order)

    table.select(on_select, [listed], [detail, action, selected])

    @friendly
    def on_do(v: dict, request: gr.Request):
        user = ctx.user(request)
        sel, to, comment = v[selected], v[action], v[note]
        if not sel:
            raise fail("请先在列表中选择一个工单")
        if not to:
            raise fail("请选择要执行的操作")
        order_no, version = sel
        if to in DECISIONS:
            if to == "return" and not (comment or "").strip():
                raise fail("退回时请填写办理意见")
            order = ctx.services.decide_for(user, order_no, to, (comment or "").strip() or None)
        else:
            order = ctx.services.transition_for(
                user, order_no, to, version, (comment or "").strip() or None
            )
        return (*_detail(ctx, user, order), *load(v, request))

    do.click(
        on_do,
        {selected, action, note, *filters_in},
        [detail, action, selected, *outputs],
        concurrency_limit=4,
    )

    def exporter(fmt: str):
        @friendly
        def run(v: dict, request: gr.Request):
            user = ctx.user(request)
            file = ctx.services.export_orders_for(user, filters(v), fmt)  # type: ignore[arg-type]
            folder = Path(tempfile.mkdtemp(prefix="copilot-export-"))
            path = folder / file.filename
            path.write_bytes(file.content)
            return str(path)

        return run

    export_csv.click(exporter("csv"), filters_in, [export_file])
    export_xlsx.click(exporter("xlsx"), filters_in, [export_file])

    @friendly
    def first_open(v: dict, request: gr.Request):
        user = ctx.user(request)
        return (gr.update(choices=[(ALL, ""), *_districts(ctx, user)]), *load(v, request))

    return {"open": (first_open, filters_in, [district, *outputs])}


def _districts(ctx: UiContext, user) -> list[tuple[str, str]]:
    h = ctx.services.hierarchy
    if sees_everything(user):
        codes = h.children.get(h.city.code, [])
    else:
        district = h.district_of(user.jurisdiction)
        codes = [district.code] if district is not None else []
    return [(h.get(c).name, c) for c in codes if h.get(c) is not None]


def _towns(ctx: UiContext, user, district_code: str | None) -> list[tuple[str, str]]:
    h = ctx.services.hierarchy
    if not district_code:
        return [(ALL, "")]
    towns = [
        (h.get(c).name, c)
        for c in h.children.get(district_code, [])
        if h.get(c) is not None
        and (
            sees_everything(user)
            or h.is_within(c, user.jurisdiction)
            or h.is_within(user.jurisdiction, c)
        )
    ]
    return [(ALL, ""), *towns]


def _detail(ctx: UiContext, user, order: WorkOrderOut):
    audit = ctx.services.audit(order.id)
    choices = [(_DECISION_ZH[d], d) for d in allowed_decisions(user, order)]
    choices += [(s.zh, s.value) for s in allowed_transitions(user, order)]
    return (
        order_detail_html(order, audit),
        gr.update(choices=choices, value=None),
        (order.order_no, order.version),
    )


_DECISION_ZH = {"approve": "批准派单", "return": "退回", "reject": "驳回"}


def _totals(s: BoardSummary, shown: int) -> str:
    return (
        '<div class="cq-totals">'
        f"<span>工单总数 <b>{s.total}</b></span><span>在办 <b>{s.open}</b></span>"
        f'<span class="cq-red-text">超期 <b id="overdue-count">{s.overdue}</b></span>'
        f'<span class="cq-red-text">已升级 <b>{s.escalated}</b></span>'
        f"<span>超期率 <b>{s.overdue_rate:.0%}</b></span>"
        f'<span class="cq-muted">列表显示 {shown} 条</span></div>'
    )


def _map(ctx: UiContext, s: BoardSummary):
    outlines = ctx.outlines()
    values = {code: t.open for code, t in s.by_district.items()}
    hover = {code: f"超期: {t.overdue}　累计: {t.total}" for code, t in s.by_district.items()}
    return choropleth(
        outlines, values, title="在办工单（点击区县筛选）", colorbar="在办", hover=hover
    )


def _bars(counts: dict[str, int], title: str, colour: str):
    return bar_chart(list(counts), list(counts.values()), title=title, colour=colour, height=200)


def _table(orders: list[WorkOrderOut]):
    rows = []
    now = utcnow()
    for o in orders:
        flags = []
        if o.state in (State.ESCALATED,) or o.escalation_level:
            flags.append("⬆已升级")
        if o.supervised:
            flags.append("市级督办")
        if o.is_overdue(now):
            flags.append("⚠超期")
        rows.append(
            [
                o.order_no,
                o.title,
                o.state.zh,
                o.board,
                o.tier,
                o.owner_unit or o.department,
                beijing_time(o.deadline_at),
                " ".join(flags),
            ]
        )
    df = pd.DataFrame(rows, columns=COLUMNS)

    def colour(row):
        hint = row["提示"]
        bg = "#fdecea" if ("超期" in hint or "升级" in hint) else ""
        return [f"background-color: {bg}" if bg else "" for _ in row]

    return df.style.apply(colour, axis=1)
