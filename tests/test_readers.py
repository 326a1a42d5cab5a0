from __future__ import annotations

import os
from pathlib import Path

import pytest

from retrievers.readers import BadFileError, read_file
from tests.file_factory import ARTICLES, write_docx, write_html, write_pdf, write_xlsx

MB = 1024 * 1024


def test_utf8_markdown_takes_its_title_from_the_heading(tmp_path: Path):
    p = tmp_path / "a.md"
    p.write_text("# 网格管理办法\n\n" + "\n".join(ARTICLES), encoding="utf-8")
    doc = read_file(p, MB)
    assert doc.metadata["title"] == "网格管理办法"
    assert ARTICLES[1] in doc.text


@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "gb2312"])
def test_gbk_family_text_is_decoded(tmp_path: Path, encoding: str):
    p = tmp_path / "gbk.txt"
    p.write_bytes("\n".join(ARTICLES).encode(encoding))
    doc = read_file(p, MB)
    assert doc.text == "\n".join(ARTICLES)
    assert doc.metadata["encoding"] == "gb18030"


def test_utf8_with_bom_is_decoded_without_the_bom(tmp_path: Path):
    p = tmp_path / "bom.txt"
    p.write_bytes(b"\xef\xbb\xbf" + ARTICLES[0].encode("utf-8"))
    assert read_file(p, MB).text == ARTICLES[0]


def test_docx_paragraphs_and_table_rows_with_header(tmp_path: Path):
    p = write_docx(
        tmp_path / "通知.docx",
        ARTICLES,
        table=[["区县", "网格数"], ["渝中区", "120"], ["江北区", "260"]],
    )
    doc = read_file(p, MB)
    assert ARTICLES[2] in doc.text
    assert "区县: 渝中区；网格数: 120" in doc.text


def test_pdf_text_is_extracted(tmp_path: Path):
    p = write_pdf(tmp_path / "办法.pdf", ARTICLES)
    doc = read_file(p, MB)
    assert "网格员发现占道经营" in doc.text


def test_html_drops_scripts_and_styles(tmp_path: Path):
    p = write_html(tmp_path / "page.html", "通知公告", ARTICLES)
    doc = read_file(p, MB)
    assert doc.metadata["title"] == "通知公告"
    assert ARTICLES[0] in doc.text
    assert "不应出现的脚本" not in doc.text
    assert "color" not in doc.text


def test_csv_rows_keep_their_header(tmp_path: Path):
    p = tmp_path / "表.csv"
    p.write_text("区县,常住人口\n渝中区,588717\n江北区,925800\n", encoding="utf-8")
    doc = read_file(p, MB)
    assert doc.text.splitlines() == [
        "区县: 渝中区；常住人口: 588717",
        "区县: 江北区；常住人口: 925800",
    ]


def test_gbk_csv_is_decoded(tmp_path: Path):
    p = tmp_path / "gbk.csv"
    p.write_bytes("区县,常住人口\n渝中区,588717\n".encode("gbk"))
    assert read_file(p, MB).text == "区县: 渝中区；常住人口: 588717"


def test_xlsx_rows_keep_their_header(tmp_path: Path):
    p = write_xlsx(
        tmp_path / "指标.xlsx", [["区县", "老龄化率"], ["渝中区", 14.03], ["大渡口区", None]]
    )
    doc = read_file(p, MB)
    assert "区县: 渝中区；老龄化率: 14.03" in doc.text
    assert "区县: 大渡口区" in doc.text


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("empty.txt", b"", "empty file"),
        ("blank.md", b"   \n\n  ", "no extractable text"),
        ("binary.txt", bytes(range(256)) * 10, "not text"),
        ("fake.docx", "第一条 这不是docx".encode(), "not a valid docx"),
        ("fake.xlsx", b"PK\x03\x04broken", "not a valid xlsx"),
        ("fake.pdf", "第一条 这不是pdf".encode(), "not a valid pdf"),
        ("truncated.pdf", b"%PDF-1.4\n1 0 obj garbage", "cannot parse pdf"),
        ("image.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "unsupported format"),
    ],
)
def test_bad_files_raise_with_a_reason(tmp_path: Path, name: str, content: bytes, reason: str):
    p = tmp_path / name
    p.write_bytes(content)
    with pytest.raises(BadFileError) as info:
        read_file(p, MB)
    assert reason in info.value.reason
    assert info.value.path == str(p)


def test_file_over_the_size_limit_is_refused_before_reading(tmp_path: Path):
    p = tmp_path / "big.txt"
    p.write_text("第一条 内容。" * 1000, encoding="utf-8")
    with pytest.raises(BadFileError, match="too large"):
        read_file(p, max_bytes=1000)


def test_dangling_link_is_reported_unreadable(tmp_path: Path):
    p = tmp_path / "gone.txt"
    os.symlink(tmp_path / "missing.txt", p)
    with pytest.raises(BadFileError, match="unreadable"):
        read_file(p, MB)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-32", "utf-32-be"])
def test_text_with_a_utf16_or_utf32_byte_order_mark_is_read(tmp_path, encoding):
    p = tmp_path / f"{encoding}.txt"
    bom = {"utf-16-be": "\ufeff", "utf-32-be": "\ufeff"}.get(encoding, "")
    p.write_bytes((bom + "\n".join(ARTICLES)).encode(encoding))
    doc = read_file(p, MB)
    assert doc.text.startswith(ARTICLES[0]) and "\ufeff" not in doc.text


def test_control_characters_are_removed_everywhere_not_only_near_the_start(tmp_path):
    p = tmp_path / "nul.txt"
    body = "\n".join(ARTICLES) + "\n"
    p.write_bytes((body * 40).encode() + b"tail\x00with\x01nul\x0bbytes\x7f end")
    assert len(body.encode()) * 40 > 8192  # the binary check reads only the first 8 KiB
    text = read_file(p, MB).text
    assert "tailwithnulbytes end" in text
    assert not any(ch in text for ch in "\x00\x01\x0b\x7f")


def test_a_docx_that_unpacks_past_the_limit_is_refused_before_parsing(tmp_path: Path):
    from retrievers.readers import ReadLimits, open_file

    p = write_docx(tmp_path / "big.docx", ["第一条 " + "网格" * 20_000])
    with pytest.raises(BadFileError, match="when unzipped"):
        open_file(p, ReadLimits(max_unzipped_xml_bytes=10_000))
    with pytest.raises(BadFileError, match="entries"):
        open_file(p, ReadLimits(max_zip_entries=3))
    assert "网格" in open_file(p).text  # the defaults take it


def test_csv_lines_are_decoded_one_by_one(tmp_path: Path):
    p = tmp_path / "mixed.csv"
    p.write_bytes("事项,地点\n井盖丢失,渝中区\n".encode() + "路灯不亮,江北区\n".encode("gb18030"))
    doc = read_file(p, MB)
    assert "事项: 井盖丢失；地点: 渝中区" in doc.text
    assert "事项: 路灯不亮；地点: 江北区" in doc.text
    assert doc.metadata["encoding"] == "utf-8+gb18030"


def test_a_table_that_parses_longer_than_the_limit_is_refused(tmp_path: Path):
    from retrievers.readers import ReadLimits, iter_table_lines, open_file

    p = tmp_path / "slow.csv"
    p.write_text("编号,值\n" + "".join(f"{i},{i}\n" for i in range(50_000)), encoding="utf-8")
    source = open_file(p, ReadLimits(max_parse_seconds=0.001))
    with pytest.raises(BadFileError, match="parsing took over"):
        for _ in iter_table_lines(source):
            pass


def test_a_table_streams_its_position_through_the_file(tmp_path: Path):
    from retrievers.readers import iter_table_lines, open_file

    p = tmp_path / "rows.csv"
    p.write_text("编号,值\n" + "".join(f"{i},{i}\n" for i in range(200_000)), encoding="utf-8")
    source = open_file(p)
    seen = []
    for n, _ in enumerate(iter_table_lines(source)):
        if n % 20_000 == 0:
            seen.append(source.position())
    assert seen == sorted(seen) and 0 < seen[1] < seen[-1] < 1
