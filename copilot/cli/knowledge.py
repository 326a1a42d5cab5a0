"""``copilot ingest``, ``docs list|remove``, ``search`` and ``ask``: the regulations."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from copilot.cli.common import (
    answering_services,
    check_single_or_batch,
    err,
    knowledge_services,
    out,
    progress_bar,
    quiet_library_warnings,
    run_jsonl,
    write_json,
)
from copilot.input_limits import QUESTION_CHARS
from copilot.terminal import print_answer_stream

if TYPE_CHECKING:
    from retrievers.models import Hit, IngestReport

docs_app = typer.Typer(help="Manage ingested documents.", no_args_is_help=True)


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
    for s in report.warnings:
        out.print(
            f"  [yellow]部分导入 partly ingested[/yellow] {escape(s.path)}: {escape(s.reason)}",
            soft_wrap=True,
        )
    for path in report.resumed:
        out.print(f"  续传 resumed an interrupted ingest of {escape(path)}", soft_wrap=True)


def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders to ingest.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Add or update documents; unchanged files are skipped by content hash.

    Exits 1 when nothing could be ingested (every file skipped or not found).
    """
    with (
        knowledge_services() as services,
        progress_bar(not as_json) as cb,
        quiet_library_warnings(),
    ):
        report = services.ingest(paths, progress=cb)
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
    with knowledge_services() as services:
        docs = services.documents()
    if as_json:
        out.print_json(json.dumps([d.model_dump() for d in docs], ensure_ascii=False))
        return
    from rich.table import Table

    table = Table("doc_id", "标题 title", "格式", "chunks", "应用系统", "ingested_at")
    for d in docs:
        # Titles come from the files themselves: "[/b]" in one must print, not parse.
        table.add_row(
            escape(d.doc_id),
            escape(d.title),
            escape(d.format),
            str(d.n_chunks),
            escape(str(d.metadata.get("system", ""))),
            escape(d.ingested_at),
        )
    out.print(table)
    out.print(f"{len(docs)} documents")


@docs_app.command("remove")
def docs_remove(key: Annotated[str, typer.Argument(help="doc_id, path or exact title.")]) -> None:
    """Remove a document and its chunks from every index."""
    with knowledge_services() as services:
        removed = services.remove_document(key)
    if not removed:
        err.print(f"[red]未找到文档 no document matches[/red] {escape(repr(key))}")
        raise typer.Exit(1)
    for d in removed:
        out.print(f"已移除 removed {escape(d.doc_id)} {escape(d.title)}")


@docs_app.command("check")
def docs_check(
    repair: Annotated[
        bool, typer.Option("--repair", help="Make catalogue, vectors and BM25 agree.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Compare the catalogue with the vector stores and the BM25 index.

    Exits 1 when they disagree and --repair was not given.
    """
    with knowledge_services() as services:
        result = services.check_index(repair=repair)
    if as_json:
        out.print_json(result.model_dump_json())
    else:
        out.print(
            f"文档 documents {result.documents}, 分块 chunks {result.chunks}, "
            f"待续传 staged files {result.staged_files}, "
            f"BM25 {'过期 stale' if result.keyword_stale else '正常 current'}"
        )
        for name, n in result.vectors.items():
            out.print(
                f"  {name}: vectors {n}, orphan {result.orphan_vectors[name]}, "
                f"missing {result.missing_vectors[name]}, stale {result.stale_vectors[name]}"
            )
        if result.abandoned_staging:
            out.print(f"  abandoned staging (file gone or changed): {result.abandoned_staging}")
        if result.ok:
            out.print("[green]一致 consistent[/green]")
        elif repair:
            out.print("[green]已修复 repaired[/green]")
        else:
            err.print("[red]不一致 inconsistent[/red]: run `copilot docs check --repair`")
    if not (result.ok or repair):
        raise typer.Exit(1)


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
        out.print(f"[bold]{i}. {escape(where)}[/bold]  [dim]score {h.score:.3f}[/dim]")
        out.print(f"   {h.text[:200]}{'…' if len(h.text) > 200 else ''}", markup=False)


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
        err.print(
            f"[red]未知模式 unknown mode[/red] {escape(repr(mode))}: use hybrid, bm25 or dense"
        )
        raise typer.Exit(2)
    check_single_or_batch(question, input, output, "问题 question", QUESTION_CHARS)
    from retrievers.models import SearchFilters

    filters = SearchFilters(doc_title=doc, chapter=chapter, system=system)
    with knowledge_services(first_run=True, quiet=as_json) as services:
        if input is not None and output is not None:

            def search_row(row: dict) -> dict:
                hits = services.search(row["question"], top_k, mode, filters)  # type: ignore[arg-type]
                return {"id": row.get("id"), "hits": [_hit_json(h) for h in hits]}

            raise typer.Exit(1 if run_jsonl(input, output, search_row) else 0)
        hits = services.search(question or "", top_k, mode, filters)  # type: ignore[arg-type]
    if as_json:
        write_json([_hit_json(h) for h in hits])
    else:
        _print_hits(hits)


def ask(
    question: Annotated[str | None, typer.Argument(help="问题 question")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    input: Annotated[
        Path | None, typer.Option("--input", help='JSONL of {"id","question"}.')
    ] = None,
    output: Annotated[Path | None, typer.Option("--output", help="JSONL of answers.")] = None,
) -> None:
    """Answer a question with citations (or refuse); batch with --input/--output."""
    check_single_or_batch(question, input, output, "问题 question", QUESTION_CHARS)
    with answering_services(quiet=as_json) as services:
        if input is not None and output is not None:

            def answer_row(row: dict) -> dict:
                return {"id": row.get("id"), **services.ask(row["question"]).public()}

            raise typer.Exit(1 if run_jsonl(input, output, answer_row) else 0)
        if as_json:
            write_json(services.ask(question or "").public())
            return
        print_answer_stream(services.ask_stream(question or ""))


def register(app: typer.Typer) -> None:
    """ingest, search and ask on the top level; docs as a group."""
    app.add_typer(docs_app, name="docs")
    app.command()(ingest)
    app.command()(search)
    app.command()(ask)
