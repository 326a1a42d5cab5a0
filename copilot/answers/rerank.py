"""The second stage: a learned reranker over the fused top articles.

A logistic model over features a reader of the law would use: the three first-stage
channel scores, how much of the question the article and its title and chapter cover,
whether the question names this regulation (or a county it is local to), what kind of
article it is (penalty, duty, prohibition, definition, general provision), and whether its
best 款/项 holds the slot the question asks for (an amount, a time limit, a body, a rule).
Trained by ``python -m copilot.answers.rerank_training`` with grouped cross-validation on
the development questions; shipped as a small JSON file of weights.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

from copilot.answers.candidates import (
    LOCAL_PLACES,
    Candidate,
    QuestionContext,
    TermStats,
    article_number,
)
from copilot.answers.linear_model import LinearModel
from copilot.answers.quoting import Quote, best_quote, coverage, unit_text
from copilot.answers.slots import SLOT_ZH, slot_vector, span_has_slot

_PENALTY = re.compile(r"罚款|处以|没收|吊销|拘留|警告|处分|追究.{0,6}责任")
_PROHIBIT = re.compile(r"禁止|不得|严禁")
_DUTY = re.compile(r"应当|必须|负责")
_DEFINE = re.compile(r"是指|本条例所称|本办法所称|本法所称|含义")
_CROSS_REF = re.compile(r"(?:本条例|本办法|本法)第([零〇一二三四五六七八九十百千两]+)条")
_ASKS_FINE = re.compile(r"罚|处罚|处分|后果|法律责任|怎么处理|咋个处理")
_GENERAL = re.compile(r"为了|根据.{0,40}制定本|适用本|施行|自.{0,20}起施行")

UNIT_DEPTH = 10

FEATURES = [
    "fused",
    "fused_rel",
    "rank_recip",
    "bm25_rel",
    "dense",
    "dense_gap",
    "dense2",
    "dense2_gap",
    "cover",
    "cover_quote",
    "cover_title",
    "cover_chapter",
    "named_this",
    "named_other",
    "place_this",
    "place_mismatch",
    "is_penalty",
    "is_prohibit",
    "is_duty",
    "is_define",
    "is_general",
    "is_early",
    "slot_quote",
    "slot_any",
    "q_penalty_x_penalty",
    "q_amount_x_money",
    "q_time_x_time",
    "q_who_x_who",
    "q_permission_x_rule",
    "q_procedure_x_procedure",
    "q_general_x_general",
    "log_len",
    "n_pieces",
    "cover_rel",
    "cover_quote_rel",
    "pool_cover",
    "pool_cover_quote",
    "pool_cover_rel",
    "doc_share",
    "quote_is_item",
    "unit_sim",
    "unit_sim_gap",
    "quote_sim",
    "slot_focus",
    "q_fine_x_fine",
    "q_fine_x_no_fine",
    "q_fine_x_refers",
    "q_rule_x_referenced",
]


@dataclass
class Scored:
    """A candidate with its reranker score and the quote chosen inside it."""

    candidate: Candidate
    quote: Quote
    score: float
    features: dict[str, float] = field(default_factory=dict)


def _pool_cover(ctx: QuestionContext, text: str, pool_df: dict[str, int], n: int) -> float:
    """Coverage weighted by how few of this question's candidates hold each term.

    Among articles of one regulation the words they all share (天然气, 物业) say nothing;
    the term only this article has decides between neighbours.
    """
    total = hit = 0.0
    for term in (*ctx.words, *ctx.bigrams):
        w = math.log(1 + n / (1 + pool_df.get(term, 0)))
        total += w
        hit += w * (term in text)
    return hit / total if total else 0.0


def pool_features(
    ctx: QuestionContext,
    pool: Sequence[Candidate],
    stats: TermStats | None,
    quotes: Sequence[Quote],
) -> list[dict[str, float]]:
    """Feature values for every candidate of one question (features are relative to the pool)."""
    terms = (*ctx.words, *ctx.bigrams)
    pool_df = {t: sum(1 for c in pool if t in c.text) for t in terms}
    tops = PoolTops.of(pool)
    rows = [candidate_features(ctx, c, tops, stats, q) for c, q in zip(pool, quotes, strict=True)]
    docs = [c.doc_id for c in pool]
    for row, cand, quote in zip(rows, pool, quotes, strict=True):
        row["pool_cover"] = _pool_cover(ctx, cand.text, pool_df, len(pool))
        row["pool_cover_quote"] = _pool_cover(ctx, quote.text, pool_df, len(pool))
        row["doc_share"] = docs.count(cand.doc_id) / len(pool)
        row["quote_is_item"] = float(bool(quote.provision and quote.provision.is_item))
        row["slot_focus"] = quote.slot_focus
    # A penalty article names the duty it punishes ("违反本条例第四十一条第二款规定"):
    # a question about the fine wants the former, one about the rule the latter.
    in_pool = {(c.doc_id, c.article) for c in pool if c.article}
    refers = [
        {(c.doc_id, f"第{n}条") for n in _CROSS_REF.findall(c.text)}
        & in_pool - {(c.doc_id, c.article)}
        for c in pool
    ]
    referenced = set().union(*refers) if refers else set()
    asks_fine = bool(_ASKS_FINE.search(ctx.question))
    for row, cand, ref in zip(rows, pool, refers, strict=True):
        row["q_fine_x_refers"] = float(asks_fine and bool(ref))
        row["q_rule_x_referenced"] = float(
            not asks_fine and (cand.doc_id, cand.article) in referenced
        )
    for key in ("cover", "cover_quote", "pool_cover"):
        top = max((r[key] for r in rows), default=0.0) or 1.0
        for r in rows:
            r[f"{key}_rel"] = r[key] / top
    return rows


@dataclass(frozen=True)
class PoolTops:
    """The best first-stage signal of each channel among one question's candidates."""

    fused: float
    bm25: float
    dense: float
    dense2: float

    @classmethod
    def of(cls, pool: Sequence[Candidate]) -> PoolTops:
        return cls(
            fused=max((c.fused for c in pool), default=1.0) or 1.0,
            bm25=max((c.signals.get("bm25", 0.0) for c in pool), default=0.0) or 1.0,
            dense=max((c.signals.get("dense", 0.0) for c in pool), default=0.0),
            dense2=max((c.signals.get("dense2", 0.0) for c in pool), default=0.0),
        )


def candidate_features(
    ctx: QuestionContext,
    cand: Candidate,
    tops: PoolTops,
    stats: TermStats | None,
    quote: Quote,
) -> dict[str, float]:
    """Feature values of one candidate that need no other candidate's features."""
    dense = cand.signals.get("dense", 0.0)
    dense2 = cand.signals.get("dense2", 0.0)
    text = cand.text
    slots = slot_vector(text)
    quote_slots = slot_vector(quote.text)
    slot = ctx.slot
    local = [p for p in LOCAL_PLACES if p in cand.doc_title]
    n = article_number(cand.article)
    asks_fine = bool(_ASKS_FINE.search(ctx.question))
    return {
        "fused": cand.fused,
        "fused_rel": cand.fused / tops.fused,
        "rank_recip": 1.0 / cand.rank,
        "bm25_rel": cand.signals.get("bm25", 0.0) / tops.bm25,
        "dense": dense,
        "dense_gap": (dense - tops.dense) if dense else -0.2,
        "dense2": dense2,
        "dense2_gap": (dense2 - tops.dense2) if dense2 else -0.2,
        "cover": coverage(ctx, text, stats),
        "cover_quote": coverage(ctx, quote.text, stats),
        "cover_title": coverage(ctx, cand.doc_title, None),
        "cover_chapter": coverage(ctx, cand.chapter or "", None),
        "named_this": float(cand.doc_title in ctx.named_titles),
        "named_other": float(ctx.names_regulation and cand.doc_title not in ctx.named_titles),
        "place_this": float(any(p in cand.doc_title for p in ctx.places)),
        "place_mismatch": float(bool(local) and not any(p in ctx.places for p in local)),
        "is_penalty": float(bool(_PENALTY.search(text))),
        "is_prohibit": float(bool(_PROHIBIT.search(text))),
        "is_duty": float(bool(_DUTY.search(text))),
        "is_define": float(bool(_DEFINE.search(text))),
        "is_general": float(bool(_GENERAL.search(text[:80]))),
        "is_early": float(0 < n <= 3),
        "slot_quote": float(quote.has_slot),
        "slot_any": float(slot == "general" or quote.has_slot or span_has_slot(text, slot)),
        "q_penalty_x_penalty": float(slot == "penalty") * slots["has_fine"],
        "q_amount_x_money": float(slot == "amount") * quote_slots["has_amount"],
        "q_time_x_time": float(slot == "time") * quote_slots["has_time"],
        "q_who_x_who": float(slot == "who") * quote_slots["has_who"],
        "q_permission_x_rule": float(slot == "permission") * quote_slots["has_permission"],
        "q_procedure_x_procedure": float(slot == "procedure") * quote_slots["has_procedure"],
        "q_general_x_general": float(slot == "general") * float(bool(_GENERAL.search(text[:80]))),
        "q_fine_x_fine": float(asks_fine) * slots["has_fine"],
        "q_fine_x_no_fine": float(asks_fine) * (1.0 - slots["has_fine"]),
        "log_len": math.log(1 + len(text)),
        "n_pieces": float(len(cand.hits)),
    }


class RerankModel(LinearModel):
    """The shipped reranker (``data/models/answer_reranker.json``)."""

    @classmethod
    def load(cls, path: Path, features: list[str] = FEATURES) -> RerankModel:  # type: ignore[override]
        return cls(LinearModel.load(path, features).data)


class UnitEmbedder(Protocol):
    """What the reranker needs of an embedder: cached vectors for questions and units."""

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray: ...

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray: ...


class Reranker:
    """Scores and orders the candidates of one question; picks the quote of each.

    ``units`` embeds each 款/项 of the candidates (a fast model, cached by text): the
    chunk-level scores judge whole articles, this judges the part that would be quoted.
    """

    def __init__(
        self,
        model: RerankModel | None,
        stats: TermStats | None,
        units: UnitEmbedder | None = None,
    ) -> None:
        self.model = model
        self.stats = stats
        self.units = units

    def _unit_similarities(
        self, ctx: QuestionContext, pool: Sequence[Candidate]
    ) -> list[list[float]]:
        """Cosine of the question with each 款/项 of the leading candidates.

        A single-unit article or a prose chunk keeps its chunk-level cosine; units beyond
        the first ``UNIT_DEPTH`` candidates are not embedded (bounded work per question).
        """
        out = [[c.signals.get("dense", 0.0)] * max(len(c.provisions), 1) for c in pool]
        if self.units is None:
            return out
        wanted = [i for i, c in enumerate(pool[:UNIT_DEPTH]) if len(c.provisions) > 1]
        texts = [unit_text(p) for i in wanted for p in pool[i].provisions]
        if not texts:
            return out
        q = self.units.embed_queries([ctx.question])[0]
        sims = self.units.embed_passages(texts) @ q
        at = 0
        for i in wanted:
            n = len(pool[i].provisions)
            out[i] = [float(x) for x in sims[at : at + n]]
            at += n
        return out

    def features(
        self, ctx: QuestionContext, pool: Sequence[Candidate]
    ) -> tuple[list[Quote], list[dict[str, float]]]:
        """The quote chosen in each candidate and the candidates' feature values."""
        sims = self._unit_similarities(ctx, pool)
        quotes = [best_quote(ctx, c, self.stats, s) for c, s in zip(pool, sims, strict=True)]
        rows = pool_features(ctx, pool, self.stats, quotes)
        top = max((max(s) for s in sims), default=0.0)
        for row, s, quote, cand in zip(rows, sims, quotes, pool, strict=True):
            row["unit_sim"] = max(s)
            row["unit_sim_gap"] = max(s) - top
            at = cand.provisions.index(quote.provision) if quote.provision in cand.provisions else 0
            row["quote_sim"] = s[at] if at < len(s) else max(s)
        return quotes, rows

    def rank(self, ctx: QuestionContext, pool: Sequence[Candidate]) -> list[Scored]:
        if self.model is None:
            quotes = [best_quote(ctx, cand, self.stats) for cand in pool]
            rows: list[dict[str, float]] = [{} for _ in pool]
            scores = [-float(c.rank) for c in pool]  # first-stage order
        else:
            quotes, rows = self.features(ctx, pool)
            scores = [self.model.score(f) for f in rows]
        out = []
        for cand, quote, score, row in zip(pool, quotes, scores, rows, strict=True):
            cand.score = score
            out.append(Scored(cand, quote, score, row))
        out.sort(key=lambda s: -s.score)
        return out


def slot_description(slot: str) -> str:
    return SLOT_ZH.get(slot, SLOT_ZH["general"])
