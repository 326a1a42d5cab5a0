"""File readers (LlamaIndex ``BaseReader``s) for the formats the knowledge base accepts.

Every reader returns one ``Document`` whose text keeps the file's structure in plain lines:
Markdown headings stay as they are, table rows carry their header ("列名: 值").
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from pathlib import Path

from llama_index.core import Document
from llama_index.core.readers.base import BaseReader

from retrievers.encoding import UndecodableError, decode_text, strip_controls

SUPPORTED_SUFFIXES = (".txt", ".md", ".markdown", ".docx", ".pdf", ".html", ".htm", ".csv", ".xlsx")
TABLE_FORMATS = {"csv", "xlsx"}


class BadFileError(Exception):
    """A file that cannot be ingested; ``reason`` is shown to the user."""

    def __init__(self, path: Path | str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = str(path)
        self.reason = reason


def _row_text(header: list[str], row: list[object]) -> str:
    cells = []
    for i, value in enumerate(row):
        if value is None or str(value).strip() == "":
            continue
        name = header[i] if i < len(header) and header[i] else f"列{i + 1}"
        cells.append(f"{name}: {str(value).strip()}")
    return "；".join(cells)


def _table_text(rows: list[list[object]]) -> str:
    rows = [r for r in rows if any(c is not None and str(c).strip() for c in r)]
    if not rows:
        return ""
    header = [str(c).strip() if c is not None else "" for c in rows[0]]
    return "\n".join(t for r in rows[1:] if (t := _row_text(header, r)))


def _title_from_markdown(text: str) -> str | None:
    m = re.search(r"^#\s+(.+?)\s*$", text, flags=re.MULTILINE)
    return m.group(1).strip() if m else None


class TextReader(BaseReader):
    """Plain text and Markdown, in UTF-8 or GB18030/GBK."""

    def load_data(self, file: Path, extra_info: dict | None = None) -> list[Document]:
        text, encoding = decode_text(Path(file).read_bytes())
        title = _title_from_markdown(text) or Path(file).stem
        meta = {"title": title, "encoding": encoding, **(extra_info or {})}
        return [Document(text=text, metadata=meta)]


class HtmlReader(BaseReader):
    def load_data(self, file: Path, extra_info: dict | None = None) -> list[Document]:
        from bs4 import BeautifulSoup

        raw, encoding = decode_text(Path(file).read_bytes())
        soup = BeautifulSoup(raw, "html.parser")
        for tag in soup(["script", "style", "noscript"]):
            tag.decompose()
        title = soup.title.get_text(strip=True) if soup.title else None
        lines = [ln.strip() for ln in soup.get_text("\n").splitlines()]
        text = "\n".join(ln for ln in lines if ln)
        meta = {"title": title or Path(file).stem, "encoding": encoding, **(extra_info or {})}
        return [Document(text=text, metadata=meta)]


class DocxReader(BaseReader):
    """Paragraphs in order, then each table as header-labelled rows."""

    def load_data(self, file: Path, extra_info: dict | None = None) -> list[Document]:
        import docx

        d = docx.Document(str(file))
        parts = [p.text.strip() for p in d.paragraphs if p.text.strip()]
        for table in d.tables:
            rows = [[cell.text for cell in row.cells] for row in table.rows]
            if t := _table_text(rows):
                parts.append(t)
        title = (d.core_properties.title or "").strip() or Path(file).stem
        return [Document(text="\n".join(parts), metadata={"title": title, **(extra_info or {})})]


class PdfReader(BaseReader):
    def load_data(self, file: Path, extra_info: dict | None = None) -> list[Document]:
        from pypdf import PdfReader as _Pdf

        pdf = _Pdf(str(file))
        if pdf.is_encrypted:
            raise BadFileError(file, "encrypted PDF")
        pages = [(page.extract_text() or "").strip() for page in pdf.pages]
        text = "\n".join(p for p in pages if p)
        meta_title = pdf.metadata.title if pdf.metadata and pdf.metadata.title else None
        meta = {"title": (meta_title or Path(file).stem).strip(), "pages": len(pages)}
        return [Document(text=text, metadata={**meta, **(extra_info or {})})]


class CsvReader(BaseReader):
    def load_data(self, file: Path, extra_info: dict | None = None) -> list[Document]:
        raw, encoding = decode_text(Path(file).read_bytes())
        try:
            dialect = csv.Sniffer().sniff(raw[:4096], delimiters=",\t;|")
        except csv.Error:
            dialect = csv.excel
        rows = list(csv.reader(io.StringIO(raw), dialect))
        meta = {"title": Path(file).stem, "encoding": encoding, **(extra_info or {})}
        return [Document(text=_table_text(rows), metadata=meta)]


class XlsxReader(BaseReader):
    """Each sheet's rows with the sheet's first row as header."""

    def load_data(self, file: Path, extra_info: dict | None = None) -> list[Document]:
        import openpyxl

        wb = openpyxl.load_workbook(str(file), read_only=True, data_only=True)
        try:
            parts = []
            for ws in wb.worksheets:
                rows = [list(r) for r in ws.iter_rows(values_only=True)]
                if t := _table_text(rows):
                    parts.append(f"## {ws.title}\n{t}" if len(wb.worksheets) > 1 else t)
        finally:
            wb.close()
        meta = {"title": Path(file).stem, **(extra_info or {})}
        return [Document(text="\n".join(parts), metadata=meta)]


READERS: dict[str, BaseReader] = {
    ".txt": TextReader(),
    ".md": TextReader(),
    ".markdown": TextReader(),
    ".html": HtmlReader(),
    ".htm": HtmlReader(),
    ".docx": DocxReader(),
    ".pdf": PdfReader(),
    ".csv": CsvReader(),
    ".xlsx": XlsxReader(),
}

# Zip-based formats are checked for their container before parsing so that a renamed
# or truncated file gets a clear reason instead of a library traceback.
_ZIP_FORMATS = {".docx", ".xlsx"}


def read_file(path: Path, max_bytes: int) -> Document:
    """Read one file into a ``Document``; raise :class:`BadFileError` with a reason otherwise."""
    suffix = path.suffix.lower()
    reader = READERS.get(suffix)
    if reader is None:
        raise BadFileError(path, f"unsupported format '{suffix or path.name}'")
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise BadFileError(path, f"unreadable: {exc.strerror or exc}") from exc
    if size == 0:
        raise BadFileError(path, "empty file")
    if size > max_bytes:
        raise BadFileError(path, f"too large ({size} bytes > limit {max_bytes})")
    if suffix in _ZIP_FORMATS and not zipfile.is_zipfile(path):
        raise BadFileError(path, f"not a valid {suffix[1:]} file (corrupt or renamed)")
    if suffix == ".pdf":
        with path.open("rb") as fh:
            if not fh.read(1024).lstrip().startswith(b"%PDF"):
                raise BadFileError(path, "not a valid pdf file (no %PDF header)")
    try:
        docs = reader.load_data(path, extra_info={"format": suffix.lstrip(".")})
    except BadFileError:
        raise
    except UndecodableError as exc:
        raise BadFileError(path, f"not text: {exc}") from exc
    except PermissionError as exc:
        raise BadFileError(path, f"unreadable: {exc.strerror or exc}") from exc
    except Exception as exc:  # noqa: BLE001 - any parser failure is a bad file, not a crash
        raise BadFileError(path, f"cannot parse {suffix[1:]}: {type(exc).__name__}: {exc}") from exc
    doc = docs[0]
    # Parsers pass control characters through (a NUL deep in a text file, form feeds in
    # PDFs, stray ones in DOCX runs); none of them belongs in an index.
    doc.set_content(strip_controls(doc.text))
    if not doc.text.strip():
        raise BadFileError(path, "no extractable text")
    return doc
