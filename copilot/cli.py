"""The ``copilot`` command line: ingest, manage documents, search, interactive shell."""

from __future__ import annotations

import hashlib
import importlib
import json
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import click
import typer
import typer.core
import typer.main
from rich.markup import escape

from copilot.terminal import err, out, print_answer_stream, print_route

# Everything heavy (llama_index, chromadb, the embedders, scikit-learn, SQLAlchemy) is
# imported inside the commands, so that ``copilot --help`` and usage errors answer at once.
if TYPE_CHECKING:
    from copilot.answers.models import Answer
    from copilot.services import Services
    from copilot.settings import Settings
    from retrievers.knowledge_base import KnowledgeBase
    from retrievers.models import Hit, IngestReport

# Sub-apps whose import is slow (the work-order store pulls in SQLAlchemy and Alembic,
# ~1 s): listed in ``copilot --help`` from this table, imported only when invoked.
_LAZY_APPS = {
    "orders": (
        "copilot.work_orders.cli",
        "orders_app",
        "工单 work orders: list, show, approve, return, reject.",
    ),
    "sla": ("copilot.work_orders.cli", "sla_app", "时限管理 SLA: escalate overdue work orders."),
    "users": (
        "copilot.users.cli",
        "users_app",
        "用户 users: add (prints a token once), list, revoke, link a WeCom id.",
    ),
}


class _LazyApp(click.Command):
    """Stands for a sub-app in the command list; building its context loads the real one."""

    def __init__(self, name: str, module: str, attr: str, help: str) -> None:
        super().__init__(name, help=help, short_help=help)
        self._target = (module, attr)

    def load(self) -> click.Command:
        module, attr = self._target
        sub_app = getattr(importlib.import_module(module), attr)
        return typer.main.get_group(sub_app)

    def make_context(self, info_name, args, parent=None, **extra):  # type: ignore[override]
        return self.load().make_context(info_name, args, parent=parent, **extra)


class _LazyGroup(typer.core.TyperGroup):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return [*super().list_commands(ctx), *(n for n in _LAZY_APPS if n not in self.commands)]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is None and cmd_name in _LAZY_APPS:
            command = _LazyApp(cmd_name, *_LAZY_APPS[cmd_name])
        return command


app = typer.Typer(
    cls=_LazyGroup,
    help="数字重庆 governance copilot",
    no_args_is_help=True,
    add_completion=False,
)
docs_app = typer.Typer(help="Manage ingested documents.", no_args_is_help=True)
app.add_typer(docs_app, name="docs")

_STAGES = {"scan": "检查文件 scanning", "embed": "向量化 embedding", "keyword": "关键词索引 BM25"}


@contextmanager
def progress_bar(enabled: bool = True):
    """A rich progress bar on stderr; yields a ``progress(stage, advance, total)`` callback."""
    if not enabled:
        yield None
        return
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
        transient=False,
    ) as bar:
        tasks: dict[str, int] = {}

        def advance(stage: str, n: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(_STAGES.get(stage, stage), total=total)
            bar.update(tasks[stage], advance=n, total=total)

        yield advance


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


def _open(settings: Settings | None = None) -> tuple[Settings, KnowledgeBase]:
    from copilot.knowledge import ConfigurationError, build_knowledge_base
    from copilot.settings import Settings

    settings = settings or Settings()
    try:
        return settings, build_knowledge_base(settings)
    except ConfigurationError as exc:
        err.print(f"[red]配置错误 configuration error:[/red] {exc}")
        raise typer.Exit(2) from exc


def _ready(settings: Settings, kb: KnowledgeBase, quiet: bool = False) -> None:
    """Build the index from the bundled regulations on first use."""
    if kb.is_empty():
        from copilot.knowledge import ensure_bundled_index

        if not quiet:
            err.print("索引为空，正在从内置法规构建… (first run: indexing the bundled regulations)")
        with progress_bar(not quiet) as cb:
            ensure_bundled_index(kb, settings, progress=cb)


def _print_report(report: IngestReport, as_json: bool) -> None:
    if as_json:
        out.print_json(report.model_dump_json())
        return
    out.print(
        f"新增 added {len(report.added)}, 更新 updated {len(report.updated)}, "
        f"未变 unchanged {len(report.unchanged)}, 移除 removed {len(report.removed)}, "
        f"跳过 skipped {len(report.skipped)}; {report.chunks_written} chunks in {report.seconds:.1f}s"
    )
    for s in report.skipped:
        out.print(
            f"  [yellow]跳过 skipped[/yellow] {escape(s.path)}: {escape(s.reason)}", soft_wrap=True
        )


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders to ingest.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Add or update documents; unchanged files are skipped by content hash.

    Exits 1 when nothing could be ingested (every file skipped or not found).
    """
    _, kb = _open()
    with progress_bar(not as_json) as cb, quiet_library_warnings():
        report = kb.ingest(paths, progress=cb)
    _print_report(report, as_json)
    if not (report.added or report.updated or report.unchanged or report.removed):
        if report.skipped:
            err.print(
                f"[red]没有导入任何文件 nothing ingested:[/red] "
                f"{len(report.skipped)} 个文件全部跳过 (all skipped, reasons above)"
            )
        else:
            err.print("[red]没有导入任何文件 nothing ingested:[/red] 没有找到文件 (no files found)")
        raise typer.Exit(1)


@docs_app.command("list")
def docs_list(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List ingested documents."""
    _, kb = _open()
    docs = kb.documents()
    if as_json:
        out.print_json(json.dumps([d.model_dump() for d in docs], ensure_ascii=False))
        return
    from rich.table import Table

    table = Table("doc_id", "标题 title", "格式", "chunks", "应用系统", "ingested_at")
    for d in docs:
        table.add_row(
            d.doc_id,
            d.title,
            d.format,
            str(d.n_chunks),
            d.metadata.get("system", ""),
            d.ingested_at,
        )
    out.print(table)
    out.print(f"{len(docs)} documents")


@docs_app.command("remove")
def docs_remove(key: Annotated[str, typer.Argument(help="doc_id, path or exact title.")]) -> None:
    """Remove a document and its chunks from every index."""
    _, kb = _open()
    removed = kb.remove(key)
    if not removed:
        err.print(f"[red]未找到文档 no document matches[/red] {key!r}")
        raise typer.Exit(1)
    for d in removed:
        out.print(f"已移除 removed {d.doc_id} {d.title}")


def _hit_json(h: Hit) -> dict:
    return {
        "chunk_id": h.chunk_id,
        "doc_title": h.doc_title,
        "article": h.article,
        "text": h.text,
        "score": h.score,
        "chapter": h.chapter,
    }


def _print_hits(hits: list[Hit]) -> None:
    if not hits:
        out.print("没有找到相关条文。 (no matching text)")
    for i, h in enumerate(hits, 1):
        where = f"《{h.doc_title}》{h.article or ''}"
        out.print(f"[bold]{i}. {where}[/bold]  [dim]score {h.score:.3f}[/dim]")
        out.print(f"   {h.text[:200]}{'…' if len(h.text) > 200 else ''}")


def _check_single_or_batch(
    text: str | None, input: Path | None, output: Path | None, what: str
) -> None:
    """One text, or a batch with both --input and --output; anything else is a usage error."""
    if (input is None) != (output is None):
        err.print("[red]--input 与 --output 需同时给出 (give both --input and --output)[/red]")
        raise typer.Exit(2)
    if input is None and not (text or "").strip():
        err.print(f"[red]请输入{what} give a {what}, or --input/--output for a batch[/red]")
        raise typer.Exit(2)


def _run_jsonl(src: Path, dst: Path, handle, key: str = "question") -> int:
    """Run ``handle(row)`` for each JSONL line; a malformed line becomes an error record."""
    from retrievers.encoding import UndecodableError, decode_text

    errors = 0
    try:
        # Exports from office systems are often GBK; accept them like ingested files.
        lines = decode_text(src.read_bytes())[0].splitlines()
    except (OSError, UndecodableError) as exc:
        err.print(f"[red]无法读取输入 cannot read input[/red] {src}: {exc}")
        raise typer.Exit(2) from exc
    dst.parent.mkdir(parents=True, exist_ok=True)
    with dst.open("w", encoding="utf-8") as fh, progress_bar(True) as cb:
        for n, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                if not isinstance(row, dict) or not isinstance(row.get(key), str):
                    raise ValueError(f'expected an object with a string "{key}"')
                record = handle(row)
            except (json.JSONDecodeError, ValueError) as exc:
                errors += 1
                record = {"id": None, "line": n, "error": f"line {n}: {exc}"}
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")
            if cb:
                cb("search", 1, len(lines))
    if errors:
        err.print(
            f"[yellow]{errors} 行输入有误 malformed input lines (written as error records)[/yellow]"
        )
    return errors


@app.command()
def search(
    question: Annotated[str | None, typer.Argument(help="问题 question")] = None,
    top_k: Annotated[int, typer.Option("--top-k", min=1, max=100)] = 5,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    mode: Annotated[str, typer.Option(help="hybrid | bm25 | dense")] = "hybrid",
    doc: Annotated[str | None, typer.Option("--doc", help="Only this document title.")] = None,
    chapter: Annotated[
        str | None, typer.Option(help="Only this chapter, e.g. '第六章 法律责任'.")
    ] = None,
    system: Annotated[
        str | None, typer.Option(help="Only this application system, e.g. 数字法治.")
    ] = None,
    input: Annotated[
        Path | None, typer.Option("--input", help='JSONL of {"id","question"}.')
    ] = None,
    output: Annotated[Path | None, typer.Option("--output", help="JSONL of {id, hits}.")] = None,
) -> None:
    """Search the regulations: one question, or a batch with --input/--output."""
    if mode not in ("hybrid", "bm25", "dense"):
        err.print(f"[red]未知模式 unknown mode[/red] {mode!r}: use hybrid, bm25 or dense")
        raise typer.Exit(2)
    _check_single_or_batch(question, input, output, "问题 question")
    from retrievers.models import SearchFilters

    settings, kb = _open()
    _ready(settings, kb, quiet=as_json)
    filters = SearchFilters(doc_title=doc, chapter=chapter, system=system)
    if input is not None and output is not None:

        def search_row(row: dict) -> dict:
            hits = kb.search(row["question"], top_k, mode, filters)  # type: ignore[arg-type]
            return {"id": row.get("id"), "hits": [_hit_json(h) for h in hits]}

        raise typer.Exit(1 if _run_jsonl(input, output, search_row) else 0)
    hits = kb.search(question or "", top_k, mode, filters)  # type: ignore[arg-type]
    if as_json:
        sys.stdout.write(
            json.dumps([_hit_json(h) for h in hits], ensure_ascii=False, indent=2) + "\n"
        )
    else:
        _print_hits(hits)


def _services(quiet: bool = False, database_url: str | None = None) -> Services:
    """Services for the question-answering commands; a broken LLM setting degrades to extractive."""
    from copilot.knowledge import ConfigurationError
    from copilot.llm.base import LLMError
    from copilot.services import build_services
    from copilot.settings import Settings

    settings = Settings()
    if database_url:
        settings = settings.model_copy(update={"database_url": database_url})
    try:
        services = build_services(settings)
    except LLMError as exc:
        err.print(
            f"[yellow]大模型未启用 LLM disabled ({exc}); 使用抽取式回答 using extractive answers[/yellow]"
        )
        services = build_services(settings, with_llm=False)
    except ConfigurationError as exc:
        err.print(f"[red]配置错误 configuration error:[/red] {exc}")
        raise typer.Exit(2) from exc
    _ready(settings, services.kb, quiet=quiet)
    return services


def _answer_json(a: Answer) -> dict:
    return {
        "answer": a.answer,
        "refused": a.refused,
        "citations": [c.model_dump() for c in a.citations],
        "trace_id": a.trace_id,
        "route": a.route,
        "backend": a.backend,
        "fallback_reason": a.fallback_reason,
    }


@app.command()
def ask(
    question: Annotated[str | None, typer.Argument(help="问题 question")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    input: Annotated[
        Path | None, typer.Option("--input", help='JSONL of {"id","question"}.')
    ] = None,
    output: Annotated[Path | None, typer.Option("--output", help="JSONL of answers.")] = None,
) -> None:
    """Answer a question with citations (or refuse); batch with --input/--output."""
    _check_single_or_batch(question, input, output, "问题 question")
    services = _services(quiet=as_json)
    if input is not None and output is not None:

        def answer_row(row: dict) -> dict:
            return {"id": row.get("id"), **_answer_json(services.answers.ask(row["question"]))}

        raise typer.Exit(1 if _run_jsonl(input, output, answer_row) else 0)
    if as_json:
        a = services.answers.ask(question or "")
        sys.stdout.write(json.dumps(_answer_json(a), ensure_ascii=False, indent=2) + "\n")
        return
    print_answer_stream(services, question or "")


@app.command()
def route(
    text: Annotated[str | None, typer.Argument(help="事件文本 event text")] = None,
    reporter_grid: Annotated[
        str | None, typer.Option("--reporter-grid", help="Reporter's grid/village code.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    input: Annotated[
        Path | None,
        typer.Option("--input", help='JSONL of {"id","text", optional "reporter_grid"}.'),
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", help="JSONL of routing decisions.")
    ] = None,
) -> None:
    """Classify an event, find its place, and decide the owning tier and units, with reasons."""
    _check_single_or_batch(text, input, output, "事件文本 event text")
    # Consultations carry the policy answer, so the bundled index must be ready.
    services = _services(quiet=as_json or output is not None)
    if input is not None and output is not None:

        def route_row(row: dict) -> dict:
            if not isinstance(row.get("text"), str):
                raise ValueError('expected an object with a string "text"')
            grid = row.get("reporter_grid")
            return services.route(
                row["text"], grid if isinstance(grid, str) else None, row.get("id")
            ).model_dump(
                exclude={
                    "top3",
                    "legal_basis",
                    "place_code",
                    "place_confidence",
                    "event_name",
                    "deadline_hours",
                }
            )

        raise typer.Exit(1 if _run_jsonl(input, output, route_row, key="text") else 0)
    decision = services.route(text or "", reporter_grid)
    if as_json:
        sys.stdout.write(decision.model_dump_json(indent=2) + "\n")
        return
    print_route(decision)


@app.command()
def dispose(
    text: Annotated[str | None, typer.Argument(help="事件文本 event text")] = None,
    reporter_grid: Annotated[
        str | None, typer.Option("--reporter-grid", help="Reporter's grid/village code.")
    ] = None,
    reporter: Annotated[str, typer.Option("--reporter", help="Who reports (audit).")] = "cli",
    key: Annotated[
        str | None, typer.Option("--key", help="Idempotency key; default: hash of the text.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    input: Annotated[
        Path | None,
        typer.Option("--input", help='JSONL of {"id","text", optional "reporter_grid"}.'),
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", help="JSONL of dispositions, each with its id.")
    ] = None,
) -> None:
    """Route an event, draft its disposition and file a work order waiting for approval."""
    from copilot.dispositions.summary import summarise

    _check_single_or_batch(text, input, output, "事件文本 event text")
    services = _services(quiet=as_json or output is not None)

    def submit(body: str, grid: str | None, idem: str | None) -> dict:
        key_of = idem or "cli-" + hashlib.sha256(f"{grid}|{body}".encode()).hexdigest()[:32]
        done = services.submit_event(body, reporter, key_of, grid)
        return summarise(done).model_dump(mode="json")

    if input is not None and output is not None:

        def dispose_row(row: dict) -> dict:
            grid = row.get("reporter_grid")
            rid = row.get("id")
            idem = f"{input.name}:{rid}" if rid is not None else None
            return {"id": rid, **submit(row["text"], grid if isinstance(grid, str) else None, idem)}

        raise typer.Exit(1 if _run_jsonl(input, output, dispose_row, key="text") else 0)
    result = submit(text or "", reporter_grid, key)
    if as_json:
        sys.stdout.write(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
        return
    print_disposition(result)


def print_disposition(d: dict) -> None:
    """The draft as an approver reads it (Chinese), with the pending order number."""
    if d["order_id"] is None:
        out.print(f"无需派单（{d['message_type']}）。", highlight=False)
        return
    draft = d["draft"] or {}
    out.print(f"处置建议（草稿）— 工单 {d['order_id']}，待审批", highlight=False)
    for section in ("事件概述", "事件定性", "责任单位", "办理时限"):
        out.print(f"{section}：{escape(str(draft.get(section, '')))}", highlight=False)
    if draft.get("协同单位"):
        out.print(f"协同单位：{escape('、'.join(draft['协同单位']))}", highlight=False)
    out.print("处置措施：", highlight=False)
    for step in draft.get("处置措施", []):
        out.print(f"  {escape(step)}", highlight=False, soft_wrap=True)
    for b in draft.get("处置依据", []):
        out.print(
            escape(f"依据《{b['doc_title']}》{b['article'] or ''}：“{b['quote']}”"),
            highlight=False,
            soft_wrap=True,
        )
    for reason in d["reasons"]:
        out.print(f"  · {escape(reason)}", highlight=False, style="dim")
    if d["similar_orders"]:
        out.print(f"相似工单：{'、'.join(d['similar_orders'])}", highlight=False)
    if d["fallbacks"]:
        out.print(f"[yellow]模型未采用：{escape('；'.join(d['fallbacks']))}[/yellow]")
    out.print(
        f"审批：copilot orders approve {d['order_id']}（或 return/reject --comment 意见）"
        f" · 追踪 copilot trace {d['trace_id']}",
        highlight=False,
        style="dim",
    )


@app.command()
def trace(
    trace_id: Annotated[str, typer.Argument(help="Trace id printed by dispose.")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Show a disposition run: each step with its time, tool calls and notes."""
    from copilot.dispositions.traces import TraceNotFound

    services = _services(quiet=True)
    try:
        t = services.trace(trace_id)
    except TraceNotFound:
        err.print(f"[red]没有这个追踪 no such trace[/red] {escape(trace_id)}")
        raise typer.Exit(1) from None
    if as_json:
        sys.stdout.write(t.model_dump_json(indent=2) + "\n")
        return
    from rich.table import Table

    table = Table(title=f"trace {t.trace_id} · {escape(t.thread_id)}")
    for col in ("step", "ms", "tool calls", "note"):
        table.add_column(col, overflow="fold")
    for s in t.steps:
        calls = "; ".join(
            f"{c.name}{'' if c.ok else ' ✗'} {escape(c.summary[:60])}".strip() for c in s.tool_calls
        )
        table.add_row(s.node, f"{s.ms:.1f}", calls, escape(s.note))
    out.print(table)


@app.command()
def serve(
    host: Annotated[str, typer.Option("--host", help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535)] = 8000,
    workers: Annotated[
        int, typer.Option("--event-workers", min=0, max=32, help="In-process event workers.")
    ] = 2,
) -> None:
    """Serve the HTTP API (OpenAPI at /docs); users sign in with `copilot users add` tokens."""
    import uvicorn

    from copilot.api.app import create_app
    from copilot.api.logs import configure_json_logs

    configure_json_logs()
    out.print(f"API: http://{host}:{port}/docs  (tokens: copilot users add …)", highlight=False)
    uvicorn.run(create_app(workers=workers), host=host, port=port, log_config=None)


@app.command()
def shell() -> None:
    """交互式问答 Interactive session: policy and indicator questions, event routing; 帮助 for examples."""
    from copilot.shell import run_shell

    services = _services()
    try:
        run_shell(services, out)
    finally:
        services.close()


if __name__ == "__main__":  # pragma: no cover
    app()
