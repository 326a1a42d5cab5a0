"""The disposition draft (Chinese) for a routed event, filled deterministically.

Sections follow what an approving official reads: 事件概述, 事件定性, 处置依据 (cited
articles with verbatim quotes), 处置措施 (numbered steps for the owning tier), 责任单位,
协同单位, 办理时限 and the routing reasons. Steps come from ``prompts/disposition_steps.md``.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, Field

from copilot.events.router import RouteDecision
from prompts.loader import PROMPTS_DIR

STEPS_FILE = PROMPTS_DIR / "disposition_steps.md"
SUMMARY_CHARS = 120


class BasisQuote(BaseModel):
    doc_title: str
    article: str | None
    quote: str


class Draft(BaseModel):
    """The draft as shown to the approver and stored with the work order."""

    事件概述: str
    事件定性: str
    处置依据: list[BasisQuote] = Field(default_factory=list)
    处置措施: list[str]
    责任单位: str
    协同单位: list[str] = Field(default_factory=list)
    办理时限: str
    路由理由: list[str] = Field(default_factory=list)


@lru_cache(maxsize=1)
def tier_steps(path: Path = STEPS_FILE) -> dict[str, list[str]]:
    """``{tier: [step template, ...]}`` from the Markdown steps file."""
    steps: dict[str, list[str]] = {}
    tier = None
    for line in path.read_text(encoding="utf-8").splitlines():
        if m := re.match(r"^##\s+(\S+)", line):
            tier = m.group(1)
            steps[tier] = []
        elif tier and line.startswith("- "):
            steps[tier].append(line[2:].strip())
    return steps


def _summary(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= SUMMARY_CHARS else flat[:SUMMARY_CHARS] + "…"


def draft_disposition(
    decision: RouteDecision, text: str, basis: list[BasisQuote], deadline_hours: float | None
) -> Draft:
    """A complete draft from the route and the cited articles; no model involved."""
    owner = decision.owner_unit or decision.department or "属地镇街"
    department = decision.department or "相关职能部门"
    cooperating = "、".join(decision.cooperating_units) or "相关单位"
    templates = tier_steps().get(decision.tier or "镇街", tier_steps()["镇街"])
    steps = [
        f"{i}. " + t.format(owner=owner, department=department, cooperating=cooperating)
        for i, t in enumerate(templates, start=1)
    ]
    nature = "，".join(
        x
        for x in (
            f"板块：{decision.board}" if decision.board else "",
            f"类型：{decision.event_name or decision.event_type}" if decision.event_type else "",
            f"紧急程度：{decision.urgency}" if decision.urgency else "",
            f"诉求类型：{decision.message_type}",
            f"处置层级：{decision.tier}" if decision.tier else "",
        )
        if x
    )
    limit = (
        f"{decision.urgency or '一般'}事件，{deadline_hours:g}小时内办结"
        if deadline_hours
        else "按规定时限办结"
    )
    return Draft(
        事件概述=_summary(text),
        事件定性=nature,
        处置依据=basis,
        处置措施=steps,
        责任单位=owner,
        协同单位=list(decision.cooperating_units),
        办理时限=limit,
        路由理由=list(decision.reasons),
    )
