from __future__ import annotations

import re

from llama_index.core import Document

from retrievers.readers import read_file
from retrievers.splitters import (
    LegalTextSplitter,
    is_legal_text,
    split_document,
    split_legal_text,
    split_prose,
    split_sentences,
)
from tests.conftest import POLICY

ARTICLE_LINE = re.compile(r"^(第[零〇一二三四五六七八九十百千]+条)[ 　]", re.MULTILINE)


def _nodes(name: str, max_chars: int = 500):
    doc = read_file(POLICY / name, 10**8)
    return doc, split_document(doc, max_chars)


def test_every_article_of_a_real_regulation_becomes_its_own_node():
    doc, nodes = _nodes("物业管理条例.md")
    expected = ARTICLE_LINE.findall(doc.text)
    got = [n.metadata["article"] for n in nodes if n.metadata.get("article")]
    assert got == expected
    assert len(expected) == 67
    first = next(n for n in nodes if n.metadata.get("article") == "第一条")
    assert first.text.startswith("第一条 为了规范物业管理活动")
    assert first.metadata["chapter"] == "第一章 总则"
    assert first.metadata["title"] == "物业管理条例"


def test_article_keeps_its_numbered_items_and_chapter():
    _, nodes = _nodes("物业管理条例.md")
    art6 = [n for n in nodes if n.metadata.get("article") == "第六条"]
    assert len(art6) == 1
    assert "(五)选举业主委员会成员" in art6[0].text
    assert art6[0].metadata["chapter"] == "第二章 业主及业主大会"


def test_all_bundled_regulations_split_into_the_articles_their_index_counts():
    import csv

    with (POLICY / "index.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    for row in rows:
        _, nodes = _nodes(row["file"])
        articles = {n.metadata["article"] for n in nodes if n.metadata.get("article")}
        assert len(articles) == int(row["articles"]), row["file"]


def test_sections_are_recorded_under_their_chapter():
    hits = [p for p in POLICY.glob("*.md") if "### 第" in p.read_text(encoding="utf-8")]
    assert hits, "the corpus has regulations with 第X节 sections"
    _, nodes = _nodes(hits[0].name)
    with_section = [n for n in nodes if n.metadata.get("section")]
    assert with_section
    assert all(n.metadata["section"].startswith("第") for n in with_section)
    assert all(n.metadata.get("chapter") for n in with_section)


def test_long_article_is_split_on_sentence_punctuation_and_rejoins_verbatim():
    sentences = [f"第{i}句规定了某项义务，应当遵守。" for i in range(60)]
    text = (
        "# 测试条例\n<!-- INFO END -->\n## 第一章 总则\n第一条 "
        + "".join(sentences)
        + "\n第二条 短条。\n第三条 另一条。\n"
    )
    pieces = split_legal_text(text, max_chars=120)
    first = [p for p in pieces if p["article"] == "第一条"]
    assert len(first) > 1
    assert all(len(p["text"]) <= 120 for p in first)
    assert all(p["text"].endswith("。") for p in first)
    assert [p["part"] for p in first] == list(range(len(first)))
    assert "".join(p["text"] for p in first) == "第一条 " + "".join(sentences)


def test_cross_reference_at_line_start_is_not_taken_for_a_new_article():
    text = "第一条 总则内容。\n第三条规定的情形除外。\n第二条　全角空格分隔的条文。\n第四条\n单独一行的条号。"
    pieces = split_legal_text(text, max_chars=500)
    assert [p["article"] for p in pieces] == ["第一条", "第二条", "第四条"]
    assert "第三条规定的情形除外" in pieces[0]["text"]


def test_preamble_before_the_articles_is_kept_as_its_own_chunk():
    doc, nodes = _nodes("物业管理条例.md")
    assert nodes[0].metadata.get("article") is None
    assert "国务院令第379号" in nodes[0].text


def test_prose_is_packed_by_sentence_without_cutting_one():
    text = "网格员每天巡查辖区。发现问题及时上报！需要协调的，报社区处理？" * 20
    chunks = split_prose(text, max_chars=80)
    assert len(chunks) > 1
    assert all(len(c) <= 80 for c in chunks)
    assert all(c[-1] in "。！？" for c in chunks)


def test_table_rows_stay_whole_when_packed():
    rows = "\n".join(f"区县: 区{i}；人口: {i * 1000}" for i in range(50))
    chunks = split_prose(rows, max_chars=100, table=True)
    for c in chunks:
        for line in c.splitlines():
            assert re.fullmatch(r"区县: 区\d+；人口: \d+", line)


def test_sentences_rejoin_to_the_original_text():
    text = "第一条 甲。乙；\n(一)丙\n\n丁！戊?"
    assert "".join(split_sentences(text)) == text


def test_legal_detection_needs_several_articles():
    assert is_legal_text("第一条 a\n第二条 b\n第三条 c")
    assert not is_legal_text("这是一篇普通的工作简报。第一条意见是加强巡查。")


def test_splitter_is_a_llamaindex_node_parser():
    parser = LegalTextSplitter(max_chars=200)
    nodes = parser.get_nodes_from_documents(
        [Document(text="第一条 甲。\n第二条 乙。\n第三条 丙。")]
    )
    assert [n.metadata["article"] for n in nodes] == ["第一条", "第二条", "第三条"]
