"""The one-line conclusion an answer starts with (可以 / 不可以 / 会被罚款，金额…).

Built from the quoted 款/项 only: the clause that holds the asked slot, in the law's own
words, after a plain lead word. When no clause supplies the slot the conclusion says what
the provision does say, so the line never claims more than the quote.
"""

from __future__ import annotations

import re

from copilot.answers.candidates import QuestionContext
from copilot.answers.slots import AMOUNT_SPAN, FINE_SPAN, PROCEDURE_SPAN, TIME_SPAN, WHO_SPAN

_CLAUSE_SPLIT = re.compile(r"(?<=[，,；;。：:！？])")
_FORBID = re.compile(r"禁止|不得|严禁|不准")
_ALLOW = re.compile(r"可以|有权|允许|准许")
_MUST = re.compile(r"应当|必须|须")
MAX_CLAUSE = 70


def _clauses(text: str) -> list[str]:
    return [
        c.strip("，,；;。：: ") for c in _CLAUSE_SPLIT.split(text.replace("……", "，")) if c.strip()
    ]


def _best_clause(ctx: QuestionContext, text: str, pattern: re.Pattern | None) -> str | None:
    """The clause matching ``pattern`` that shares most with the question."""
    best, best_score = None, -1.0
    for clause in _clauses(text):
        if pattern is not None and not pattern.search(clause):
            continue
        score = sum(len(w) for w in ctx.words if w in clause) - len(clause) / 200
        if score > best_score:
            best, best_score = clause, score
    if best and len(best) > MAX_CLAUSE:
        best = best[:MAX_CLAUSE] + "…"
    return best


def _fine_clause(ctx: QuestionContext, text: str) -> str | None:
    """The fine(s) of a penalty provision: both when it fines units and individuals apart."""
    with_amount = [c for c in _clauses(text) if FINE_SPAN.search(c) and AMOUNT_SPAN.search(c)]
    if 1 < len(with_amount) <= 2 and sum(len(c) for c in with_amount) <= MAX_CLAUSE * 2:
        return "，".join(with_amount)
    if with_amount:
        return _best_clause(ctx, "，".join(with_amount), None)
    return _best_clause(ctx, text, FINE_SPAN)


def conclusion(ctx: QuestionContext, quote: str) -> str:
    """One line answering the question from ``quote``, led by a plain verdict."""
    slot = ctx.slot
    if slot in ("penalty", "amount") and (fine := _fine_clause(ctx, quote)):
        if slot == "amount" and AMOUNT_SPAN.search(fine):
            return f"金额：{fine}。"
        return f"会被处罚：{fine}。"
    if slot == "amount" and (c := _best_clause(ctx, quote, AMOUNT_SPAN)):
        return f"规定的数额：{c}。"
    if slot == "time" and (c := _best_clause(ctx, quote, TIME_SPAN)):
        return f"期限：{c}。"
    if slot == "who" and (c := _best_clause(ctx, quote, WHO_SPAN)):
        return f"责任主体：{c}。"
    if slot == "permission":
        if c := _best_clause(ctx, quote, _FORBID):
            fine = _fine_clause(ctx, quote)
            return f"不可以：{c}。" + (f"违者{fine}。" if fine and fine != c else "")
        if c := _best_clause(ctx, quote, FINE_SPAN):
            return f"不可以，违者会被处罚：{c}。"
        if c := _best_clause(ctx, quote, _ALLOW):
            return f"可以：{c}。"
        if c := _best_clause(ctx, quote, _MUST):
            return f"有要求：{c}。"
    if slot == "procedure" and (c := _best_clause(ctx, quote, PROCEDURE_SPAN)):
        return f"办理要点：{c}。"
    c = _best_clause(ctx, quote, None)
    return f"规定要点：{c}。" if c else ""
