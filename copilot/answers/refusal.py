"""Deciding that the corpus cannot answer, and saying why.

Score thresholds alone do not separate answerable from unanswerable questions here (the
unanswerable ones are on-topic by design), so explicit checks come first: another
jurisdiction, a regulation (by its full, short or colloquial name) or article the corpus
does not hold, a topic governed by a law that is not ingested. Then answerability: a
question asking for a figure (an amount, a time limit) is refused when no candidate's
quoted 款/项 holds one, and the refusal says what the corpus does provide. The
dense-similarity floor and the reranker's score floor catch the out-of-scope rest.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from copilot.answers.answerability import AnswerabilityModel, answerability_features
from copilot.answers.candidates import QuestionContext
from copilot.answers.extractive import shorten
from copilot.answers.regulation_names import RegulationNames
from copilot.answers.rerank import Scored, slot_description
from copilot.answers.slots import states_asked_figure
from retrievers.query_rewrite import read_pairs
from retrievers.retriever import Retriever

_ARTICLE = re.compile(r"第([零〇一二三四五六七八九十百千两\d]+)条")
_PREFIXES = ("中华人民共和国", "重庆市", "国务院")
_YEAR = re.compile(r"(20\d\d)年|今年|去年|明年|本年度")
# Slots a law states as a figure: when no candidate's quoted unit holds one, the corpus
# does not say it, however on-topic the articles are.
STRICT_SLOTS = ("amount", "time")
SLOT_DEPTH = 3


def _load_words(path: Path) -> list[str]:
    if not path.is_file():
        return []
    words = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0]
        words += line.split()
    return words


def _core(title: str) -> str:
    for p in _PREFIXES:
        if title.startswith(p):
            title = title[len(p) :]
    return title.replace("（", "(").replace("）", ")")


class RefusalPolicy:
    """Decides that the corpus cannot answer a question, and says what was found instead."""

    def __init__(
        self, lexicon_dir: Path, min_dense: float, gate: AnswerabilityModel | None = None
    ) -> None:
        self.places = sorted(_load_words(lexicon_dir / "other_places.txt"), key=len, reverse=True)
        topics = lexicon_dir / "uncovered_topics.tsv"
        self.topics = read_pairs(topics) if topics.is_file() else {}
        self.off_topic = _load_words(lexicon_dir / "out_of_scope.txt")
        self.min_dense = min_dense
        self.gate = gate

    def reason(
        self,
        ctx: QuestionContext,
        ranked: Sequence[Scored],
        kb: Retriever,
        names: RegulationNames,
    ) -> str | None:
        """Why the question cannot be answered from the corpus, or ``None`` if it can."""
        question = ctx.question
        top = [s.candidate for s in ranked[:3]]
        evidence = "".join(c.doc_title + c.text for c in top)
        for place in self.places:
            if place in question and place not in evidence:
                return f"问题涉及{place}的规定，知识库只收录重庆市地方性法规和部分国家法律法规"

        named = names.find(question)
        if named is not None and not named.found:
            return f"知识库中没有《{named.name}》"
        if named is not None and (m := _ARTICLE.search(question)):
            label = f"第{m.group(1)}条"
            docs = [d for d in kb.documents() if d.title in named.titles]
            if not any(kb.has_article(d.doc_id, label) for d in docs):
                return f"《{named.titles[0]}》没有{label}"

        titles = {_core(d.title) for d in kb.documents()}
        # A question that names a regulation the corpus holds is about that regulation,
        # whatever other law its words also touch (环保法 and 诉讼时效).
        uncovered = {} if named is not None else self.topics
        for word, law in uncovered.items():
            if word in question and word not in evidence and _core(law) not in titles:
                return f"该问题属于《{law}》调整的事项，知识库未收录该法"

        for phrase in self.off_topic:
            if phrase in question and phrase not in evidence:
                return "问题不属于政策法规和城市数据的范围"

        dense = max((c.signals.get("dense", 0.0) for c in top), default=0.0)
        if not ranked or dense < self.min_dense:
            return "检索到的条文与问题相关度过低"

        first = ranked[0]
        if (m := _YEAR.search(question)) and ctx.slot in STRICT_SLOTS:
            year = m.group(1) or m.group(0)
            if year not in evidence:
                return self._found_instead(first, f"{year}的具体标准或数额")
        if ctx.slot in STRICT_SLOTS and not any(
            states_asked_figure(s.quote.text, question, ctx.slot) for s in ranked[:SLOT_DEPTH]
        ):
            return self._found_instead(first, slot_description(ctx.slot))
        if self.gate is not None and not self.gate.answerable(answerability_features(ctx, ranked)):
            missing = slot_description(ctx.slot) if ctx.slot != "general" else "所问的具体事项"
            return self._found_instead(first, missing)
        return None

    @staticmethod
    def _found_instead(first: Scored, missing: str) -> str:
        """'《X》第N条规定了…，但没有规定…': what was found, and what the question asked."""
        gist = shorten(first.quote.text, 40)
        where = f"《{first.candidate.doc_title}》{first.candidate.article or ''}"
        return f"{where}规定了“{gist}”，但没有规定{missing}"
