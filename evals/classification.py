"""Classification figures shared by the suites: accuracy, per-class precision/recall/F1,
macro-F1 and confusion matrices."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from evals.results import Confusion

# Many-class fields (event types, departments) keep their most frequent labels in the
# matrix; the rest are folded into one row and column.
MAX_CONFUSION_LABELS = 20
OTHER = "(其他)"


def per_class(
    gold: Sequence[str | None], pred: Sequence[str | None]
) -> dict[str, dict[str, float]]:
    """label → n, precision, recall, F1 over the gold labels (a None gold is not scored)."""
    out: dict[str, dict[str, float]] = {}
    pairs = [(g, p) for g, p in zip(gold, pred, strict=True) if g is not None]
    for label in sorted({g for g, _ in pairs}):
        tp = sum(1 for g, p in pairs if g == label and p == label)
        fp = sum(1 for g, p in pairs if g != label and p == label)
        fn = sum(1 for g, p in pairs if g == label and p != label)
        prec = tp / (tp + fp) if tp + fp else 0.0
        rec = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
        out[label] = {
            "n": tp + fn,
            "precision": round(prec, 4),
            "recall": round(rec, 4),
            "f1": round(f1, 4),
        }
    return out


def accuracy(gold: Sequence[str | None], pred: Sequence[str | None]) -> float:
    pairs = [(g, p) for g, p in zip(gold, pred, strict=True) if g is not None]
    return round(sum(g == p for g, p in pairs) / len(pairs), 4) if pairs else 0.0


def macro_f1(classes: dict[str, dict[str, float]]) -> float:
    return round(sum(c["f1"] for c in classes.values()) / len(classes), 4) if classes else 0.0


def confusion(field: str, gold: Sequence[str | None], pred: Sequence[str | None]) -> Confusion:
    pairs = [(g, p or "(无)") for g, p in zip(gold, pred, strict=True) if g is not None]
    counts = Counter(g for g, _ in pairs) + Counter(p for _, p in pairs)
    keep = [label for label, _ in counts.most_common(MAX_CONFUSION_LABELS)]
    labels = sorted(keep) + ([OTHER] if len(counts) > len(keep) else [])
    index = {label: i for i, label in enumerate(labels)}
    matrix = [[0] * len(labels) for _ in labels]
    for g, p in pairs:
        matrix[index.get(g, index.get(OTHER, 0))][index.get(p, index.get(OTHER, 0))] += 1
    return Confusion(field=field, labels=labels, matrix=matrix)
