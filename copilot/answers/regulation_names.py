"""Regulation names in questions: find them, and resolve short or colloquial names to titles.

People say 控烟条例 for 重庆市公共场所控制吸烟条例, 物业条例 for 物业管理条例, 燃气条例 for
重庆市天然气管理条例. The alias table is built from the ingested titles (prefixes, 管理,
kind words dropped; abbreviations by characters in order), plus a few colloquial synonyms
from the lexicon. A name is only reported missing when nothing in the corpus resolves it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from retrievers.query_rewrite import read_pairs

_IN_BOOK = re.compile(r"《([^》]{2,40})》")
_KINDS = (
    "法典",
    "实施细则",
    "实施办法",
    "暂行办法",
    "暂行规定",
    "条例",
    "办法",
    "规定",
    "规则",
    "细则",
    "法",
)
_PREFIXES = ("中华人民共和国", "重庆市", "重庆", "国务院", "全国", "国家", "我市", "本市", "市")
# Without book marks only name-shaped spans count: subject characters then a kind word.
# Question and function words never occur inside a title, so a span holding one is a
# sentence, not a name ("重庆市养犬有哪些规定").
_BARE = re.compile(
    r"((?:中华人民共和国|重庆市)?[\u4e00-\u9fff（）()]{2,24}?"
    r"(?:实施细则|实施办法|条例|办法|管理规定|法典|法(?!规(?!定)|[律典人院官庭治定])))"
)
_NOT_IN_TITLE = re.compile(
    r"[有哪啥吗么呢吧嘛什怎咋谁几是否能该要得被把给对跟和与了的地里中这那些按依照据说讲问请"
    r"就别也还再啦没]"
)
_LEAD_VERB = re.compile(
    r"违反|根据|按照|依照|依据|适用|参照|关于|执行|落实|学习|实施(?=《)|^个|^该|^本(?!市)"
    r"|如果|假如|要是|若是|倘若|万一|即使|即便|哪怕"
)
# A subject made only of determiners ("相关条例", "现行条例", "如果条例里没有…") refers to
# whichever regulation applies: it names none, so its absence is never reported.
_GENERIC_SUBJECT = re.compile(
    r"^(?:如|若|相关|有关|现行|现有|上述|以上|前述|此类|各类|各项|各|新|旧|原|地方|国家|其他|其它"
    r"|别的|具体|对应|适用的?)+$"
)
_BARE_LAW_NEEDS_PREFIX = "中华人民共和国"


def _names_itself(name: str, kind: str) -> bool:
    """Whether an unresolved bare name is surely a title (so its absence can be reported)."""
    if name.startswith(_BARE_LAW_NEEDS_PREFIX):
        return True
    return kind in ("条例", "法典") and not name.startswith(("个", "该", "本"))


def _lcs(a: str, b: str) -> int:
    """Length of the longest common subsequence (names are short: a plain DP is enough)."""
    prev = [0] * (len(b) + 1)
    for ch in a:
        cur = [0]
        for j, other in enumerate(b, start=1):
            cur.append(prev[j - 1] + 1 if ch == other else max(prev[j], cur[-1]))
        prev = cur
    return prev[-1]


def _name_tail(span: str) -> str:
    """The part of a matched span after the last word that cannot belong to a title."""
    head = ""
    if (i := span.rfind(_BARE_LAW_NEEDS_PREFIX)) >= 0:
        head, span = _BARE_LAW_NEEDS_PREFIX, span[i + len(_BARE_LAW_NEEDS_PREFIX) :]
    tail = _LEAD_VERB.split(_NOT_IN_TITLE.split(span)[-1])[-1]
    return head + tail if tail == span else tail


def _strip_prefix(name: str) -> str:
    changed = True
    while changed:
        changed = False
        for p in _PREFIXES:
            if name.startswith(p) and len(name) > len(p) + 1:
                name, changed = name[len(p) :], True
    return name


def split_kind(name: str) -> tuple[str, str]:
    """(subject, kind): 公共场所控制吸烟条例 → (公共场所控制吸烟, 条例)."""
    name = re.sub(r"[（(](?:试行|修订|草案)[）)]", "", name)
    for kind in _KINDS:
        if name.endswith(kind) and len(name) > len(kind):
            return name[: -len(kind)], kind
    return name, ""


def _subject(name: str) -> str:
    subject, _ = split_kind(_strip_prefix(name))
    return subject


def _in_order(short: str, long: str) -> bool:
    """Every character of ``short`` occurs in ``long`` in the same order (控烟 in 控制吸烟)."""
    pos = 0
    for ch in short:
        pos = long.find(ch, pos)
        if pos < 0:
            return False
        pos += 1
    return True


@dataclass(frozen=True)
class NamedRegulation:
    """A regulation name found in a question and the corpus titles it resolves to."""

    name: str
    titles: tuple[str, ...]

    @property
    def found(self) -> bool:
        return bool(self.titles)


class RegulationNames:
    """Resolves names to corpus titles; built from the titles the knowledge base holds."""

    def __init__(self, titles: Iterable[str], synonyms: dict[str, str] | None = None) -> None:
        self.titles = sorted(set(titles))
        self._subjects = {t: _subject(t) for t in self.titles}
        self._plain = {t: s.replace("管理", "") for t, s in self._subjects.items()}
        self.synonyms = synonyms or {}

    @classmethod
    def from_lexicon(cls, titles: Iterable[str], path: Path) -> RegulationNames:
        """Titles plus colloquial subject synonyms (``燃气\t天然气`` per line) from a TSV."""
        return cls(titles, read_pairs(path) if path.is_file() else {})

    def resolve(self, name: str) -> tuple[str, ...]:
        """Titles a (possibly short or colloquial) name refers to, best first; () if none."""
        name = name.strip().strip("《》")
        if name in self.titles:
            return (name,)
        subject, kind = split_kind(_strip_prefix(name))
        for colloquial, formal in self.synonyms.items():
            if formal not in subject:  # 烟花爆竹 already says what 烟花 stands for
                subject = subject.replace(colloquial, formal)
        plain = subject.replace("管理", "")
        if len(plain) < 2:
            return ()
        scored: list[tuple[int, int, str]] = []
        for t, t_subject in self._subjects.items():
            _, t_kind = split_kind(t)
            kind_bonus = int(kind == t_kind or not kind)
            if subject == t_subject or plain == self._plain[t]:
                score = 4
            elif plain in self._plain[t] or self._plain[t] in plain:
                score = 3
            elif len(plain) >= 2 and _in_order(plain, self._plain[t]):
                score = 2
            elif len(plain) >= 4 and _lcs(plain, self._plain[t]) >= 0.75 * len(plain):
                score = 1  # 西沱古镇保护条例 for …西沱国家历史文化名镇保护条例
            else:
                continue
            scored.append((score * 2 + kind_bonus, -len(t), t))
        if not scored:
            return ()
        scored.sort(reverse=True)
        best = scored[0][0]
        return tuple(t for s, _, t in scored if s == best)

    def find(self, question: str) -> NamedRegulation | None:
        """The regulation a question names (in 《》 or as a bare name), resolved; else None."""
        for name in _IN_BOOK.findall(question):
            return NamedRegulation(name=name, titles=self.resolve(name))
        for name in map(_name_tail, _BARE.findall(question)):
            subject, kind = split_kind(_strip_prefix(name))
            short = len(subject) < (1 if kind == "法典" else 2)
            if not kind or short or _NOT_IN_TITLE.search(subject):
                continue
            if _GENERIC_SUBJECT.match(subject):
                continue
            titles = self.resolve(name)
            if not titles and not _names_itself(name, kind):
                continue  # 没办法, 做法, 执法 are words: a bare name counts only if it resolves
            return NamedRegulation(name=name, titles=titles)
        return None
