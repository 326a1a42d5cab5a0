"""事件受理: an event in, its route and drafted disposition out, then the official's decision."""

from __future__ import annotations

from typing import Any

import gradio as gr

from copilot.users.scope import may_decide
from copilot.vocabulary import BOARDS, TIERS, URGENCIES
from copilot.work_orders.schemas import OrderChanges
from ui.context import UiContext, fail, friendly
from ui.render import disposition_html, notice, order_result_html

EVENT_CHARS = 5000
PLACE_CHOICES = 1500  # a city user's towns (1,031) fit; a dropdown filters as one types
EXAMPLE_EVENT = "渝北区两路街道空港大道有个井盖不见了，晚上很危险"


def place_choices(ctx: UiContext, code: str) -> list[tuple[str, str]]:
    """The jurisdiction and the units two levels below it, as (name, code)."""
    h = ctx.services.hierarchy
    out = [(ctx.place_name(code), code)]
    for child in h.children.get(code, []):
        out.append((ctx.place_name(child), child))
        out += [(ctx.place_name(g), g) for g in h.children.get(child, [])]
        if len(out) >= PLACE_CHOICES:
            break
    return out[:PLACE_CHOICES]


def build(ctx: UiContext) -> dict[str, Any]:
    current = gr.State(None)  # the disposition dict shown (its order waits for a decision)
    with gr.Row():
        with gr.Column(scale=5):
            text = gr.Textbox(
                label="事件描述",
                lines=5,
                max_lines=12,
                placeholder=EXAMPLE_EVENT,
                elem_id="event-text",
            )
            place = gr.Dropdown(
                label="发生地点（可选：文字中地点不明确时以此为准）",
                choices=[],
                value=None,
                allow_custom_value=False,
                filterable=True,
                elem_id="event-place",
            )
            submit = gr.Button("受理并生成处置建议", variant="primary", elem_id="submit-event")
            status = gr.HTML(elem_id="intake-status")
        with gr.Column(scale=6):
            result = gr.HTML(elem_id="disposition")
    with gr.Accordion("审批（可修改后批准）", open=True, visible=False) as decide_box:
        with gr.Row():
            board = gr.Dropdown(list(BOARDS), label="板块")
            urgency = gr.Dropdown(list(URGENCIES), label="紧急程度")
            tier = gr.Dropdown(list(TIERS), label="责任层级")
        with gr.Row():
            department = gr.Textbox(label="主管部门")
            owner = gr.Textbox(label="责任单位")
            cooperating = gr.Textbox(label="协同单位（顿号分隔）")
        summary = gr.Textbox(label="事件概述", lines=2)
        steps = gr.Textbox(label="处置措施（每行一条）", lines=4)
        limit = gr.Textbox(label="办理时限")
        comment = gr.Textbox(label="审批意见（退回时必填）", elem_id="decision-comment")
        with gr.Row():
            approve = gr.Button("批准派单", variant="primary", elem_id="approve")
            ret = gr.Button("退回", elem_id="return")
            reject = gr.Button("驳回", variant="stop", elem_id="reject")
    decision = gr.HTML(elem_id="decision")
    fields = [board, urgency, tier, department, owner, cooperating, summary, steps, limit]

    @friendly
    def on_submit(event_text: str, place_code: str | None, request: gr.Request):
        user = ctx.user(request)
        event_text = (event_text or "").strip()
        if not event_text:
            raise fail("请输入事件描述")
        if len(event_text) > EVENT_CHARS:
            raise fail(f"事件描述过长（{len(event_text)} 字），请控制在 {EVENT_CHARS} 字以内")
        d = ctx.services.dispose_for(user, event_text, place_code or None)
        pending = d.get("state") == "pending_approval"
        if d.get("order_id") is None:
            head = notice(f"无需立案：{d['message_type']}（未生成工单）", "info")
        elif pending and not may_decide(user):
            head = notice(f"已受理，工单 {d['order_id']} 待上级审批", "info")
        else:
            head = notice(f"工单 {d['order_id']}：{_state_zh(d)}", "info")
        draft = d.get("draft") or {}
        values = [
            d.get("board"),
            d.get("urgency"),
            d.get("tier"),
            d.get("department") or "",
            d.get("owner_unit") or "",
            "、".join(d.get("cooperating_units") or []),
            draft.get("事件概述", ""),
            "\n".join(draft.get("处置措施", [])),
            draft.get("办理时限", ""),
        ]
        show = pending and may_decide(user)
        return [d, head, disposition_html(d), gr.update(visible=show), "", *values]

    submit.click(
        on_submit,
        [text, place],
        [current, status, result, decide_box, decision, *fields],
        concurrency_limit=4,
        show_progress="full",
    )

    def decide(action: str):
        @friendly
        def run(v: dict, request: gr.Request):
            d, note = v[current], v[comment]
            edited = [v[f] for f in fields]
            user = ctx.user(request)
            if not d or not d.get("order_id"):
                raise fail("请先受理一个事件")
            note = (note or "").strip() or None
            if action == "return" and not note:
                raise fail("退回时请填写审批意见")
            changes, draft_edits = _edits(d, edited) if action == "approve" else (None, None)
            order = ctx.services.decide_for(user, d["order_id"], action, note, changes, draft_edits)
            return order_result_html(order), gr.update(visible=False)

        return run

    for button, action in ((approve, "approve"), (ret, "return"), (reject, "reject")):
        button.click(
            decide(action),
            {current, comment, *fields},  # a set: the handler gets one dict
            [decision, decide_box],
            concurrency_limit=4,
        )
    return {"place": place}


def _state_zh(d: dict) -> str:
    from copilot.work_orders.states import State

    return State(d["state"]).zh if d.get("state") else "—"


def _edits(d: dict, edited: list) -> tuple[OrderChanges | None, dict | None]:
    """The fields the approver changed: order fields as ``OrderChanges``, draft sections as
    edits (unchanged ones are left out, so the record shows what the official changed)."""
    board, urgency, tier, department, owner, cooperating, summary, steps, limit = edited
    order = {
        "board": (board, d.get("board")),
        "urgency": (urgency, d.get("urgency")),
        "tier": (tier, d.get("tier")),
        "department": ((department or "").strip(), d.get("department") or ""),
        "owner_unit": ((owner or "").strip(), d.get("owner_unit") or ""),
        "cooperating_units": (_split(cooperating), list(d.get("cooperating_units") or [])),
    }
    changed = {k: new for k, (new, old) in order.items() if new and new != old}
    draft = d.get("draft") or {}
    sections = {
        "事件概述": ((summary or "").strip(), draft.get("事件概述", "")),
        "处置措施": (
            [s.strip() for s in (steps or "").splitlines() if s.strip()],
            draft.get("处置措施", []),
        ),
        "办理时限": ((limit or "").strip(), draft.get("办理时限", "")),
    }
    draft_edits = {k: new for k, (new, old) in sections.items() if new and new != old}
    if "owner_unit" in changed:
        draft_edits["责任单位"] = changed["owner_unit"]
    if "cooperating_units" in changed:
        draft_edits["协同单位"] = changed["cooperating_units"]
    return (OrderChanges(**changed) if changed else None), (draft_edits or None)


def _split(units: str) -> list[str]:
    return [
        u.strip()
        for u in (units or "").replace(",", "、").replace("，", "、").split("、")
        if u.strip()
    ]
