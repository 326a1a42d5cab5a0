"""Deciding that the corpus cannot answer, and saying why.

Score thresholds alone do not separate answerable from unanswerable questions here (the
unanswerable ones are on-topic by design), so explicit checks come first: another
jurisdiction, a regulation or article the catalogue does not hold, a topic governed by a
law that is not ingested. The dense-similarity floor catches the out-of-scope rest.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from retrievers.knowledge_base import KnowledgeBase
from retrievers.models import Hit

_TITLE_IN_BOOK = re.compile(r"《([^》]{2,40})》")
# Without book marks only unambiguous names count: a 重庆市/中华人民共和国 prefix, or a
# name ending in 条例. A bare "…法" would catch 做法, 违法, 算法.
_TITLE_BARE = re.compile(
    r"((?:重庆市|中华人民共和国)[\u4e00-\u9fff（）()]{2,30}?(?:条例|办法|规定|法))(?![规律])"
    r"|([\u4e00-\u9fff]{2,20}?条例)"
)
_ARTICLE = re.compile(r"第([零〇一二三四五六七八九十百千两\d]+)条")
_PREFIXES = ("中华人民共和国", "重庆市", "国务院")


def _load_words(path: Path) -> list[str]:
    if not path.is_file():
        return []
    words = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0]
        words += line.split()
    return words


def _load_topics(path: Path) -> dict[str, str]:
    if not path.is_file():
        return {}
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].rstrip()
        if "\t" in line:
            k, v = line.split("\t", 1)
            out[k.strip()] = v.strip()
    return out


def _core(title: str) -> str:
    for p in _PREFIXES:
        if title.startswith(p):
            title = title[len(p) :]
    return title.replace("（", "(").replace("）", ")")


class RefusalPolicy:
    def __init__(self, lexicon_dir: Path, min_dense: float) -> None:
        self.places = sorted(_load_words(lexicon_dir / "other_places.txt"), key=len, reverse=True)
        self.topics = _load_topics(lexicon_dir / "uncovered_topics.tsv")
        self.off_topic = _load_words(lexicon_dir / "out_of_scope.txt")
        self.min_dense = min_dense

    def _titles(self, kb: KnowledgeBase) -> dict[str, str]:
        return {_core(d.title): d.title for d in kb.documents()}

    def _named_document(
        self, question: str, titles: dict[str, str]
    ) -> tuple[str | None, str | None]:
        """(named title, matching catalogue title or None) for the regulation a question names."""
        named = _TITLE_IN_BOOK.findall(question)
        if not named:
            named = [a or b for a, b in _TITLE_BARE.findall(question) if len(_core(a or b)) >= 4]
        for name in named:
            core = _core(name)
            for known_core, title in titles.items():
                if core == known_core or (
                    len(core) >= 4 and (core in known_core or known_core in core)
                ):
                    return name, title
            return name, None
        return None, None

    def reason(self, question: str, hits: Sequence[Hit], kb: KnowledgeBase) -> str | None:
        """Why the question cannot be answered from the corpus, or ``None`` if it can."""
        evidence = "".join(h.doc_title + h.text for h in hits[:3])
        for place in self.places:
            if place in question and place not in evidence:
                return f"问题涉及{place}的规定，知识库只收录重庆市地方性法规和部分国家法律法规"

        titles = self._titles(kb)
        named, title = self._named_document(question, titles)
        if named and title is None:
            return f"知识库中没有《{named.removeprefix('按照').removeprefix('依据')}》"
        if title is not None and (m := _ARTICLE.search(question)):
            label = f"第{m.group(1)}条"
            doc = next(d for d in kb.documents() if d.title == title)
            articles = {c.article for c in kb.catalog.chunks_of(doc.doc_id)}
            if label not in articles:
                return f"《{title}》没有{label}"

        for word, law in self.topics.items():
            if word in question and word not in evidence and _core(law) not in titles:
                return f"该问题属于《{law}》调整的事项，知识库未收录该法"

        for phrase in self.off_topic:
            if phrase in question and phrase not in evidence:
                return "问题不属于政策法规和城市数据的范围"

        dense = max((h.signals.get("dense", 0.0) for h in hits), default=0.0)
        if not hits or dense < self.min_dense:
            return "检索到的条文与问题相关度过低"
        return None
