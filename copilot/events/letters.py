"""Which 12345 first-level class a citizen letter belongs to, learned from real letters.

A linear model over character 1–3-gram TF-IDF, trained on the 2020 Teddy Cup 智慧政务
letters (``copilot.events.letter_training``). Runtime needs numpy only: the vocabulary,
IDF weights and coefficients ship in ``data/models/letter_classifier.npz``. The router
uses the class probabilities as one signal among several (see ``EventClassifier``): real
letters are long and mix greetings, history and requests, where nearest catalogue
examples get lost but a model trained on thousands of real letters does not.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from copilot.events.ngram_model import NgramLinearModel

# Anonymised places in the training letters ("A市", "A3区", "B9市东富镇") would otherwise be
# learned as topic words; real Chongqing names are left alone.
_PLACEHOLDER = re.compile(r"[A-Z]\d*(?=[省市区县镇乡村])")
_NOISE = re.compile(r"_x000D_|\*{2,}|\s+")
NGRAM_RANGE = (1, 3)
# The class for "none of the letter classes" (see letter_training).
OTHER_CLASS = "其他"
MAX_CHARS = 3000


def clean_letter(text: str) -> str:
    """The normalised text both training and inference see."""
    text = _NOISE.sub("", text or "")
    return _PLACEHOLDER.sub("", text).lower()[:MAX_CHARS]


def char_ngrams(text: str) -> list[str]:
    """Character n-grams of the cleaned text (the training analyzer, shared with inference)."""
    text = clean_letter(text)
    lo, hi = NGRAM_RANGE
    return [text[i : i + n] for n in range(lo, hi + 1) for i in range(len(text) - n + 1)]


class LetterClassifier(NgramLinearModel):
    """Class probabilities for a letter over the classes it was trained on."""

    def __init__(
        self,
        vocabulary: list[str],
        idf: np.ndarray,
        coef: np.ndarray,
        intercept: np.ndarray,
        classes: list[str],
        temperature: float,
    ) -> None:
        super().__init__(vocabulary, idf, coef, intercept, classes, char_ngrams, temperature)

    @classmethod
    def load(cls, path: Path) -> LetterClassifier:
        with np.load(path, allow_pickle=False) as z:
            return cls(
                vocabulary=[str(t) for t in z["vocabulary"]],
                idf=z["idf"],
                coef=z["coef"],
                intercept=z["intercept"],
                classes=[str(c) for c in z["classes"]],
                temperature=float(z["temperature"]),
            )

    def save(self, path: Path) -> None:
        terms = sorted(self.index, key=self.index.__getitem__)
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(
            path,
            vocabulary=np.array(terms),
            idf=self.idf,
            coef=self.coef.astype(np.float16),  # halves the file; no measurable loss
            intercept=self.intercept,
            classes=np.array(self.classes),
            temperature=np.float32(self.temperature),
        )
