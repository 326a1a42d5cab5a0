"""Train and validate the letter classifier on real citizen letters (needs scikit-learn).

``python -m copilot.events.letter_training`` runs grouped 5-fold cross-validation on the
whole messages (the ``fields == full`` rows), prints accuracy, macro-F1 and a per-class
table, then fits on every row and writes ``data/models/letter_classifier.npz``. Seeded:
two runs give the same folds, figures and weights.

Why grouped: the training file also holds subject-only and body-only rows, some of which
are halves of a full message. A validation letter whose subject or body sits in the
training rows would be graded on something the model has read, so every row linked to a
validation letter (same subject, or a body sharing its first or last 20 characters) is
kept out of that fold's training data.

The letters cover seven classes only; events about public order, disputes, civil affairs
or rural matters are none of them. So the catalogue's own names, keywords and examples of
the types filed under other classes are added as an eighth class, ``其他``: the model
can then say "none of the seven" instead of forcing a dispute into 城乡建设. Validation
still counts a ``其他`` answer on a real letter as wrong.
"""

from __future__ import annotations

import argparse
import csv
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from pydantic import BaseModel

from copilot.catalogue import Catalogue
from copilot.events.letters import OTHER_CLASS, LetterClassifier, char_ngrams
from copilot.settings import BUNDLED_DATA_DIR

TRAIN_FILE = BUNDLED_DATA_DIR / "complaints" / "teddy2020_train.csv"
CATALOGUE_FILE = BUNDLED_DATA_DIR / "catalogue" / "event_types.json"
MODEL_FILE = BUNDLED_DATA_DIR / "models" / "letter_classifier.npz"
SEED = 0
MAX_FEATURES = 100_000
SVM_C = 0.5
_WS = re.compile(r"\s+")


@dataclass
class LetterRows:
    """Whole letters (validated on) and partial rows (training only), with their links."""

    full_texts: list[str]
    full_labels: list[str]
    rest_texts: list[str]
    rest_labels: list[str]
    rest_link: list[int] = field(default_factory=list)  # index of the full letter, or -1
    other_texts: list[str] = field(default_factory=list)  # catalogue text outside the classes


def _compact(value: str | None) -> str:
    return _WS.sub("", value or "")


def letter_text(subject: str | None, body: str | None) -> str:
    """Subject and body as one message, the way the router sees a letter."""
    subject, body = (subject or "").strip(), (body or "").strip()
    return f"{subject}\n{body}" if subject and body else subject or body


def other_class_texts(catalogue: Catalogue, classes: set[str]) -> list[str]:
    """Names, keyword lists and examples of the types filed under none of ``classes``."""
    texts: list[str] = []
    for t in catalogue.types:
        if t.hotline_class not in classes:
            texts += [t.name, " ".join(t.keywords), *t.examples]
    return texts


def load_rows(path: Path = TRAIN_FILE, catalogue_path: Path = CATALOGUE_FILE) -> LetterRows:
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    full = [r for r in rows if r["fields"] == "full"]
    rest = [r for r in rows if r["fields"] != "full"]
    by_subject = {_compact(r["subject"]): i for i, r in enumerate(full)}
    by_head = {}
    by_tail = {}
    for i, r in enumerate(full):
        body = _compact(r["body"])
        if len(body) >= 20:
            by_head[body[:20]] = i
            by_tail[body[-20:]] = i
    links = []
    for r in rest:
        if r["fields"] == "subject_only":
            links.append(by_subject.get(_compact(r["subject"]), -1))
        else:
            body = _compact(r["body"])
            links.append(by_head.get(body[:20], by_tail.get(body[-20:], -1)))
    classes = {r["label"] for r in rows}
    return LetterRows(
        other_texts=other_class_texts(Catalogue.load(catalogue_path), classes),
        full_texts=[letter_text(r["subject"], r["body"]) for r in full],
        full_labels=[r["label"] for r in full],
        rest_texts=[letter_text(r["subject"], r["body"]) for r in rest],
        rest_labels=[r["label"] for r in rest],
        rest_link=links,
    )


def fit(texts: Sequence[str], labels: Sequence[str]) -> LetterClassifier:
    """Char 1–3-gram sublinear TF-IDF + linear SVM (C=0.5, balanced classes).

    Measured by grouped 5-fold CV on this data: linear SVM 0.924 accuracy with 100k
    features (0.918 with all 520k), logistic regression 0.919 at twice the training time.
    """
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.svm import LinearSVC

    vec = TfidfVectorizer(
        analyzer=char_ngrams, sublinear_tf=True, min_df=2, max_features=MAX_FEATURES
    )
    x = vec.fit_transform(texts)
    svm = LinearSVC(C=SVM_C, class_weight="balanced", random_state=SEED)
    svm.fit(x, labels)
    vocabulary = sorted(vec.vocabulary_, key=vec.vocabulary_.__getitem__)
    return LetterClassifier(
        vocabulary=vocabulary,
        idf=vec.idf_,
        coef=svm.coef_,
        intercept=svm.intercept_,
        classes=[str(c) for c in svm.classes_],
        temperature=1.0,
    )


def _best_temperature(decisions: np.ndarray, gold: np.ndarray) -> float:
    """The softmax temperature that minimises log loss on out-of-fold decisions."""
    best, best_loss = 1.0, float("inf")
    for t in np.arange(0.5, 12.01, 0.25):
        z = decisions * t
        z = z - z.max(axis=1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        loss = -float(logp[np.arange(len(gold)), gold].mean())
        if loss < best_loss:
            best, best_loss = float(t), loss
    return best


class ClassScores(BaseModel):
    n: int
    precision: float
    recall: float
    f1: float


class CrossValidation(BaseModel):
    folds: int
    letters: int
    training_rows: int
    fold_accuracy: list[float]
    accuracy: float
    macro_f1: float
    other_predictions: int  # whole letters the model called "none of the seven"
    per_class: dict[str, ClassScores]
    confusion: dict[str, dict[str, int]]
    temperature: float


def fold_indices(labels: Sequence[str], k: int = 5) -> list[np.ndarray]:
    """Stratified folds over the whole letters, seeded."""
    from sklearn.model_selection import StratifiedKFold

    skf = StratifiedKFold(n_splits=k, shuffle=True, random_state=SEED)
    return [va for _, va in skf.split(np.zeros(len(labels)), labels)]


def fold_training_set(rows: LetterRows, validation: np.ndarray) -> tuple[list[str], list[str]]:
    """Every row except the validation letters and the partial rows linked to them."""
    held = {int(i) for i in validation}
    texts = [t for i, t in enumerate(rows.full_texts) if i not in held]
    labels = [y for i, y in enumerate(rows.full_labels) if i not in held]
    for text, label, link in zip(rows.rest_texts, rows.rest_labels, rows.rest_link, strict=True):
        if link not in held:
            texts.append(text)
            labels.append(label)
    return texts + rows.other_texts, labels + [OTHER_CLASS] * len(rows.other_texts)


def cross_validate(rows: LetterRows, k: int = 5) -> CrossValidation:
    from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support

    classes = sorted(set(rows.full_labels))
    model_classes = sorted({*classes, OTHER_CLASS} if rows.other_texts else classes)
    gold = np.array(rows.full_labels)
    pred = np.empty(len(gold), dtype=object)
    decisions = np.zeros((len(gold), len(model_classes)))
    fold_acc = []
    train_sizes = []
    for validation in fold_indices(rows.full_labels, k):
        texts, labels = fold_training_set(rows, validation)
        train_sizes.append(len(texts))
        model = fit(texts, labels)
        for i in validation:
            d = model.decision(rows.full_texts[i])
            decisions[i] = d
            # A "none of the seven" answer stays in and counts as wrong.
            pred[i] = model.classes[int(np.argmax(d))]
        fold_acc.append(round(float(accuracy_score(gold[validation], pred[validation])), 4))
    p, r, f, n = precision_recall_fscore_support(gold, pred, labels=classes, zero_division=0)
    confusion = {g: {c: int(((gold == g) & (pred == c)).sum()) for c in classes} for g in classes}
    return CrossValidation(
        folds=k,
        letters=len(gold),
        training_rows=int(np.mean(train_sizes)),
        fold_accuracy=fold_acc,
        accuracy=round(float(accuracy_score(gold, pred)), 4),
        macro_f1=round(float(f1_score(gold, pred, labels=classes, average="macro")), 4),
        other_predictions=int((pred == OTHER_CLASS).sum()),
        per_class={
            c: ClassScores(
                n=int(n[i]), precision=round(p[i], 3), recall=round(r[i], 3), f1=round(f[i], 3)
            )
            for i, c in enumerate(classes)
        },
        confusion=confusion,
        temperature=_best_temperature(decisions, np.array([model_classes.index(g) for g in gold])),
    )


def train_and_save(rows: LetterRows, temperature: float, path: Path = MODEL_FILE) -> Path:
    model = fit(
        rows.full_texts + rows.rest_texts + rows.other_texts,
        rows.full_labels + rows.rest_labels + [OTHER_CLASS] * len(rows.other_texts),
    )
    model.temperature = temperature
    model.save(path)
    return path


def print_report(cv: CrossValidation) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    console.print(
        f"Grouped {cv.folds}-fold CV on {cv.letters} whole letters "
        f"(≈{cv.training_rows} training rows per fold): accuracy [bold]{cv.accuracy:.3f}[/], "
        f"macro-F1 [bold]{cv.macro_f1:.3f}[/]; folds {cv.fold_accuracy}; "
        f"called {OTHER_CLASS}: {cv.other_predictions}"
    )
    table = Table("class", "n", "precision", "recall", "F1")
    for name, s in cv.per_class.items():
        table.add_row(name, str(s.n), f"{s.precision:.3f}", f"{s.recall:.3f}", f"{s.f1:.3f}")
    console.print(table)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=TRAIN_FILE)
    parser.add_argument("--output", type=Path, default=MODEL_FILE)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--cv-only", action="store_true", help="validate, write nothing")
    parser.add_argument("--json", type=Path, help="also write the CV figures as JSON")
    args = parser.parse_args(argv)
    rows = load_rows(args.data)
    cv = cross_validate(rows, args.folds)
    print_report(cv)
    if args.json:
        args.json.write_text(cv.model_dump_json(indent=2), encoding="utf-8")
    if not args.cv_only:
        path = train_and_save(rows, cv.temperature, args.output)
        print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB, temperature {cv.temperature})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
