"""A linear classifier over sublinear, L2-normalised TF-IDF n-gram features, numpy only.

The runtime shared by the letter model (``letters.py``) and the message-type model
(``message_type.py``): both are trained offline (scikit-learn) and shipped as a
vocabulary, IDF weights and linear coefficients, so inference needs no scikit-learn.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable, Sequence

import numpy as np


class NgramLinearModel:
    """Class scores for a text: ``coef · tfidf(analyzer(text)) + intercept``, then softmax."""

    def __init__(
        self,
        vocabulary: Sequence[str],
        idf: np.ndarray,
        coef: np.ndarray,
        intercept: np.ndarray,
        classes: Iterable[str],
        analyzer: Callable[[str], Iterable[str]],
        temperature: float = 1.0,
        dtype: type = np.float32,
    ) -> None:
        self.index = {term: i for i, term in enumerate(vocabulary)}
        self.idf = idf.astype(dtype)
        self.coef = coef.astype(dtype)  # (classes, features)
        self.intercept = intercept.astype(dtype)
        self.classes = list(classes)
        self.analyzer = analyzer
        self.temperature = temperature
        self._dtype = dtype

    def decision(self, text: str) -> np.ndarray:
        """Raw linear scores per class (sublinear TF-IDF, L2-normalised, as in training)."""
        counts = Counter(self.analyzer(text))
        known = {g: c for g, c in counts.items() if g in self.index}
        if not known:
            return self.intercept.copy()
        idx = np.fromiter((self.index[g] for g in known), dtype=np.int64, count=len(known))
        tf = np.fromiter((1.0 + math.log(c) for c in known.values()), self._dtype, len(known))
        vals = tf * self.idf[idx]
        vals /= float(np.linalg.norm(vals)) or 1.0
        return self.coef[:, idx] @ vals + self.intercept

    def probabilities(self, text: str) -> dict[str, float]:
        z = self.decision(text) * self.temperature
        p = np.exp(z - z.max())
        p /= p.sum()
        return {c: float(v) for c, v in zip(self.classes, p, strict=True)}
