"""Routing figures on a labelled event set: ``python -m evals.routing [--dataset FILE]``.

Prints accuracy for is_event, board, event type, urgency, tier and department, then
per-class precision/recall for board and tier, and writes the failures to stdout last.
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

from pydantic import BaseModel
from rich.console import Console
from rich.table import Table

from copilot.events.router import RouteDecision
from evals.datasets import DATASETS_DIR, load_jsonl

FIELDS = ("message_type", "board", "event_type", "urgency", "tier", "department")


def _owner_or_department(case: dict, pred: RouteDecision) -> bool:
    """The owning unit named in the case, or else the line department, matches."""
    if case.get("owner_unit") and pred.owner_unit == case["owner_unit"]:
        return True
    return pred.department == case.get("department")


class RoutingScores(BaseModel):
    n: int
    events: int
    non_events: int
    accuracy: dict[str, float]
    non_event_recall: float
    per_class: dict[str, dict[str, dict[str, float]]]
    seconds_per_event: float
    failures: list[dict] = []


def _per_class(gold: list[str | None], pred: list[str | None]) -> dict[str, dict[str, float]]:
    out = {}
    for label in sorted({g for g in gold if g}):
        tp = sum(1 for g, p in zip(gold, pred, strict=True) if g == label and p == label)
        fp = sum(1 for g, p in zip(gold, pred, strict=True) if g != label and p == label)
        fn = sum(1 for g, p in zip(gold, pred, strict=True) if g == label and p != label)
        prec = tp / (tp + fp) if tp + fp else 0.0
        rec = tp / (tp + fn) if tp + fn else 0.0
        out[label] = {"n": tp + fn, "precision": round(prec, 3), "recall": round(rec, 3)}
    return out


def score_routing(cases: Sequence[dict], route: Callable[[dict], RouteDecision]) -> RoutingScores:
    started = time.perf_counter()
    preds = [route(c) for c in cases]
    seconds = (time.perf_counter() - started) / max(len(cases), 1)
    events = [(c, p) for c, p in zip(cases, preds, strict=True) if c["is_event"]]
    non_events = [(c, p) for c, p in zip(cases, preds, strict=True) if not c["is_event"]]
    acc = {
        "is_event": sum(c["is_event"] == p.is_event for c, p in zip(cases, preds, strict=True))
        / len(cases)
    }
    failures = []
    for f in FIELDS:
        # A case that leaves a field empty (a consultation with no catalogue type) is not
        # scored on it.
        scored = [(c, p) for c, p in events if c.get(f) is not None]
        acc[f] = sum(getattr(p, f) == c[f] for c, p in scored) / max(len(scored), 1)
    scored = [(c, p) for c, p in events if c.get("department") is not None]
    acc["owner_or_department"] = sum(_owner_or_department(c, p) for c, p in scored) / max(
        len(scored), 1
    )
    for c, p in zip(cases, preds, strict=True):
        wrong = (
            [f for f in ("is_event", *FIELDS) if c.get(f) is not None and c.get(f) != getattr(p, f)]
            if c["is_event"]
            else (["is_event"] if p.is_event else [])
        )
        if wrong:
            failures.append(
                {
                    "id": c["id"],
                    "text": c["text"][:80],
                    "wrong": {f: [c.get(f), getattr(p, f)] for f in wrong},
                }
            )
    per_class = {
        f: _per_class([c.get(f) for c, _ in events], [getattr(p, f) for _, p in events])
        for f in ("board", "tier", "message_type")
    }
    return RoutingScores(
        n=len(cases),
        events=len(events),
        non_events=len(non_events),
        accuracy={k: round(v, 4) for k, v in acc.items()},
        non_event_recall=round(
            sum(not p.is_event for _, p in non_events) / max(len(non_events), 1), 4
        ),
        per_class=per_class,
        seconds_per_event=round(seconds, 4),
        failures=failures,
    )


def main() -> None:
    from copilot.services import build_services
    from copilot.settings import Settings

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dataset", type=Path, default=DATASETS_DIR / "events_dev.jsonl")
    parser.add_argument("--failures", action="store_true", help="List every failure.")
    args = parser.parse_args()
    services = build_services(Settings(), with_llm=False)
    cases = load_jsonl(args.dataset)
    scores = score_routing(
        cases,
        lambda c: services.route(
            c["text"], c.get("reporter_grid"), c["id"], answer_consultations=False
        ),
    )
    console = Console()
    table = Table(
        title=f"routing on {args.dataset.name}: {scores.events} events, {scores.non_events} non-events"
    )
    table.add_column("figure")
    table.add_column("value")
    for k, v in scores.accuracy.items():
        table.add_row(f"{k} accuracy", f"{v:.3f}")
    table.add_row("non-event recall", f"{scores.non_event_recall:.3f}")
    table.add_row("ms per event", f"{scores.seconds_per_event * 1000:.1f}")
    console.print(table)
    for field, classes in scores.per_class.items():
        t = Table(title=f"per-class {field}")
        for col in ("class", "n", "precision", "recall"):
            t.add_column(col)
        for label, m in classes.items():
            t.add_row(label, str(m["n"]), f"{m['precision']:.3f}", f"{m['recall']:.3f}")
        console.print(t)
    counts = Counter(f for fail in scores.failures for f in fail["wrong"])
    console.print(f"failures by field: {dict(counts)}")
    if args.failures:
        for fail in scores.failures:
            console.print(fail)


if __name__ == "__main__":
    main()
