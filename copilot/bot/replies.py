"""What the bot says, in Chinese, short enough for a phone screen."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from copilot.answers.models import Answer
from copilot.work_orders.deadlines import beijing_time
from copilot.work_orders.schemas import WorkOrderOut
from copilot.work_orders.states import State

ANSWER_CHARS = 220
QUOTE_CHARS = 80

HELP = (
    "网格助手 使用说明\n"
    "1. 上报事件：直接发文字，写清地点和情况，如“龙溪街道金龙路12号井盖缺失”。可先发照片或位置，再发文字。\n"
    "2. 查进度：发“我的工单”，或“工单 WO-20261130-000123”。\n"
    "3. 问政策：直接提问，如“占道经营怎么处罚？”\n"
    "发“帮助”再看本说明。"
)
UNKNOWN_SENDER = (
    "您好，您的账号尚未开通网格助手，暂时无法受理。请联系所在镇街管理员开通并绑定账号。"
)
ACK = "已收到，正在研判，结果稍后发给您。"
ACK_NO_PUSH = "已收到，正在研判。稍后发“我的工单”查看受理结果。"
CUT_NOTE = "（消息过长，仅受理前{n}字）"
HELD = {
    "image": "已收到照片。请再发一条文字说明地点和情况，照片将随事件一并上报。",
    "location": "已收到位置{label}。请再发一条文字说明情况，位置将随事件一并上报。",
}
UNSUPPORTED = "暂只支持文字、照片和位置消息。发“帮助”查看用法。"
EMPTY = "消息为空。发“帮助”查看用法。"
NO_ORDERS = "您还没有上报过事件。"
FAILED = "抱歉，处理时出错，请稍后重发或联系镇街值班人员。"


def ack(pushes: bool, cut: int | None) -> str:
    text = ACK if pushes else ACK_NO_PUSH
    return text + (CUT_NOTE.format(n=cut) if cut else "")


def held(kind: str, label: str | None) -> str:
    return HELD[kind].format(label=f"（{label}）" if label else "")


def order_line(o: WorkOrderOut, type_name: Callable[[str | None], str | None]) -> str:
    return f"{o.order_no} {o.state.zh}\n  {type_name(o.event_type)} · {o.owner_unit or '待定'}"


def orders_list(orders: list[WorkOrderOut], type_name: Callable[[str | None], str | None]) -> str:
    if not orders:
        return NO_ORDERS
    lines = [f"您最近上报的{len(orders)}件工单："]
    lines += [f"{i}. {order_line(o, type_name)}" for i, o in enumerate(orders, 1)]
    lines.append("发“工单 编号”看详情。")
    return "\n".join(lines)


def order_status(o: WorkOrderOut, type_name: Callable[[str | None], str | None]) -> str:
    lines = [
        f"工单 {o.order_no}",
        f"状态：{o.state.zh}",
        f"类型：{type_name(o.event_type)}（{o.board}）",
        f"承办：{o.owner_unit or '待定'}（{o.tier}）",
    ]
    if o.deadline_at is not None:
        lines.append(f"时限：{beijing_time(o.deadline_at, short=True)}前")
    if o.state == State.PENDING_APPROVAL:
        lines.append("待上级审批后派单。")
    if o.escalation_level:
        lines.append(f"已逾期升级{o.escalation_level}级。")
    return "\n".join(lines)


def disposition(result: dict[str, Any], type_name: Callable[[str | None], str | None]) -> str:
    """The result of a report: the order, or why there is none."""
    if not result.get("order_id"):
        kind = result.get("message_type") or "其他"
        return f"已收到。经研判为“{kind}”，无需立案。如确有问题，请补充地点和具体情况后重发。"
    pending = result.get("state") == State.PENDING_APPROVAL.value
    head = "已受理，待审批" if pending else "已受理"
    lines = [
        f"{head}：{result['order_id']}",
        f"类型：{type_name(result.get('event_type'))}（{result.get('board')}）",
        f"承办：{result.get('owner_unit') or '待定'}",
        f"紧急程度：{result.get('urgency')}",
    ]
    if result.get("deadline_at"):
        lines.append(f"时限：{beijing_time(_dt(result['deadline_at']), short=True)}前")
    elif result.get("deadline"):
        lines.append(f"时限：审批派单后{_hours(result['deadline'])}内办结")
    return "\n".join(lines)


def answer(a: Answer) -> str:
    """A short answer and its first citation."""
    if a.refused or not a.citations:
        return "未找到明确的政策依据，暂不能作答。请换个说法，或咨询镇街相关部门。"
    text = a.answer.strip()
    if len(text) > ANSWER_CHARS:
        text = text[:ANSWER_CHARS] + "…"
    c = a.citations[0]
    quote = c.quote if len(c.quote) <= QUOTE_CHARS else c.quote[:QUOTE_CHARS] + "…"
    where = f"《{c.doc_title}》{c.article or ''}"
    return f"{text}\n依据：{where}\n“{quote}”"


def _hours(h: float) -> str:
    return f"{int(h)}小时" if h < 48 else f"{h / 24:g}天"


def _dt(value: Any):
    from datetime import datetime

    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
