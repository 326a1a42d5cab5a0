"""Extractive answers: the best evidence quoted verbatim, with its article."""

from __future__ import annotations

import re
from collections.abc import Sequence

from copilot.answers.models import Citation
from retrievers.models import Hit
from retrievers.splitters import split_sentences

# An article this short is quoted whole: officials want the full rule, not a fragment.
WHOLE_ARTICLE_CHARS = 220
MAX_QUOTE_CHARS = 260


_AMOUNT = re.compile(
    r"[\d零一二三四五六七八九十百千万两]+\s*(?:元|日|天|年|个月|月|小时|倍|%|％|人|次|米|户|分)"
)
NUMERIC_QUESTION = re.compile(r"多少|几|多长|多久|多大|多高|好多|罚多|期限|时限")


def _score(sentence: str, terms: set[str], numeric: bool) -> float:
    score = sum(len(t) for t in terms if t in sentence)
    if numeric and _AMOUNT.search(sentence):
        # "罚多少" is answered by the sentence with the amount, not the one that
        # repeats the question's nouns.
        score += 6
    return score / (1 + len(sentence) / 200)


def best_span(
    text: str, terms: set[str], numeric: bool = False, whole_chars: int = WHOLE_ARTICLE_CHARS
) -> str:
    """The verbatim span of ``text`` that best covers the question terms."""
    text = text.strip()
    if len(text) <= whole_chars:
        return text
    sentences = [s for s in split_sentences(text) if s.strip()]
    best, best_score = sentences[0], -1.0
    for i in range(len(sentences)):
        # Windows of one or two sentences: a rule and its penalty often sit side by side.
        for j in (i + 1, i + 2):
            span = "".join(sentences[i:j])
            if len(span) > MAX_QUOTE_CHARS and j > i + 1:
                continue
            score = _score(span, terms, numeric)
            if score > best_score:
                best, best_score = span, score
    return best.strip()[:MAX_QUOTE_CHARS].strip()


def cite(hit: Hit, quote: str) -> Citation:
    return Citation(
        doc_title=hit.doc_title, article=hit.article, quote=quote, chunk_id=hit.chunk_id
    )


def where(source: Citation | Hit) -> str:
    """《标题》第X条 for a citation or a search hit."""
    return f"《{source.doc_title}》{source.article or ''}"


def extractive_answer(
    terms: set[str], hits: Sequence[Hit], numeric: bool = False, max_citations: int = 3
) -> tuple[str, list[Citation]]:
    """Answer text and citations from the top hits (distinct articles).

    The first article is quoted at length; the others, shown as related provisions, by
    their best sentence only, since without a model the engine cannot tell which of
    close candidates the question meant.
    """
    citations: list[Citation] = []
    seen: set[tuple[str, str | None]] = set()
    for hit in hits:
        key = (hit.doc_title, hit.article)
        if key in seen:
            continue
        seen.add(key)
        whole = WHOLE_ARTICLE_CHARS if not citations else 80
        citations.append(cite(hit, best_span(hit.text, terms, numeric, whole)))
        if len(citations) == max_citations:
            break
    if not citations:
        return "", []
    lines = [f"根据{where(citations[0])}：“{citations[0].quote}”"]
    if len(citations) > 1:
        lines.append("相关条文：" + "；".join(f"{where(c)}“{c.quote}”" for c in citations[1:]))
    return "\n".join(lines), citations
