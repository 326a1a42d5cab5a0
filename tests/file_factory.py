"""Builds real files of every supported format for the reader and ingest tests."""

from __future__ import annotations

from pathlib import Path

ARTICLES = [
    "第一条 为了规范社区网格化服务管理，制定本办法。",
    "第二条 网格员发现占道经营的，应当劝阻并及时上报街道办事处。",
    "第三条 违反本办法规定乱倒建筑垃圾的，由城市管理部门处二百元以上一千元以下罚款。",
]


def write_docx(path: Path, paragraphs: list[str], table: list[list[str]] | None = None) -> Path:
    import docx

    d = docx.Document()
    d.core_properties.title = path.stem
    for p in paragraphs:
        d.add_paragraph(p)
    if table:
        t = d.add_table(rows=len(table), cols=len(table[0]))
        for i, row in enumerate(table):
            for j, cell in enumerate(row):
                t.cell(i, j).text = cell
    d.save(str(path))
    return path


def write_pdf(path: Path, lines: list[str]) -> Path:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    c = canvas.Canvas(str(path), pagesize=A4)
    c.setFont("STSong-Light", 11)
    y = 800
    for line in lines:
        c.drawString(40, y, line)
        y -= 18
    c.save()
    return path


def write_xlsx(path: Path, rows: list[list[object]]) -> Path:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "指标"
    for r in rows:
        ws.append(r)
    wb.save(str(path))
    return path


def write_html(path: Path, title: str, paragraphs: list[str]) -> Path:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    html = (
        f"<html><head><title>{title}</title><style>p{{color:red}}</style>"
        f"<script>var x = '不应出现的脚本';</script></head><body>{body}</body></html>"
    )
    path.write_text(html, encoding="utf-8")
    return path
