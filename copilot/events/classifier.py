"""Event classification without an LLM: message type, board, event type and urgency.

Three kinds of evidence are fused per catalogue type. Keywords are precise but miss
paraphrases; nearest catalogue examples (e5, USE) catch paraphrases but confuse
neighbouring types and drown in long letters; the letter model, trained on thousands of
real citizen letters, knows how people actually write about a matter but only at the
level of the 12345 first-level class. The fused score keeps all three, and the top three
types with their scores go to the router and to the official reviewing the draft.
"""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, Field

from copilot.catalogue import Catalogue
from copilot.events.letters import OTHER_CLASS, LetterClassifier
from copilot.events.message_type import MessageTypeClassifier, normalise, sender_text
from copilot.events.settled import settled_on_spot
from copilot.events.urgency import assess_urgency
from copilot.vocabulary import Board, MessageType, Urgency
from retrievers.embedders import Embedder
from retrievers.query_rewrite import QueryRewriter


class TypeScore(BaseModel):
    event_type: str
    name: str
    board: Board
    score: float


class Classification(BaseModel):
    is_event: bool
    message_type: MessageType
    board: Board | None = None
    event_type: str | None = None
    event_name: str | None = None
    hotline_class: str | None = None
    urgency: Urgency | None = None
    danger: str | None = Field(default=None, description="danger described, if urgent")
    settled: str | None = Field(
        default=None, description="a grid report's words saying it was settled on the spot"
    )
    top3: list[TypeScore] = Field(default_factory=list)
    non_event_kind: str | None = Field(
        default=None, description="greeting, thanks, spam, ad, test, chat, empty"
    )
    reasons: list[str] = Field(default_factory=list)


class EventClassifier:
    """Message type, board, event type and urgency for a report.

    ``dense`` holds (embedder, weight) pairs: each embeds the catalogue's names and
    examples once; a report scores each type by its two most similar examples. Keywords
    get ``KEYWORD_WEIGHT``; the letter model adds up to ``LETTER_WEIGHT`` times the
    probability of the type's 12345 class (its ``其他`` class for types filed elsewhere).

    The letter model's weight grows with the length of the message, from nothing below
    ``LETTER_FROM_CHARS`` to full from ``LETTER_FULL_CHARS``: it learned from letters, and on
    one-line reports its class guesses cost more than they bring (development events:
    board 0.90 without it, 0.75 with it at full weight on every message; held-out real
    letters: department class 0.76 without it, 0.87 with it). Chosen on the development
    events and one held-out fold of the real letters (docs/routing.md), never on the
    post-freeze set.
    """

    KEYWORD_WEIGHT = 0.2
    LETTER_WEIGHT = 1.0
    LETTER_FROM_CHARS = 80
    LETTER_FULL_CHARS = 300
    # The dense channels read the opening of a message only: embedding cost grows with
    # length (1.4 s for 1,000 characters on 2 cores, 0.33 s for 300), and the letter model
    # reads it all. On 150 held-out real letters 300 and 1,000 characters both scored 0.88.
    DENSE_MAX_CHARS = 300
    CONFIDENT_MARGIN = 0.15

    def __init__(
        self,
        catalogue: Catalogue,
        dense: list[tuple[Embedder, float]],
        rewriter: QueryRewriter | None = None,
        message_types: MessageTypeClassifier | None = None,
        letters: LetterClassifier | None = None,
    ) -> None:
        self.catalogue = catalogue
        self.rewriter = rewriter or QueryRewriter({})
        self.message_types = message_types
        self.letters = letters
        texts: list[str] = []
        owners: list[int] = []
        for i, t in enumerate(catalogue.types):
            for text in [t.name, *t.examples, *t.extra_examples]:
                texts.append(text)
                owners.append(i)
        self._example_owner = np.array(owners)
        self._keyword_types: dict[str, int] = {}
        for t in catalogue.types:
            for kw in {t.name, *t.keywords}:
                self._keyword_types[kw] = self._keyword_types.get(kw, 0) + 1
        groups = [np.flatnonzero(self._example_owner == j) for j in range(len(catalogue.types))]
        # A padded (types × examples) index so that every type's best two examples come
        # from one vectorised partition instead of a Python loop over the types.
        width = max(len(g) for g in groups)
        self._example_index = np.array(
            [np.pad(g, (0, width - len(g)), mode="edge") for g in groups]
        )
        self._example_pad = np.array([np.arange(width) >= len(g) for g in groups])
        self._dense = [(emb, weight, emb.embed_passages(texts)) for emb, weight in dense]

    def _keyword_scores(self, text: str) -> np.ndarray:
        scores = np.zeros(len(self.catalogue.types))
        for i, t in enumerate(self.catalogue.types):
            for kw in {t.name, *t.keywords}:
                if kw and kw in text:
                    # A keyword shared by several types says less about which one it is.
                    scores[i] += len(kw) / self._keyword_types[kw]
        return scores

    def _example_scores(self, embedder: Embedder, vectors: np.ndarray, text: str) -> np.ndarray:
        """Per type, the mean similarity of its two examples closest to the text.

        Two neighbours rather than one keep a single lucky example from deciding; on the
        development set this lifted board accuracy from 0.893 to 0.906.
        """
        sims = vectors @ embedder.embed_queries([text])[0]
        table = np.where(self._example_pad, -np.inf, sims[self._example_index])
        return np.partition(table, -2, axis=1)[:, -2:].mean(axis=1)

    def _letter_prior(self, text: str) -> tuple[np.ndarray, dict[str, float]]:
        """Per type, the letter model's probability of its class, scaled by message length."""
        n = len(text)
        gate = (n - self.LETTER_FROM_CHARS) / (self.LETTER_FULL_CHARS - self.LETTER_FROM_CHARS)
        gate = min(1.0, max(0.0, gate))
        if self.letters is None or gate == 0.0:
            return np.zeros(len(self.catalogue.types)), {}
        probs = self.letters.probabilities(text)
        other = probs.get(OTHER_CLASS, 0.0)
        prior = np.array([probs.get(t.hotline_class or "", other) for t in self.catalogue.types])
        return gate * prior, probs

    def type_scores(self, text: str) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Fused score per catalogue type, and each signal's raw scores (for reasons).

        The first dense channel (e5) costs most of the time of a route (about 55 ms a
        message on 2 cores). The cheap signals — keywords, the other dense channels and the
        letter model — go first; when their best type leads the next by more than
        ``CONFIDENT_MARGIN`` the first channel is skipped. On the three development sets
        that margin changed no board and no event type while skipping e5 for about a
        third of the messages (docs/routing.md).
        """
        raw = text[:3000]
        kw = self._keyword_scores(raw + "\n" + self.rewriter.rewrite(raw))
        fused = self.KEYWORD_WEIGHT * (kw / kw.max() if kw.max() > 0 else kw)
        signals: dict = {"keyword": kw}
        prior, probs = self._letter_prior(raw)
        signals["letter"] = prior
        signals["_probs"] = probs
        fused = fused + self.LETTER_WEIGHT * prior
        for n, (embedder, weight, vectors) in enumerate(self._dense[1:], start=1):
            fused = fused + weight * self._normalised(embedder, vectors, raw, signals, n)
        if self._dense:
            top = np.partition(fused, -2)[-2:]
            if len(self._dense) > 1 and top[1] - top[0] > self.CONFIDENT_MARGIN:
                signals["_skipped_main"] = True
                return fused, signals
            embedder, weight, vectors = self._dense[0]
            fused = fused + weight * self._normalised(embedder, vectors, raw, signals, 0)
        return fused, signals

    def _normalised(
        self, embedder: Embedder, vectors: np.ndarray, raw: str, signals: dict, n: int
    ) -> np.ndarray:
        s = self._example_scores(embedder, vectors, raw[: self.DENSE_MAX_CHARS])
        signals[f"dense{n}"] = s
        lo, hi = float(s.min()), float(s.max())
        return (s - lo) / (hi - lo) if hi > lo else np.zeros_like(s)

    def classify(self, text: str) -> Classification:
        raw = (text or "").strip()
        mt = self.message_types.classify(raw) if self.message_types else None
        if mt is not None and mt.message_type == "非事件":
            return Classification(
                is_event=False,
                message_type="非事件",
                non_event_kind=mt.non_event_kind,
                reasons=[f"消息类型：非事件（{mt.reason}）"],
            )
        message_type: MessageType = mt.message_type if mt else "投诉求助"
        # The operator's questions in a hotline transcript and the grid worker's replies in
        # a group chat are not the matter reported; only the sender's words are classified.
        content = sender_text(normalise(raw)) or raw
        fused, signals = self.type_scores(content)
        probs: dict[str, float] = signals.pop("_probs")  # type: ignore[assignment]
        skipped = signals.pop("_skipped_main", False)
        order = np.argsort(-fused)[:3]
        top3 = [
            TypeScore(
                event_type=self.catalogue.types[i].id,
                name=self.catalogue.types[i].name,
                board=self.catalogue.types[i].board,
                score=round(float(fused[i]), 4),
            )
            for i in order
        ]
        b, second = int(order[0]), int(order[1])
        best = self.catalogue.types[b]
        urgency = assess_urgency(best, content, message_type)
        evidence = f"依据：关键词得分{signals['keyword'][b]:.1f}"
        if "dense0" in signals:
            evidence += f"，样例相似度{signals['dense0'][b]:.2f}"
        elif "dense1" in signals:
            evidence += f"，样例相似度（USE）{signals['dense1'][b]:.2f}"
        if skipped:
            evidence += "，快速通道已足够确定，未调用e5"
        if probs:
            likeliest = max(probs, key=probs.__getitem__)
            evidence += (
                f"，来信模型“{best.hotline_class}”类概率{probs.get(best.hotline_class or '', 0):.2f}"
                f"（最可能“{likeliest}”{probs[likeliest]:.2f}）"
            )
        reasons = [
            f"消息类型：{message_type}（{mt.reason if mt else '未配置消息类型模型'}）",
            f"板块与类型：{best.board}/{best.name}，融合得分{fused[b]:.2f}"
            f"（次选{self.catalogue.types[second].name} {fused[second]:.2f}）",
            evidence,
            f"紧急程度{urgency.urgency}：{urgency.reason}",
        ]
        return Classification(
            is_event=True,
            message_type=message_type,
            board=best.board,
            event_type=best.id,
            event_name=best.name,
            hotline_class=best.hotline_class,
            urgency=urgency.urgency,
            danger=urgency.danger,
            settled=settled_on_spot(text),
            top3=top3,
            reasons=reasons,
        )
