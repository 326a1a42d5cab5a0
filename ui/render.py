"""HTML for what officials read in the UI; every dynamic string is escaped here."""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

from copilot.answers.models import QUOTE_GAP, Answer, Citation
from copilot.users.store import ROLE_ZH, UserOut
from copilot.work_orders.deadlines import beijing_time
from copilot.work_orders.schemas import WorkOrderOut
from copilot.work_orders.states import State

e = html.escape


def header(user: UserOut, place: str) -> str:
    return (
        '<div class="cq-header"><span class="cq-brand">数字重庆 · 城市治理助手</span>'
        f'<span class="cq-user" id="cq-user">{e(user.name)} · {e(ROLE_ZH[user.role])} · '
        f"{e(place)}</span>"
        '<a class="cq-logout" href="/logout">退出登录</a></div>'
    )


def answer_markdown(answer: Answer) -> str:
    """The chat message: the conclusion first, then the quotes (the answer text already
    leads with its one-line conclusion)."""
    if answer.refused:
        searched = f"\n\n检索范围：{answer.searched}" if answer.searched else ""
        return f"**未能作答**\n\n{answer.answer}{searched}"
    return answer.answer


def citations_html(citations: Sequence[Citation], sources: Sequence[str | None]) -> str:
    """One expandable block per citation: the full article with the quoted span marked."""
    if not citations:
        return '<p class="cq-muted">本次回答没有引用条文。</p>'
    parts = ['<div class="cq-citations"><h4>引用依据</h4>']
    for i, (c, source) in enumerate(zip(citations, sources, strict=True), 1):
        label = f"《{c.doc_title}》{c.article or ''}{c.unit or ''}"
        body = _highlight(source, c.quote) if source else f"<mark>{e(c.quote)}</mark>"
        parts.append(
            f'<details class="cq-citation" id="citation-{i}"><summary>[{i}] {e(label)}</summary>'
            f'<div class="cq-article">{body}</div></details>'
        )
    parts.append("</div>")
    return "".join(parts)


def _highlight(source: str, quote: str) -> str:
    """The article with each piece of the quote (``QUOTE_GAP``-separated) marked."""
    marks: list[tuple[int, int]] = []
    for piece in quote.split(QUOTE_GAP):
        piece = piece.strip()
        pos = source.find(piece) if piece else -1
        if pos >= 0:
            marks.append((pos, pos + len(piece)))
    out, at = [], 0
    for start, end in sorted(marks):
        if start < at:
            continue
        out += [e(source[at:start]), "<mark>", e(source[start:end]), "</mark>"]
        at = end
    out.append(e(source[at:]))
    return "".join(out).replace("\n", "<br>")


def disposition_html(d: dict[str, Any]) -> str:
    """The route and the drafted disposition of ``Services.dispose``."""
    rows = [
        ("信息类型", d.get("message_type")),
        ("板块", d.get("board")),
        ("事件类型", d.get("event_type")),
        ("紧急程度", d.get("urgency")),
        ("责任层级", d.get("tier")),
        ("责任单位", d.get("owner_unit")),
        ("主管部门", d.get("department")),
        ("协同单位", "、".join(d.get("cooperating_units") or []) or "—"),
        ("办理时限", f"{d['deadline']:g} 小时" if d.get("deadline") else "—"),
    ]
    table = "".join(f"<tr><th>{e(k)}</th><td>{e(str(v or '—'))}</td></tr>" for k, v in rows)
    parts = [f'<table class="cq-kv">{table}</table>']
    if d.get("reasons"):
        parts.append(
            "<details><summary>分拨理由</summary><ul>"
            + "".join(f"<li>{e(r)}</li>" for r in d["reasons"])
            + "</ul></details>"
        )
    draft = d.get("draft")
    if draft:
        basis = "".join(
            f"<li>《{e(b['doc_title'])}》{e(b.get('article') or '')}：{e(b['quote'])}</li>"
            for b in draft.get("处置依据", [])
        )
        steps = "".join(f"<li>{e(s)}</li>" for s in draft.get("处置措施", []))
        parts.append(
            '<div class="cq-draft"><h4>处置建议（草稿）</h4>'
            f"<p><b>事件概述：</b>{e(draft['事件概述'])}</p>"
            f"<p><b>事件定性：</b>{e(draft['事件定性'])}</p>"
            f"<p><b>处置依据：</b></p><ul>{basis or '<li>—</li>'}</ul>"
            f'<p><b>处置措施：</b></p><ul class="cq-steps">{steps}</ul>'
            f"<p><b>责任单位：</b>{e(draft['责任单位'])}　"
            f"<b>协同单位：</b>{e('、'.join(draft.get('协同单位') or []) or '—')}</p>"
            f"<p><b>办理时限：</b>{e(draft['办理时限'])}</p>"
            f'<p class="cq-muted">起草：{e(d.get("drafted_by", ""))}</p></div>'
        )
    if d.get("similar_orders"):
        parts.append(f"<p>相似历史工单：{e('、'.join(d['similar_orders']))}</p>")
    return "".join(parts)


def order_result_html(order: WorkOrderOut) -> str:
    """What an official sees after a decision: number, state, owner and deadline."""
    cls = "cq-ok" if order.state is State.DISPATCHED else "cq-warn"
    return (
        f'<div class="cq-result {cls}" id="decision-result">'
        f"<b>工单 {e(order.order_no)}</b> · {e(order.state.zh)}<br>"
        f"责任单位：{e(order.owner_unit or order.department)}　"
        f"办理时限：{e(beijing_time(order.deadline_at))}</div>"
    )


def order_detail_html(order: WorkOrderOut, audit: Sequence[Any]) -> str:
    flags = []
    if order.escalation_level:
        flags.append(f'<span class="cq-badge cq-red">已升级 {order.escalation_level} 级</span>')
    if order.supervised:
        flags.append('<span class="cq-badge cq-red">市级督办</span>')
    trail = "".join(
        f"<li>{e(beijing_time(a.at))} {e(a.actor)}：{e(_state_zh(a.from_state))} → "
        f"{e(_state_zh(a.to_state))}{('（' + e(a.comment) + '）') if a.comment else ''}</li>"
        for a in audit
    )
    return (
        f'<div class="cq-order"><h4>{e(order.order_no)} {e(order.title)} {"".join(flags)}</h4>'
        f"<p>{e(order.text)}</p>"
        f"<p>状态：{e(order.state.zh)}　层级：{e(order.tier)}　板块：{e(order.board)}　"
        f"责任单位：{e(order.owner_unit or order.department)}　"
        f"时限：{e(beijing_time(order.deadline_at))}</p>"
        f"<details><summary>办理记录</summary><ol>{trail}</ol></details></div>"
    )


def _state_zh(value: Any) -> str:
    if value is None:
        return "新建"
    try:
        return State(value).zh
    except ValueError:
        return str(value)


def notice(message: str, kind: str = "error") -> str:
    return f'<div class="cq-notice cq-{kind}" role="alert">{e(message)}</div>'
