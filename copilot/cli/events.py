"""``copilot route``, ``dispose`` and ``trace``: citizens' messages to work orders."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from copilot.cli.common import (
    answering_services,
    check_single_or_batch,
    err,
    out,
    run_jsonl,
    write_json,
)
from copilot.input_limits import EVENT_CHARS
from copilot.terminal import print_route

EventText = Annotated[str | None, typer.Argument(help="事件文本 event text")]
ReporterGrid = Annotated[
    str | None, typer.Option("--reporter-grid", help="Reporter's grid/village code.")
]
AsJson = Annotated[bool, typer.Option("--json")]
EventsInput = Annotated[
    Path | None,
    typer.Option("--input", help='JSONL of {"id","text", optional "reporter_grid"}.'),
]


def route(
    text: EventText = None,
    reporter_grid: ReporterGrid = None,
    as_json: AsJson = False,
    input: EventsInput = None,
    output: Annotated[
        Path | None, typer.Option("--output", help="JSONL of routing decisions.")
    ] = None,
) -> None:
    """Classify an event, find its place, and decide the owning tier and units, with reasons."""
    check_single_or_batch(text, input, output, "事件文本 event text", EVENT_CHARS)
    # Consultations carry the policy answer, so the bundled index must be ready.
    with answering_services(quiet=as_json or output is not None) as services:
        if input is not None and output is not None:

            def route_row(row: dict) -> dict:
                if not isinstance(row.get("text"), str):
                    raise ValueError('expected an object with a string "text"')
                grid = row.get("reporter_grid")
                grid = grid if isinstance(grid, str) else None
                return services.route(row["text"], grid, row.get("id")).public()

            raise typer.Exit(
                1 if run_jsonl(input, output, route_row, key="text", max_chars=EVENT_CHARS) else 0
            )
        decision = services.route(text or "", reporter_grid)
    if as_json:
        sys.stdout.write(decision.model_dump_json(indent=2) + "\n")
        return
    print_route(decision)


def dispose(
    text: EventText = None,
    reporter_grid: ReporterGrid = None,
    reporter: Annotated[str, typer.Option("--reporter", help="Who reports (audit).")] = "cli",
    key: Annotated[
        str | None, typer.Option("--key", help="Idempotency key; default: hash of the text.")
    ] = None,
    as_json: AsJson = False,
    input: EventsInput = None,
    output: Annotated[
        Path | None, typer.Option("--output", help="JSONL of dispositions, each with its id.")
    ] = None,
) -> None:
    """Route an event, draft its disposition and file a work order waiting for approval."""
    check_single_or_batch(text, input, output, "事件文本 event text", EVENT_CHARS)
    with answering_services(quiet=as_json or output is not None) as services:
        if input is not None and output is not None:
            from copilot.services import batch_event_key

            def dispose_row(row: dict) -> dict:
                grid = row.get("reporter_grid")
                grid = grid if isinstance(grid, str) else None
                rid = row.get("id")
                idem = batch_event_key(input.name, rid)
                return {"id": rid, **services.dispose(row["text"], reporter, idem, grid)}

            raise typer.Exit(
                1 if run_jsonl(input, output, dispose_row, key="text", max_chars=EVENT_CHARS) else 0
            )
        result = services.dispose(text or "", reporter, key, reporter_grid)
    if as_json:
        write_json(result)
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


def trace(
    trace_id: Annotated[str, typer.Argument(help="Trace id printed by dispose.")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Show a disposition run: each step with its time, tool calls and notes."""
    from copilot.dispositions.traces import TraceNotFound

    with answering_services(quiet=True) as services:
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
        table.add_row(escape(s.node), f"{s.ms:.1f}", calls, escape(s.note))
    out.print(table)


def register(app: typer.Typer) -> None:
    app.command()(route)
    app.command()(dispose)
    app.command()(trace)
