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
from copilot.work_orders.deadlines import utcnow
from copilot.work_orders.permissions import allowed_decisions, allowed_transitions
from copilot.work_orders.schemas import OrderFilters, WorkOrderOut
from copilot.work_orders.states import State
from ui.context import UiContext, fail, friendly
from ui.district_map import choropleth, district_outlines
from ui.render import order_detail_html, when

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
    filters_in = [tier, district, town, board, states, overdue]

    def filters(tier_v, district_v, town_v, board_v, states_v, overdue_v) -> OrderFilters:
        return OrderFilters(
            tier=None if tier_v in (None, ALL) else tier_v,
            district_code=district_v or None,
            town_code=town_v or None,
            board=None if board_v in (None, ALL) else board_v,
            states=[State(s) for s in states_v] if states_v else None,
            overdue=bool(overdue_v),
            limit=ROWS,
        )

    @friendly
    def load(tier_v, district_v, town_v, board_v, states_v, overdue_v, request: gr.Request):
        user = ctx.user(request)
        f = filters(tier_v, district_v, town_v, board_v, states_v, overdue_v)
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
    def on_do(
        sel,
        to,
        comment,
        tier_v,
        district_v,
        town_v,
        board_v,
        states_v,
        overdue_v,
        request: gr.Request,
    ):
        user = ctx.user(request)
        values = (tier_v, district_v, town_v, board_v, states_v, overdue_v)
        if not sel:
            raise fail("请先在列表中选择一个工单")
        if not to:
            raise fail("请选择要执行的操作")
        order_no, version = sel
        if to in ("approve", "return", "reject"):
            if to == "return" and not (comment or "").strip():
                raise fail("退回时请填写办理意见")
            order = ctx.services.decide_for(user, order_no, to, (comment or "").strip() or None)
        else:
            order = ctx.services.transition_for(
                user, order_no, to, version, (comment or "").strip() or None
            )
        return (*_detail(ctx, user, order), *load(*values, request))

    do.click(
        on_do,
        [selected, action, note, *filters_in],
        [detail, action, selected, *outputs],
        concurrency_limit=4,
    )

    def exporter(fmt: str):
        @friendly
        def run(tier_v, district_v, town_v, board_v, states_v, overdue_v, request: gr.Request):
            user = ctx.user(request)
            f = filters(tier_v, district_v, town_v, board_v, states_v, overdue_v)
            file = ctx.services.export_orders_for(user, f, fmt)  # type: ignore[arg-type]
            folder = Path(tempfile.mkdtemp(prefix="copilot-export-"))
            path = folder / file.filename
            path.write_bytes(file.content)
            return str(path)

        return run

    export_csv.click(exporter("csv"), filters_in, [export_file])
    export_xlsx.click(exporter("xlsx"), filters_in, [export_file])

    @friendly
    def first_open(tier_v, district_v, town_v, board_v, states_v, overdue_v, request: gr.Request):
        user = ctx.user(request)
        values = (tier_v, district_v, town_v, board_v, states_v, overdue_v)
        return (gr.update(choices=[(ALL, ""), *_districts(ctx, user)]), *load(*values, request))

    return {"open": (first_open, filters_in, [district, *outputs])}


def _districts(ctx: UiContext, user) -> list[tuple[str, str]]:
    h = ctx.services.hierarchy
    if sees_everything(user):
        codes = h.children.get(h.level("city")[0].code, [])
    else:
        node = h.get(user.jurisdiction)
        while node is not None and node.level not in ("district", "zone", "city"):
            node = h.get(node.parent_code) if node.parent_code else None
        codes = [node.code] if node is not None and node.level == "district" else []
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
    outlines = district_outlines(
        ctx.services.settings.data_dir / "geo" / "chongqing_districts.geojson"
    )
    values = {code: t.open for code, t in s.by_district.items()}
    hover = {code: f"超期: {t.overdue}　累计: {t.total}" for code, t in s.by_district.items()}
    return choropleth(
        outlines, values, title="在办工单（点击区县筛选）", colorbar="在办", hover=hover
    )


def _bars(counts: dict[str, int], title: str, color: str):
    import plotly.graph_objects as go

    items = sorted(counts.items(), key=lambda kv: -kv[1])
    fig = go.Figure(go.Bar(x=[k for k, _ in items], y=[v for _, v in items], marker_color=color))
    fig.update_layout(
        title={"text": title, "font": {"size": 13}},
        height=200,
        margin={"l": 30, "r": 10, "t": 30, "b": 40},
    )
    return fig


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
                when(o.deadline_at),
                " ".join(flags),
            ]
        )
    df = pd.DataFrame(rows, columns=COLUMNS)

    def colour(row):
        hint = row["提示"]
        bg = "#fdecea" if ("超期" in hint or "升级" in hint) else ""
        return [f"background-color: {bg}" if bg else "" for _ in row]

    return df.style.apply(colour, axis=1)
