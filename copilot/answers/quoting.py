"""Choosing the 款/项 of an article that answers the question, and quoting it cleanly."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from copilot.answers.candidates import Candidate, QuestionContext, TermStats
from copilot.answers.provisions import Provision
from copilot.answers.slots import focus_coverage, span_has_slot
from retrievers.splitters import split_sentences
from retrievers.tokenizer import char_bigrams

LONG_UNIT_CHARS = 180
SIMILARITY_WEIGHT = 1.0
MAX_QUOTE_CHARS = 260


def coverage(ctx: QuestionContext, text: str, stats: TermStats | None) -> float:
    """IDF-weighted share of the question's words and bigrams found in ``text``."""
    if not text:
        return 0.0
    words = ctx.words
    grams = ctx.bigrams
    weight = (lambda t: stats.idf(t)) if stats else (lambda t: 1.0)
    w_total = sum(weight(w) for w in words) or 1.0
    w_hit = sum(weight(w) for w in words if w in text)
    g_total = sum(weight("b:" + g) for g in grams) or 1.0
    text_grams = set(char_bigrams(text))
    g_hit = sum(weight("b:" + g) for g in grams if g in text_grams)
    return 0.5 * w_hit / w_total + 0.5 * g_hit / g_total


@dataclass(frozen=True)
class Quote:
    """What the answer quotes: the unit, its label and verbatim text (one line)."""

    provision: Provision | None
    label: str
    text: str
    score: float
    has_slot: bool
    slot_focus: float = 0.0


def _one_line(text: str) -> str:
    return "".join(part.strip() for part in text.splitlines())


def unit_text(p: Provision) -> str:
    # An item only makes sense with its paragraph's lead-in ("有下列行为之一的，处…罚款").
    return f"{p.lead}……{p.text}" if p.is_item and p.lead else p.text


def _trim(text: str, ctx: QuestionContext, stats: TermStats | None) -> str:
    """A long paragraph is cut to its best one or two sentences (still verbatim)."""
    if len(text) <= LONG_UNIT_CHARS:
        return text
    sentences = [s for s in split_sentences(text) if s.strip()]
    best, best_score = text[:MAX_QUOTE_CHARS], -1.0
    for i in range(len(sentences)):
        for j in (i + 1, i + 2):
            span = "".join(sentences[i:j])
            if len(span) > MAX_QUOTE_CHARS and j > i + 1:
                continue
            score = coverage(ctx, span, stats) + 0.3 * span_has_slot(span, ctx.slot)
            score /= 1 + len(span) / 400
            if score > best_score:
                best, best_score = span, score
    return best.strip()[:MAX_QUOTE_CHARS]


def best_quote(
    ctx: QuestionContext,
    cand: Candidate,
    stats: TermStats | None,
    similarities: Sequence[float] | None = None,
) -> Quote:
    """The 款 or 项 of ``cand`` that best answers ``ctx`` (the whole text for prose).

    ``similarities`` (one per unit, from an embedder) add meaning to the word overlap.
    """
    units: Sequence[Provision] = cand.provisions
    if not units:
        text = _trim(_one_line(cand.text), ctx, stats)
        has = span_has_slot(text, ctx.slot)
        focus = focus_coverage(text, ctx.slot, ctx.focus)
        return Quote(None, "", text, coverage(ctx, text, stats), has, focus)
    best: Quote | None = None
    for i, p in enumerate(units):
        scored = unit_text(p)
        has_slot = span_has_slot(scored, ctx.slot)
        focus = focus_coverage(scored, ctx.slot, ctx.focus)
        score = coverage(ctx, p.text, stats) + 0.15 * has_slot + 0.3 * focus
        if similarities is not None and i < len(similarities):
            score += SIMILARITY_WEIGHT * similarities[i]
        if p.is_item:
            # The lead-in speaks for every item: judge the item by its own words first.
            score += 0.15 * coverage(ctx, p.lead or "", stats)
        if best is None or score > best.score + 1e-9:
            quote = unit_text(p) if p.is_item else _trim(p.text, ctx, stats)
            best = Quote(p, p.label, quote, score, has_slot, focus)
    assert best is not None
    return best
