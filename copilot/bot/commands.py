"""What a message asks for: help, the sender's orders, one order, or anything else (a report
or a question, which the router tells apart).

A command is the whole message: "工单 WO-… 改为已办结" or a command buried in a report is not
one, so text inside a report can never act on orders.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel

_HELP = re.compile(r"^(?:帮助|help|菜单|使用说明|怎么用|[?？])$", re.IGNORECASE)
_MINE = re.compile(r"^(?:我的工单|我的事件|我上报的|工单列表)$")
_ORDER = re.compile(
    r"^(?:(?:查询|查看|查)?工单|查询|进度)?\s*[:：]?\s*(WO-\d{8}-\d{6,}|\d{1,12})$", re.IGNORECASE
)


_QUESTION_END = re.compile(r"(?:[?？]|(?:吗|嘛|么|呢|不|没|没有)[。.!！]?)\s*$")


def asks_question(text: str) -> bool:
    """Whether the message ends as a question ("…罚多少钱？", "…要得不"): a report can ask one."""
    return bool(_QUESTION_END.search(text.strip()))


class Command(BaseModel):
    kind: Literal["help", "mine", "order", "message"]
    ref: str | None = None


def parse_command(text: str) -> Command:
    t = " ".join(text.split())
    if _HELP.match(t):
        return Command(kind="help")
    if _MINE.match(t):
        return Command(kind="mine")
    m = _ORDER.match(t)
    # A bare number is a report ("12"), not a lookup: only WO-… stands alone.
    if m and (m.group(1).upper().startswith("WO-") or t != m.group(1)):
        return Command(kind="order", ref=m.group(1).upper())
    return Command(kind="message")
