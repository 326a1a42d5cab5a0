"""``copilot eval SUITE… [--dataset FILE] --report DIR``: the eval runner's command line.

Loaded only when invoked (see ``copilot.cli``). Exit status: 0, 1 when a ``--fail-under``
gate fails, 2 for a request that cannot run (unknown suite, unreadable dataset).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from copilot.cli.common import err, out

eval_app = typer.Typer(help="评测 eval: score suites, write reports, gate on figures.")


def _split(value: str | None) -> list[str] | None:
    return [v.strip() for v in value.split(",") if v.strip()] if value else None


@eval_app.command("eval")
def evaluate(
    suites: Annotated[
        list[str], typer.Argument(help="retrieval | answer | routing | disposition | all")
    ],
    dataset: Annotated[
        list[Path] | None,
        typer.Option(
            "--dataset", help="JSONL for any suite, or CSV for routing (repeatable; docs/evals.md)."
        ),
    ] = None,
    report: Annotated[
        Path | None,
        typer.Option("--report", help="Folder for report.json/.md/.html and the item cache."),
    ] = None,
    configs: Annotated[
        str | None, typer.Option("--configs", help="Retrieval: bm25,dense,hybrid,hybrid+rerank.")
    ] = None,
    backends: Annotated[
        str, typer.Option("--backends", help="LLM backends for answer/routing/disposition.")
    ] = "none",
    fail_under: Annotated[
        list[str] | None,
        typer.Option(
            "--fail-under",
            help="Gate: SUITE.METRIC=VALUE or SUITE[CONFIG].METRIC=VALUE (repeatable).",
        ),
    ] = None,
    text_column: Annotated[
        list[str] | None, typer.Option("--text-column", help="CSV: text column(s).")
    ] = None,
    label_column: Annotated[str | None, typer.Option("--label-column", help="CSV: label.")] = None,
    label_map: Annotated[
        Path | None, typer.Option("--label-map", help="CSV: label → department(s), JSON or CSV.")
    ] = None,
    id_column: Annotated[str | None, typer.Option("--id-column", help="CSV: row id.")] = None,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="First N cases.")] = None,
    resume: Annotated[
        bool, typer.Option("--resume/--no-resume", help="Reuse items cached in --report.")
    ] = True,
) -> None:
    """Score suites on the bundled development sets (or --dataset) and write the reports."""
    from copilot.settings import Settings
    from evals.external import CsvSource
    from evals.runner import EvalError, EvalRequest, parse_gate, run_eval

    try:
        csv = None
        if text_column or label_column or label_map:
            if not (text_column and label_column and label_map):
                raise EvalError("a CSV needs --text-column, --label-column and --label-map")
            csv = CsvSource(
                text_columns=text_column,
                label_column=label_column,
                label_map=label_map,
                id_column=id_column,
            )
        request = EvalRequest(
            suites=suites,
            datasets=dataset or [],
            csv=csv,
            configs=_split(configs),
            backends=_split(backends) or ["none"],
            report_dir=report,
            gates=[parse_gate(g) for g in fail_under or []],
            limit=limit,
            resume=resume,
        )
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[cached]} cached"),
            TimeElapsedColumn(),
            console=err,
            transient=False,
        ) as bars:
            tasks: dict[tuple[str, str], int] = {}

            def tick(suite: str, config: str, done: int, total: int, hit: bool) -> None:
                key = (suite, config)
                if key not in tasks:
                    tasks[key] = bars.add_task(escape(f"{suite} [{config}]"), total=total, cached=0)
                task = bars.tasks[tasks[key]]
                bars.update(tasks[key], completed=done, cached=task.fields["cached"] + hit)

            result = run_eval(request, Settings(), tick)
    except (EvalError, ValueError, OSError) as exc:
        err.print(f"[red]{escape(str(exc))}[/red]")
        raise typer.Exit(2) from exc
    _print(result)
    if report is not None:
        out.print(f"报告 report: {escape(str(report))}/report.html (.md, .json)", highlight=False)
    if not result.passed:
        raise typer.Exit(1)


def _print(result) -> None:
    for s in result.suites:
        table = Table(
            title=escape(f"{s.suite} [{s.config}] — {s.dataset}, n={s.n}, {s.seconds:g} s")
        )
        table.add_column("metric")
        table.add_column("value", justify="right")
        for k, v in s.metrics.items():
            table.add_row(k, f"{v:.4f}")
        for lat in s.latency:
            table.add_row(f"{lat.stage} p50 / p95 ms", f"{lat.p50_ms:g} / {lat.p95_ms:g}")
        table.add_row("failures", str(len(s.failures)))
        out.print(table)
        for note in s.notes:
            out.print(f"  {escape(note)}", highlight=False)
    for g in result.gates:
        mark = "[green]PASS[/green]" if g.passed else "[red]FAIL[/red]"
        value = "missing" if g.value is None else f"{g.value:.4f}"
        out.print(f"gate {escape(g.metric)} ≥ {g.threshold:g}: {value} {mark}", highlight=False)
