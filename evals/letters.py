"""Routing figures on real citizen letters: ``python -m evals.letters``.

Two figures the issue asks for, on the Teddy Cup letters in ``data/complaints``:

- **class through the department**: whole letters of one held-out fold are routed by
  the full router, with a letter model trained without them (same grouped folds as
  ``copilot.events.letter_training``); the routed department is mapped to the letter's
  first-level class (``CLASS_OF_DEPARTMENT``; a department that serves several classes,
  such as 文化旅游委, falls back to the event type's ``hotline_class``) and compared
  with the label;
- **never a non-event**: the share of ``teddy2020_unlabelled.csv`` letters routed as an
  event (message type other than 非事件).
"""

from __future__ import annotations

import argparse
import csv
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

from pydantic import BaseModel

from copilot.events.router import EventRouter, RouteDecision
from copilot.settings import BUNDLED_DATA_DIR

UNLABELLED_FILE = BUNDLED_DATA_DIR / "complaints" / "teddy2020_unlabelled.csv"

# How a 12345 centre files the line departments of the catalogue under the seven classes.
CLASS_OF_DEPARTMENT = {
    "城市管理局": "城乡建设",
    "住房城乡建设委": "城乡建设",
    "规划自然资源局": "城乡建设",
    "应急管理局": "城乡建设",
    "消防救援支队": "城乡建设",
    "经济信息委": "城乡建设",
    "人力社保局": "劳动和社会保障",
    "教委": "教育文体",
    "商务委": "商贸旅游",
    "市场监管局": "商贸旅游",
    "生态环境局": "环境保护",
    "卫生健康委": "卫生计生",
    "交通局": "交通运输",
}


def class_of(decision: RouteDecision) -> str | None:
    """The letter class a routed decision implies, through its department."""
    if not decision.is_event:
        return None
    return CLASS_OF_DEPARTMENT.get(decision.department or "", decision.hotline_class)


class LetterRouting(BaseModel):
    letters: int
    accuracy: float
    per_class_recall: dict[str, float]
    non_events: int
    seconds_per_letter: float
    confusions: dict[str, int]


def score_letters(
    texts: Sequence[str], labels: Sequence[str], route: Callable[[str], RouteDecision]
) -> LetterRouting:
    started = time.perf_counter()
    decisions = [route(t) for t in texts]
    seconds = (time.perf_counter() - started) / max(len(texts), 1)
    got = [class_of(d) for d in decisions]
    hits = [g == y for g, y in zip(got, labels, strict=True)]
    recall = {
        c: round(sum(h for h, y in zip(hits, labels, strict=True) if y == c) / labels.count(c), 3)
        for c in sorted(set(labels))
    }
    confusions = Counter(f"{y}→{g}" for g, y in zip(got, labels, strict=True) if g != y)
    return LetterRouting(
        letters=len(texts),
        accuracy=round(sum(hits) / max(len(hits), 1), 4),
        per_class_recall=recall,
        non_events=sum(not d.is_event for d in decisions),
        seconds_per_letter=round(seconds, 4),
        confusions=dict(confusions.most_common(12)),
    )


def score_held_out_fold(router: EventRouter, fold: int, limit: int = 0) -> LetterRouting:
    """Route the whole letters of ``fold`` with a letter model trained without them.

    The router's shipped letter model is put back afterwards; the fold model keeps its
    softmax temperature, so only what the model has read changes.
    """
    from copilot.events import letter_training as lt

    rows = lt.load_rows()
    validation = lt.fold_indices(rows.full_labels)[fold]
    if limit:
        validation = validation[:limit]
    texts, labels = lt.fold_training_set(rows, validation)
    shipped = router.classifier.letters
    fold_model = lt.fit(texts, labels)
    fold_model.temperature = shipped.temperature if shipped else fold_model.temperature
    router.classifier.letters = fold_model
    try:
        return score_letters(
            [rows.full_texts[i] for i in validation],
            [rows.full_labels[i] for i in validation],
            lambda t: router.route(t),
        )
    finally:
        router.classifier.letters = shipped


def unlabelled_letters(path: Path = UNLABELLED_FILE) -> list[str]:
    from copilot.events.letter_training import letter_text

    with path.open(encoding="utf-8", newline="") as f:
        return [letter_text(r["subject"], r["body"]) for r in csv.DictReader(f)]


def main(argv: Sequence[str] | None = None) -> int:
    from rich.console import Console

    from copilot.services import build_services
    from copilot.settings import Settings

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fold", type=int, default=1, help="held-out fold (0–4)")
    parser.add_argument("--limit", type=int, default=0, help="route only the first N letters")
    args = parser.parse_args(argv)
    console = Console()
    services = build_services(Settings(), with_llm=False)
    router = services.router
    scores = score_held_out_fold(router, args.fold, args.limit)
    console.print(
        f"held-out fold {args.fold}: {scores.letters} whole letters, class through the "
        f"department [bold]{scores.accuracy:.3f}[/], non-events {scores.non_events}, "
        f"{scores.seconds_per_letter * 1000:.0f} ms/letter"
    )
    console.print(f"recall per class: {scores.per_class_recall}")
    console.print(f"most frequent confusions: {scores.confusions}")
    unl = unlabelled_letters()
    mt = router.classifier.message_types
    events = sum(mt.classify(t).message_type != "非事件" for t in unl) if mt else len(unl)
    console.print(
        f"unlabelled letters routed as events: {events}/{len(unl)} = {events / len(unl):.4f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
