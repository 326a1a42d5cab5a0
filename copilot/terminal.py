"""Terminal output shared by the one-shot commands and the interactive shell.

Only rich is imported here, so ``copilot --help`` stays fast; the types of what is
printed are imported for the type checker alone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Console
from rich.markup import escape

if TYPE_CHECKING:
    from collections.abc import Iterator

    from copilot.answers.models import AnswerEvent
    from copilot.events.router import RouteDecision

err = Console(stderr=True)
out = Console()


def print_answer_stream(events: Iterator[AnswerEvent], console: Console = out) -> None:
    """Print an answer's events (``Services.ask_stream``) as they come, then its citations
    and trace line.

    A ``KeyboardInterrupt`` while the answer is being produced propagates to the caller
    (the shell cancels that answer); the answer's generator is closed either way.
    """
    final = None
    try:
        for event in events:
            if event.type == "delta":
                # soft_wrap: the terminal wraps; rich must not break a quote with newlines.
                console.print(event.text, end="", markup=False, highlight=False, soft_wrap=True)
            else:
                final = event.answer
    finally:
        close = getattr(events, "close", None)
        if close is not None:
            close()
    console.print()
    if final is None:
        return
    if final.citations and not final.refused:
        console.print("[dim]引用 citations:[/dim]")
        for i, c in enumerate(final.citations, 1):
            # Titles come from ingested files: "[/b]" in one must print, not parse.
            where = escape(f"《{c.doc_title}》{c.article or ''}{c.unit or ''}  ({c.chunk_id})")
            console.print(
                f"[dim]  \\[{i}] {where}[/dim]",
                highlight=False,
                soft_wrap=True,
            )
    console.print(
        f"[dim]trace {final.trace_id} · {final.backend} · {final.seconds * 1000:.0f} ms[/dim]"
    )


def print_route(decision: RouteDecision, console: Console = out) -> None:
    """One routing decision in a few readable lines, with its reasons."""
    if not decision.is_event:
        console.print(f"非事件 not an event: {escape('；'.join(decision.reasons))}")
        return
    console.print(
        escape(f"{decision.board} / {decision.event_name}").join(("[bold]", "[/bold]"))
        + escape(
            f" · {decision.message_type} · {decision.urgency} · {decision.tier} → "
            f"{decision.owner_unit}"
        )
    )
    for r in decision.reasons:
        console.print(f"  - {r}", markup=False, soft_wrap=True)
    if decision.answer is not None:
        console.print(f"[bold]政策答复[/bold]：{escape(decision.answer.answer)}", soft_wrap=True)
