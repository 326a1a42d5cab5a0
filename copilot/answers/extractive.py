"""Extractive answers: a one-line conclusion, the 款/项 that answers quoted verbatim, then
related articles as a list."""

from __future__ import annotations

import re
from collections.abc import Sequence

from copilot.answers.candidates import QuestionContext
from copilot.answers.conclusion import conclusion
from copilot.answers.models import Citation
from copilot.answers.rerank import Scored
from retrievers.models import Hit

RELATED_QUOTE_CHARS = 90
_CUT = re.compile(r"[，；。：,;:]")


def where(source: Citation | Hit) -> str:
    """《标题》第X条 (with 第N款第M项 for a citation that quotes a unit)."""
    unit = getattr(source, "unit", None) or ""
    return f"《{source.doc_title}》{source.article or ''}{unit}"


def shorten(text: str, limit: int = RELATED_QUOTE_CHARS) -> str:
    """A verbatim prefix of ``text`` ending at a clause boundary, at most ``limit`` chars."""
    if len(text) <= limit:
        return text
    head = text[:limit]
    cuts = [m.end() for m in _CUT.finditer(head)]
    return head[: cuts[-1] - 1] if cuts and cuts[-1] > limit // 3 else head


def citation_of(scored: Scored, short: bool = False) -> Citation:
    cand = scored.candidate
    quote = shorten(scored.quote.text) if short else scored.quote.text
    return Citation(
        doc_title=cand.doc_title,
        article=cand.article,
        unit=scored.quote.label or None,
        quote=quote,
        chunk_id=cand.hits[0].chunk_id,
    )


def extractive_answer(
    ctx: QuestionContext, ranked: Sequence[Scored], max_related: int = 3
) -> tuple[str, list[Citation]]:
    """Answer text and citations: the first article's unit at length, others as a list."""
    if not ranked:
        return "", []
    first = citation_of(ranked[0])
    related = [citation_of(s, short=True) for s in ranked[1 : 1 + max_related]]
    lines = []
    if line := conclusion(ctx, first.quote):
        lines.append(line)
    lines.append(f"依据{where(first)}：“{first.quote}”")
    if related:
        lines.append("相关条文：")
        lines += [f"- {where(c)}：“{c.quote}”" for c in related]
    return "\n".join(lines), [first, *related]
