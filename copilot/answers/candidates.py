"""Candidate articles for the second stage: the fused top chunks grouped by article.

A long article may come back as several pieces; the reranker judges the article as a
whole (its best signals, its full text), and the answer quotes the 款/项 inside it.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from copilot.answers.provisions import Provision, split_provisions
from copilot.answers.regulation_names import RegulationNames
from copilot.answers.slots import Slot, focus_terms, question_slot
from retrievers.models import Hit
from retrievers.retriever import Retriever
from retrievers.tokenizer import char_bigrams

RERANK_POOL = 20

# The autonomous counties' own regulations only apply there: a question that does not
# name the place should rarely be answered from them.
LOCAL_PLACES = ("酉阳", "彭水", "石柱", "秀山", "西沱", "梅江河")
_ARTICLE_NO = re.compile(r"第([零〇一二三四五六七八九十百千两\d]+)条")
_CN = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6}
_CN.update({"七": 7, "八": 8, "九": 9})


def article_number(label: str | None) -> int:
    """第六十二条 → 62 (0 when there is none)."""
    if not label or not (m := _ARTICLE_NO.search(label)):
        return 0
    s = m.group(1)
    if s.isdigit():
        return int(s)
    total, current = 0, 0
    for ch in s:
        if ch in _CN:
            current = _CN[ch]
        elif ch == "十":
            total += (current or 1) * 10
            current = 0
        elif ch == "百":
            total += (current or 1) * 100
            current = 0
        elif ch == "千":
            total += (current or 1) * 1000
            current = 0
    return total + current


@dataclass
class Candidate:
    """One article among the fused top chunks, with its best first-stage signals."""

    doc_id: str
    doc_title: str
    article: str | None
    chapter: str | None
    text: str
    hits: list[Hit]
    fused: float
    rank: int
    signals: dict[str, float]
    provisions: list[Provision] = field(default_factory=list)
    score: float = 0.0

    @property
    def key(self) -> tuple[str, str | None]:
        return (self.doc_title, self.article)


@dataclass
class TermStats:
    """Document frequencies of index tokens, for IDF-weighted overlap features."""

    df: Counter
    n_docs: int

    def idf(self, token: str) -> float:
        return math.log(1 + self.n_docs / (1 + self.df.get(token, 0)))

    @classmethod
    def from_kb(cls, kb: Retriever) -> TermStats:
        df: Counter = Counter()
        n = 0
        for tokens in kb.index_token_rows():
            df.update(set(tokens))
            n += 1
        return cls(df=df, n_docs=n)


@dataclass
class QuestionContext:
    """What the second stage needs to know about the question."""

    question: str
    rewritten: str
    words: list[str]
    bigrams: list[str]
    slot: Slot
    named_titles: tuple[str, ...]
    names_regulation: bool
    places: tuple[str, ...]
    focus: tuple[str, ...] = ()

    @classmethod
    def build(cls, question: str, kb: Retriever, names: RegulationNames) -> QuestionContext:
        rewritten = kb.rewrite(question)
        tokens = kb.tokenize(rewritten)
        named = names.find(question)

        def words(text: str) -> list[str]:
            toks = kb.tokenize(kb.rewrite(text))
            return [
                t for t in toks if not t.startswith("b:") and t not in (named.name if named else "")
            ]

        return cls(
            question=question,
            rewritten=rewritten,
            words=sorted({t for t in tokens if not t.startswith("b:")}),
            bigrams=sorted(set(char_bigrams(rewritten))),
            slot=question_slot(question),
            named_titles=named.titles if named else (),
            names_regulation=named is not None,
            places=tuple(p for p in LOCAL_PLACES if p in question),
            focus=tuple(focus_terms(question, words)),
        )


def gather_candidates(kb: Retriever, hits: Sequence[Hit]) -> list[Candidate]:
    """Group the fused hits by article, best rank first; each with its full article text."""
    grouped: dict[tuple[str, str | None], Candidate] = {}
    for h in hits:
        # Prose chunks have no article: each chunk stands alone.
        key = (h.doc_id, h.article or h.chunk_id)
        c = grouped.get(key)
        if c is None:
            text = kb.article_text(h.doc_id, h.article) if h.article else h.text
            grouped[key] = Candidate(
                doc_id=h.doc_id,
                doc_title=h.doc_title,
                article=h.article,
                chapter=h.chapter,
                text=text or h.text,
                hits=[h],
                fused=h.score,
                rank=len(grouped) + 1,
                signals=dict(h.signals),
                provisions=split_provisions(text or h.text) if h.article else [],
            )
        else:
            c.hits.append(h)
            for name, value in h.signals.items():
                c.signals[name] = max(c.signals.get(name, value), value)
    return list(grouped.values())
