"""File readers (LlamaIndex ``BaseReader``s) for the formats the knowledge base accepts.

Every reader returns one ``Document`` whose text keeps the file's structure in plain lines:
Markdown headings stay as they are, table rows carry their header ("列名: 值").
"""

from __future__ import annotations

import csv
import io
import itertools
import re
import time
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from llama_index.core import Document
from llama_index.core.readers.base import BaseReader
from pydantic import BaseModel

from retrievers.encoding import (
    UndecodableError,
    bom_encoding,
    decode_line,
    decode_text,
    looks_binary,
    strip_controls,
)

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
    def load_data(
        self, file: Path, extra_info: dict | None = None, deadline: Deadline | None = None
    ) -> list[Document]:
        from pypdf import PdfReader as _Pdf

        pdf = _Pdf(str(file))
        if pdf.is_encrypted:
            raise BadFileError(file, "encrypted PDF")
        pages = []
        for page in pdf.pages:
            if deadline is not None:
                deadline.check()
            pages.append((page.extract_text() or "").strip())
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
_MB = 1024 * 1024


class ReadLimits(BaseModel):
    """What one file may cost to read; beyond it the file is refused with a reason."""

    max_file_bytes: int = 50 * _MB
    # zipfile never inflates an entry past its declared size, so summing the declared
    # sizes bounds what parsing a docx/xlsx can unpack, whatever its compressed size.
    max_unzipped_bytes: int = 256 * _MB
    # XML parts are parsed into trees (5-10x their size in memory); media are only held.
    max_unzipped_xml_bytes: int = 48 * _MB
    max_zip_entries: int = 5000
    max_parse_seconds: float = 300.0


class ParseTimeout(BadFileError):
    """Parsing one file took longer than ``max_parse_seconds``."""


class Deadline:
    """Parse-time budget of one file, checked between pages, rows or sheets."""

    def __init__(self, path: Path, seconds: float) -> None:
        self.path, self.seconds = path, seconds
        self._spent = 0.0
        self._since: float | None = None

    def __enter__(self) -> Deadline:
        self._since = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._since is not None:
            self._spent += time.perf_counter() - self._since
            self._since = None

    def check(self) -> None:
        spent = self._spent + (time.perf_counter() - self._since if self._since else 0.0)
        if spent > self.seconds:
            raise ParseTimeout(self.path, f"parsing took over {self.seconds:g} s (limit)")


@dataclass
class SourceFile:
    """A file opened for ingestion: its metadata, and its text whole or as streamed lines.

    Documents (text, Markdown, HTML, DOCX, PDF) are read whole (their size is bounded by
    the limits); tables (CSV, XLSX) stream their rows, so a file of a million rows is
    never held in memory at once.
    """

    path: Path
    metadata: dict[str, Any]
    text: str | None = None
    _lines: Callable[[], Iterator[str]] | None = None
    _position: Callable[[], float] = field(default=lambda: 0.0)

    @property
    def is_table(self) -> bool:
        return self._lines is not None

    def table_lines(self) -> Iterator[str]:
        """Each row as one "列名: 值；…" line (tables only), header rows consumed."""
        assert self._lines is not None
        return self._lines()

    def position(self) -> float:
        """Fraction of the file consumed so far (tables), for progress and ETA."""
        return self._position()

    def document(self) -> Document:
        """The whole file as one ``Document`` (tables joined: for small files and tests)."""
        text = self.text if self.text is not None else "\n".join(self.table_lines())
        return Document(text=text, metadata=dict(self.metadata))


def _check_zip(path: Path, limits: ReadLimits) -> None:
    try:
        with zipfile.ZipFile(path) as zf:
            entries = zf.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise BadFileError(path, f"not a valid {path.suffix[1:]} file ({exc})") from exc
    if len(entries) > limits.max_zip_entries:
        raise BadFileError(
            path, f"zip archive of {len(entries)} entries (limit {limits.max_zip_entries})"
        )
    total = sum(e.file_size for e in entries)
    if total > limits.max_unzipped_bytes:
        raise BadFileError(
            path,
            f"expands to {total // _MB} MiB when unzipped (limit {limits.max_unzipped_bytes // _MB} MiB)",
        )
    xml = sum(e.file_size for e in entries if e.filename.lower().endswith((".xml", ".rels")))
    if xml > limits.max_unzipped_xml_bytes:
        raise BadFileError(
            path,
            f"{xml // _MB} MiB of XML when unzipped "
            f"(limit {limits.max_unzipped_xml_bytes // _MB} MiB)",
        )


def _table_lines(rows: Iterator[list[object]], deadline: Deadline) -> Iterator[str]:
    """Rows to header-labelled lines; the first non-empty row is the header."""
    header: list[str] | None = None
    for row in rows:
        deadline.check()
        if not any(c is not None and str(c).strip() for c in row):
            continue
        if header is None:
            header = [str(c).strip() if c is not None else "" for c in row]
            continue
        text = strip_controls(_row_text(header, row))
        for line in text.splitlines():
            if line.strip():
                yield line


def _decoded_lines(raw: BinaryIO, meta: dict[str, Any]) -> Iterator[str]:
    """The stream's lines as text, each decoded on its own; ``meta["encoding"]`` names
    what was met ("utf-8", "gb18030" or both, "utf-8+gb18030")."""
    head = raw.peek(8192)[:8192] if hasattr(raw, "peek") else b""
    bom = bom_encoding(head)
    if bom is not None:
        meta["encoding"] = bom
        yield from io.TextIOWrapper(raw, encoding=bom, newline="")
        return
    if looks_binary(head):
        raise UndecodableError("binary content (NUL or control bytes)")
    seen: set[str] = set()
    for number, line in enumerate(raw, start=1):
        text, encoding = decode_line(line, number)
        if encoding not in seen:
            seen.add(encoding)
            meta["encoding"] = "+".join(e for e in ("utf-8", "gb18030") if e in seen)
        yield text


def _csv_source(path: Path, meta: dict[str, Any], limits: ReadLimits) -> SourceFile:
    size = max(path.stat().st_size, 1)
    handle: dict[str, Any] = {}
    meta = {**meta, "encoding": "utf-8"}

    def lines() -> Iterator[str]:
        deadline = Deadline(path, limits.max_parse_seconds)
        with path.open("rb") as raw:
            handle["raw"] = raw
            text = _decoded_lines(raw, meta)
            sample: list[str] = []
            for line in text:
                sample.append(line)
                if sum(map(len, sample)) >= 4096:
                    break
            try:
                dialect = csv.Sniffer().sniff("".join(sample), delimiters=",\t;|")
            except csv.Error:
                dialect = csv.excel
            try:
                with deadline:
                    rows = csv.reader(itertools.chain(sample, text), dialect)
                    for line in _table_lines(rows, deadline):
                        deadline.__exit__()
                        yield line
                        deadline.__enter__()
            except csv.Error as exc:
                raise BadFileError(path, f"cannot parse csv: {exc}") from exc
            finally:
                handle.pop("raw", None)

    def position() -> float:
        raw = handle.get("raw")
        return min(raw.tell() / size, 1.0) if raw is not None and not raw.closed else 0.0

    return SourceFile(path=path, metadata=meta, _lines=lines, _position=position)


def _xlsx_source(path: Path, meta: dict[str, Any], limits: ReadLimits) -> SourceFile:
    import openpyxl

    state = {"sheet": 0, "sheets": 1, "row": 0, "rows": 0}

    def lines() -> Iterator[str]:
        deadline = Deadline(path, limits.max_parse_seconds)
        with deadline:
            wb = openpyxl.load_workbook(str(path), read_only=True, data_only=True)
        try:
            sheets = wb.worksheets
            state["sheets"] = max(len(sheets), 1)
            for i, ws in enumerate(sheets):
                state.update(sheet=i, row=0, rows=ws.max_row or 0)

                def rows(ws=ws) -> Iterator[list[object]]:
                    for r in ws.iter_rows(values_only=True):
                        state["row"] += 1
                        yield list(r)

                titled = len(sheets) == 1
                with deadline:
                    for line in _table_lines(rows(), deadline):
                        deadline.__exit__()
                        if not titled:
                            titled = True
                            yield f"## {ws.title}"
                        yield line
                        deadline.__enter__()
        finally:
            wb.close()

    def position() -> float:
        within = state["row"] / state["rows"] if state["rows"] else 0.0
        return min((state["sheet"] + min(within, 1.0)) / state["sheets"], 1.0)

    return SourceFile(path=path, metadata=meta, _lines=lines, _position=position)


def open_file(path: Path, limits: ReadLimits | None = None) -> SourceFile:
    """Open one file for ingestion, or raise :class:`BadFileError` with a reason.

    Size, container (zip entries and unpacked size) and encoding are checked before any
    parsing; documents are parsed here, tables when their lines are iterated.
    """
    limits = limits or ReadLimits()
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
    if size > limits.max_file_bytes:
        raise BadFileError(path, f"too large ({size} bytes > limit {limits.max_file_bytes})")
    if suffix in _ZIP_FORMATS:
        if not zipfile.is_zipfile(path):
            raise BadFileError(path, f"not a valid {suffix[1:]} file (corrupt or renamed)")
        _check_zip(path, limits)
    if suffix == ".pdf":
        with path.open("rb") as fh:
            if not fh.read(1024).lstrip().startswith(b"%PDF"):
                raise BadFileError(path, "not a valid pdf file (no %PDF header)")
    meta = {"title": path.stem, "format": suffix.lstrip(".")}
    with _reasons(path, suffix):
        if suffix == ".csv":
            return _csv_source(path, meta, limits)
        if suffix == ".xlsx":
            return _xlsx_source(path, meta, limits)
        deadline = Deadline(path, limits.max_parse_seconds)
        extra = {"format": suffix.lstrip(".")}
        with deadline:
            if isinstance(reader, PdfReader):
                docs = reader.load_data(path, extra_info=extra, deadline=deadline)
            else:
                docs = reader.load_data(path, extra_info=extra)
        deadline.check()
    doc = docs[0]
    # Parsers pass control characters through (a NUL deep in a text file, form feeds in
    # PDFs, stray ones in DOCX runs); none of them belongs in an index.
    text = strip_controls(doc.text)
    if not text.strip():
        raise BadFileError(path, "no extractable text")
    return SourceFile(path=path, metadata=dict(doc.metadata), text=text)


@contextmanager
def _reasons(path: Path, suffix: str) -> Iterator[None]:
    """Any parser failure is a bad file with a reason, never a traceback."""
    try:
        yield
    except BadFileError:
        raise
    except UndecodableError as exc:
        raise BadFileError(path, f"not text: {exc}") from exc
    except PermissionError as exc:
        raise BadFileError(path, f"unreadable: {exc.strerror or exc}") from exc
    except MemoryError as exc:
        raise BadFileError(path, "too large to parse in memory") from exc
    except Exception as exc:  # noqa: BLE001 - any parser failure is a bad file, not a crash
        raise BadFileError(path, f"cannot parse {suffix[1:]}: {type(exc).__name__}: {exc}") from exc


def iter_table_lines(source: SourceFile) -> Iterator[str]:
    """A table's lines with parser failures turned into :class:`BadFileError`."""
    suffix = source.path.suffix.lower()
    it = source.table_lines()
    while True:
        with _reasons(source.path, suffix):
            try:
                line = next(it)
            except StopIteration:
                return
        yield line


def read_file(path: Path, max_bytes: int) -> Document:
    """Read one whole file into a ``Document``; raise :class:`BadFileError` with a reason."""
    source = open_file(path, ReadLimits(max_file_bytes=max_bytes))
    if source.is_table:
        text = "\n".join(iter_table_lines(source))
        if not text.strip():
            raise BadFileError(path, "no extractable text")
        return Document(text=text, metadata=dict(source.metadata))
    return source.document()
