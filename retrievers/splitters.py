"""Chinese-aware splitting into retrievable chunks.

``LegalTextSplitter`` keeps one article (第X条) per node with its chapter and section;
``ChineseProseSplitter`` packs sentences (split on Chinese punctuation) for other text.
Both are LlamaIndex node parsers, so they also plug into LlamaIndex pipelines.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from llama_index.core.node_parser import NodeParser
from llama_index.core.schema import BaseNode, Document, TextNode
from pydantic import Field

_NUM = "零〇一二三四五六七八九十百千两0-9"
# Words that follow "第X条" when it is a cross-reference inside a sentence, not a heading.
_REF_FOLLOWERS = "的规所之、至和及或中第款项（(，,"
ARTICLE_RE = re.compile(
    rf"^\s*(第[{_NUM}]+条(?:之[一二三四五六七八九十]+)?)(?=$|[\s　]|[^{_REF_FOLLOWERS}])"
)
CHAPTER_RE = re.compile(rf"^\s*#*\s*(第[{_NUM}]+[编章])(?:[\s　]*(.*))?$")
SECTION_RE = re.compile(rf"^\s*#*\s*(第[{_NUM}]+节)(?:[\s　]*(.*))?$")
INFO_END = "<!-- INFO END -->"
_SENTENCE_END = re.compile(r"(?<=[。！？；!?;\n])")


def is_legal_text(text: str, min_articles: int = 3) -> bool:
    """True when the text is structured in articles (第X条) like a law or regulation."""
    count = 0
    for line in text.splitlines():
        if ARTICLE_RE.match(line):
            count += 1
            if count >= min_articles:
                return True
    return False


def split_sentences(text: str) -> list[str]:
    """Split on Chinese and Western sentence punctuation and newlines, keeping both.

    Joining the result gives back the input, so chunks remain verbatim spans of the text.
    """
    out: list[str] = []
    for s in _SENTENCE_END.split(text):
        if out and not s.strip():
            out[-1] += s
        elif s:
            out.append(s)
    return out


def iter_packed(pieces: Iterable[str], max_chars: int, overlap: int = 0) -> Iterator[str]:
    """Greedily join consecutive pieces into strings of at most ``max_chars``, lazily.

    A single piece longer than ``max_chars`` is cut at ``max_chars``. ``overlap`` repeats
    the last N pieces of a chunk at the start of the next to keep context across cuts.
    """
    current: list[str] = []
    size = 0
    for piece in pieces:
        while len(piece) > max_chars:
            if current:
                yield "".join(current)
                current, size = [], 0
            yield piece[:max_chars]
            piece = piece[max_chars:]
        if size + len(piece) > max_chars and current:
            yield "".join(current)
            current = current[-overlap:] if overlap else []
            size = sum(len(p) for p in current)
            if size + len(piece) > max_chars:
                current, size = [], 0
        current.append(piece)
        size += len(piece)
    if current:
        yield "".join(current)


def pack_pieces(pieces: Sequence[str], max_chars: int, overlap: int = 0) -> list[str]:
    """:func:`iter_packed` as a list."""
    return list(iter_packed(pieces, max_chars, overlap))


def _join_paragraphs(lines: list[str]) -> str:
    return "\n".join(ln.strip() for ln in lines if ln.strip())


def split_legal_text(text: str, max_chars: int) -> list[dict[str, Any]]:
    """Split a law into article pieces: dicts with text, article, chapter, section, part."""
    if INFO_END in text:
        preamble_text, body = text.split(INFO_END, 1)
    else:
        preamble_text, body = "", text
    pieces: list[dict[str, Any]] = []
    preamble = [ln for ln in preamble_text.splitlines() if ln.strip() and not ln.startswith("# ")]
    chapter = section = None
    article: str | None = None
    buf: list[str] = []
    lead: list[str] = []

    def flush() -> None:
        joined = _join_paragraphs(buf)
        if article is None or not joined:
            return
        offset = 0
        for part, piece in enumerate(pack_pieces(split_sentences(joined), max_chars)):
            # A long article's pieces are rejoined to quote 款/项 across them: record
            # whether a piece starts a new line or continues the previous one mid-line.
            starts_line = offset == 0 or joined[offset - 1] == "\n"
            offset += len(piece)
            pieces.append(
                {
                    "text": piece.strip(),
                    "article": article,
                    "chapter": chapter,
                    "section": section,
                    "part": part,
                    "starts_line": starts_line,
                }
            )

    for line in body.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("# "):
            continue
        if m := CHAPTER_RE.match(stripped):
            flush()
            article, buf = None, []
            chapter = " ".join(x for x in (m.group(1), (m.group(2) or "").strip()) if x)
            section = None
            continue
        if m := SECTION_RE.match(stripped):
            flush()
            article, buf = None, []
            section = " ".join(x for x in (m.group(1), (m.group(2) or "").strip()) if x)
            continue
        if m := ARTICLE_RE.match(stripped):
            flush()
            article, buf = m.group(1), [stripped]
            continue
        if article is None:
            lead.append(stripped)
        else:
            buf.append(stripped)
    flush()
    intro = _join_paragraphs(preamble + lead)
    if intro:
        head = [
            {"text": p, "article": None, "chapter": None, "section": None, "part": i}
            for i, p in enumerate(pack_pieces(split_sentences(intro), max_chars))
        ]
        pieces = head + pieces
    return pieces


def split_prose(text: str, max_chars: int, table: bool = False) -> list[str]:
    """Split prose on sentences (or a table on rows, never cutting a row) into chunks."""
    if table:
        return pack_pieces([ln + "\n" for ln in text.splitlines() if ln.strip()], max_chars)
    sentences = split_sentences(_join_paragraphs(text.splitlines()))
    return [c.strip() for c in pack_pieces(sentences, max_chars, overlap=1) if c.strip()]


def _node(doc: BaseNode, text: str, extra: dict[str, Any]) -> TextNode:
    meta = {**doc.metadata, **{k: v for k, v in extra.items() if v is not None}}
    return TextNode(text=text, metadata=meta)


class LegalTextSplitter(NodeParser):
    """One node per article (第X条), long articles split on sentence punctuation."""

    max_chars: int = Field(default=500, gt=50)

    def _parse_nodes(
        self, nodes: Sequence[BaseNode], show_progress: bool = False, **kwargs: Any
    ) -> list[BaseNode]:
        out: list[BaseNode] = []
        for doc in nodes:
            for piece in split_legal_text(doc.get_content(), self.max_chars):
                out.append(_node(doc, piece.pop("text"), piece))
        return out


class ChineseProseSplitter(NodeParser):
    """Sentence-packed chunks for prose; rows kept whole (with their header) for tables."""

    max_chars: int = Field(default=500, gt=50)

    def _parse_nodes(
        self, nodes: Sequence[BaseNode], show_progress: bool = False, **kwargs: Any
    ) -> list[BaseNode]:
        out: list[BaseNode] = []
        for doc in nodes:
            table = doc.metadata.get("format") in {"csv", "xlsx"}
            for i, piece in enumerate(split_prose(doc.get_content(), self.max_chars, table)):
                out.append(_node(doc, piece, {"part": i}))
        return out


def split_document(doc: Document, max_chars: int) -> list[BaseNode]:
    """Choose the legal or the prose splitter by the document's structure."""
    legal = doc.metadata.get("format") not in {"csv", "xlsx"} and is_legal_text(doc.text)
    splitter = LegalTextSplitter if legal else ChineseProseSplitter
    return splitter(max_chars=max_chars, include_prev_next_rel=False).get_nodes_from_documents(
        [doc]
    )


def iter_pieces(
    text: str | None, table_lines: Iterable[str] | None, fmt: str, max_chars: int
) -> Iterator[dict[str, Any]]:
    """The chunks of one file as dicts (text, article, chapter, section, part, ...).

    Same cuts as :func:`split_document`, without LlamaIndex nodes: a document's text is
    split whole, a table's lines are packed as they stream in, so a huge table never
    sits in memory.
    """
    if table_lines is not None:
        lines = (ln + "\n" for ln in table_lines if ln.strip())
        for i, piece in enumerate(iter_packed(lines, max_chars)):
            yield {"text": piece, "part": i}
        return
    text = text or ""
    if fmt not in {"csv", "xlsx"} and is_legal_text(text):
        yield from split_legal_text(text, max_chars)
        return
    for i, piece in enumerate(split_prose(text, max_chars, table=fmt in {"csv", "xlsx"})):
        yield {"text": piece, "part": i}
