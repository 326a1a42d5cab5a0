"""What the command groups share: consoles, progress, the JSONL batch runner, opening services.

Only typer and rich are imported here; the service layer is imported when a command
opens it, so that ``copilot --help`` and usage errors answer at once.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.markup import escape

from copilot.input_limits import BATCH_LINE_BYTES, JSON_DEPTH, QUESTION_CHARS, json_depth
from copilot.terminal import err, out

if TYPE_CHECKING:
    from copilot.services import Services
    from retrievers.models import IngestProgress

__all__ = [
    "answering_services",
    "check_single_or_batch",
    "err",
    "knowledge_services",
    "out",
    "progress_bar",
    "quiet_library_warnings",
    "ready",
    "run_jsonl",
    "store_services",
    "write_json",
]

_STAGES = {
    "scan": "检查文件 scanning",
    "ingest": "导入 ingesting",
    "keyword": "关键词索引 BM25",
    "done": "完成 done",
}


def _eta(seconds: float | None) -> str:
    if seconds is None:
        return "--:--"
    m, s = divmod(int(seconds), 60)
    h, m = divmod(m, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


@contextmanager
def progress_bar(enabled: bool = True):
    """A rich progress bar on stderr; yields an ingest progress callback.

    Shows files, chunks, chunks/s and the time left (from input bytes per second).
    """
    if not enabled:
        yield None
        return
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TextColumn("{task.fields[detail]}", markup=False),
        TimeElapsedColumn(),
        console=err,
        transient=False,
    ) as bar:
        task = bar.add_task(_STAGES["scan"], total=1000, detail="")

        def update(p: IngestProgress) -> None:
            detail = (
                f"文件 files {p.files_done}/{p.files_total} · {p.chunks_done:,} chunks · "
                f"{p.chunks_per_s:.1f} chunks/s · 剩余 ETA {_eta(p.eta_s)}"
            )
            bar.update(
                task,
                description=_STAGES.get(p.stage, p.stage),
                completed=int(p.fraction * 1000),
                detail=detail,
            )

        yield update


@contextmanager
def count_bar(label: str, total: int):
    """A rich bar on stderr counting ``total`` items; yields ``tick()`` to call per item."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
    ) as bar:
        task = bar.add_task(label, total=total)
        yield lambda: bar.advance(task)


# Libraries that report through ``logging`` or ``warnings`` while parsing a user's files;
# what matters to the user is our own per-file reason in the ingest report.
_NOISY_LOGGERS = ("pypdf", "openpyxl", "docx", "charset_normalizer")


@contextmanager
def quiet_library_warnings():
    """Keep library warnings (pypdf on a malformed PDF, openpyxl, …) off the terminal."""
    import logging
    import warnings

    saved = []
    for name in _NOISY_LOGGERS:
        logger = logging.getLogger(name)
        saved.append((logger, logger.level, logger.propagate))
        logger.setLevel(logging.CRITICAL + 1)
        logger.propagate = False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        for logger, level, propagate in saved:
            logger.setLevel(level)
            logger.propagate = propagate


# -- opening the service layer --------------------------------------------------------------


def _settings(database_url: str | None = None):
    from copilot.settings import Settings

    settings = Settings()
    if database_url:
        settings = settings.model_copy(update={"database_url": database_url})
    return settings


def _configuration_error(exc: Exception) -> typer.Exit:
    err.print(f"[red]配置错误 configuration error:[/red] {exc}")
    return typer.Exit(2)


def ready(services: Services, quiet: bool = False) -> None:
    """Build the index from the bundled regulations on first use, with a progress bar."""
    if services.needs_index():
        if not quiet:
            err.print("索引为空，正在从内置法规构建… (first run: indexing the bundled regulations)")
        with progress_bar(not quiet) as cb:
            services.ensure_ready(progress=cb)


@contextmanager
def knowledge_services(*, first_run: bool = False, quiet: bool = False) -> Iterator[Services]:
    """Services for the document commands (no LLM); ``first_run`` indexes an empty knowledge
    base from the bundled regulations. Closed on the way out."""
    from copilot.knowledge import ConfigurationError
    from copilot.services import open_services

    try:
        svc, _ = open_services(_settings(), with_llm=False)
    except ConfigurationError as exc:
        raise _configuration_error(exc) from exc
    try:
        if first_run:
            ready(svc, quiet)
        yield svc
    finally:
        svc.close()


@contextmanager
def answering_services(quiet: bool = False, database_url: str | None = None) -> Iterator[Services]:
    """Services for the commands that answer, route and decide: a broken LLM setting
    degrades to extractive answers (with a warning), and an empty knowledge base is indexed
    from the bundled regulations first. Closed on the way out."""
    from copilot.knowledge import ConfigurationError
    from copilot.services import open_services

    try:
        svc, warning = open_services(_settings(database_url))
    except ConfigurationError as exc:
        raise _configuration_error(exc) from exc
    try:
        if warning:
            err.print(f"[yellow]{warning}[/yellow]")
        ready(svc, quiet=quiet)
        yield svc
    finally:
        svc.close()


@contextmanager
def store_services(database_url: str | None = None) -> Iterator[Services]:
    """Services for the commands that need only the work-order database (orders, SLA, users):
    nothing else is loaded. A database that cannot be opened exits 2. Closed on the way out."""
    from sqlalchemy.exc import SQLAlchemyError

    from copilot.services import build_services

    svc = build_services(_settings(database_url), with_llm=False, lazy=True)
    try:
        yield svc
    except SQLAlchemyError as exc:
        err.print(f"[red]数据库错误 database error:[/red] {exc.__class__.__name__}: {exc}")
        raise typer.Exit(2) from exc
    finally:
        svc.close()


# -- one text, or a JSONL batch --------------------------------------------------------------


def check_single_or_batch(
    text: str | None, input: Path | None, output: Path | None, what: str, max_chars: int
) -> None:
    """One text (at most ``max_chars``), or a batch with both --input and --output; anything
    else is a usage error."""
    if (input is None) != (output is None):
        err.print("[red]--input 与 --output 需同时给出 (give both --input and --output)[/red]")
        raise typer.Exit(2)
    if input is None and not (text or "").strip():
        err.print(f"[red]请输入{what} give a {what}, or --input/--output for a batch[/red]")
        raise typer.Exit(2)
    if input is None and len(text or "") > max_chars:
        err.print(
            f"[red]{what}过长 too long: {len(text or '')} characters, at most {max_chars}[/red]"
        )
        raise typer.Exit(2)


def run_jsonl(
    src: Path,
    dst: Path,
    handle: Callable[[dict], dict[str, Any]],
    key: str = "question",
    max_chars: int = QUESTION_CHARS,
) -> int:
    """Run ``handle(row)`` for each JSONL line; a bad line becomes an error record and the
    batch goes on.

    Each line is decoded on its own — UTF-8, else GB18030 for that line alone (its record says
    ``"encoding": "gb18030"``) — so one line from another system neither refuses the file nor
    re-reads the rest in the wrong encoding. Lines over ``BATCH_LINE_BYTES``, JSON nested
    deeper than ``JSON_DEPTH`` and texts over ``max_chars`` are error records too. Returns the
    number of error records (the command exits 1 when there are any).
    """
    from retrievers.encoding import UndecodableError, decode_text, looks_binary

    try:
        data = src.read_bytes()
        if data.startswith((b"\xff\xfe", b"\xfe\xff", b"\xef\xbb\xbf")) or looks_binary(data):
            # A byte-order mark names one encoding for the whole file; binary is refused.
            lines = [(line, None) for line in decode_text(data)[0].splitlines()]
        else:
            lines = [_decode_line(raw) for raw in data.splitlines()]
    except (OSError, UndecodableError) as exc:
        err.print(
            f"[red]无法读取输入 cannot read input[/red] {escape(str(src))}: {escape(str(exc))}"
        )
        raise typer.Exit(2) from exc
    errors = 0
    dst.parent.mkdir(parents=True, exist_ok=True)
    with dst.open("w", encoding="utf-8") as fh, count_bar("处理 processing", len(lines)) as tick:
        for n, (line, encoding) in enumerate(lines, 1):
            if isinstance(line, str) and not line.strip():
                continue
            try:
                record = handle(_row(line, key, max_chars))
            except (json.JSONDecodeError, ValueError, RecursionError) as exc:
                errors += 1
                record = {"id": None, "line": n, "error": f"line {n}: {exc}"}
            except Exception as exc:  # noqa: BLE001 - one bad record never stops the batch
                errors += 1
                record = {"id": None, "line": n, "error": f"line {n}: {type(exc).__name__}"}
            if encoding:
                record["encoding"] = encoding
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")
            tick()
    if errors:
        err.print(
            f"[yellow]{errors} 行输入有误 malformed input lines (written as error records)[/yellow]"
        )
    return errors


def _decode_line(raw: bytes) -> tuple[str | bytes, str | None]:
    """One line as text, and the encoding when it was not UTF-8; undecodable bytes stay
    bytes (their record says so)."""
    from retrievers.encoding import UndecodableError, decode_line, strip_controls

    if len(raw) > BATCH_LINE_BYTES:
        return raw, None
    try:
        text, encoding = decode_line(raw, 0)
    except UndecodableError:
        return raw, None
    return strip_controls(text), None if encoding == "utf-8" else encoding


def _row(line: str | bytes, key: str, max_chars: int) -> dict:
    if isinstance(line, bytes):
        if len(line) > BATCH_LINE_BYTES:
            raise ValueError(f"line longer than {BATCH_LINE_BYTES} bytes")
        raise ValueError("not text in UTF-8 or GB18030")
    if len(line.encode("utf-8")) > BATCH_LINE_BYTES:
        raise ValueError(f"line longer than {BATCH_LINE_BYTES} bytes")
    if json_depth(line) > JSON_DEPTH:
        raise ValueError(f"JSON nested deeper than {JSON_DEPTH}")
    row = json.loads(line)
    if not isinstance(row, dict) or not isinstance(row.get(key), str):
        raise ValueError(f'expected an object with a string "{key}"')
    if len(row[key]) > max_chars:
        raise ValueError(f'"{key}" longer than {max_chars} characters')
    return row


def write_json(payload: Any) -> None:
    """Indented JSON on stdout, Chinese as is (the ``--json`` output of one result)."""
    import sys

    sys.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2) + "\n")
