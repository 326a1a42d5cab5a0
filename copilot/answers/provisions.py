"""The citable units inside an article: paragraphs (款) and items (项).

Chinese legal citation counts paragraphs and items within one article: an article with a
single paragraph cites its items as 第X条第N项, one with several paragraphs as
第X条第M款第N项. An answer quotes the unit that answers, not the whole article.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from retrievers.splitters import ARTICLE_RE

_CN_DIGITS = "零一二三四五六七八九"
_ITEM = re.compile(r"^[（(]([一二三四五六七八九十]+)[）)]")


def chinese_number(n: int) -> str:
    """1 → 一, 12 → 十二, 21 → 二十一 (enough for paragraph and item counts)."""
    if n < 10:
        return _CN_DIGITS[n]
    tens, ones = divmod(n, 10)
    head = "" if tens == 1 else _CN_DIGITS[tens]
    return f"{head}十{_CN_DIGITS[ones] if ones else ''}"


@dataclass(frozen=True)
class Provision:
    """One 款 or 项 of an article, with the paragraph lead-in an item depends on."""

    paragraph: int
    item: int | None
    text: str
    lead: str | None = None
    label: str = ""

    @property
    def is_item(self) -> bool:
        return self.item is not None


def _strip_article_label(first_line: str) -> str:
    m = ARTICLE_RE.match(first_line)
    return first_line[m.end() :].lstrip(" \u3000") if m else first_line


def split_provisions(article_text: str) -> list[Provision]:
    """The paragraphs and items of one article's text (lines as the splitter joined them).

    Paragraph text excludes the article's own number, so a quote never repeats it.
    """
    lines = [ln.strip() for ln in article_text.split("\n") if ln.strip()]
    if not lines:
        return []
    lines[0] = _strip_article_label(lines[0])
    paragraphs: list[tuple[str, list[str]]] = []
    for line in lines:
        if _ITEM.match(line) and paragraphs:
            paragraphs[-1][1].append(line)
        else:
            paragraphs.append((line, []))
    several = len(paragraphs) > 1
    out: list[Provision] = []
    for p_no, (text, items) in enumerate(paragraphs, start=1):
        para_label = f"第{chinese_number(p_no)}款" if several else ""
        out.append(Provision(paragraph=p_no, item=None, text=text, label=para_label))
        for i_no, item in enumerate(items, start=1):
            out.append(
                Provision(
                    paragraph=p_no,
                    item=i_no,
                    text=item,
                    lead=text,
                    label=f"{para_label}第{chinese_number(i_no)}项",
                )
            )
    return out
