"""The shipped form of the answer models: standardised features, one weight each, a bias."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


class LinearModel:
    """A logistic model stored as JSON (features, mean, scale, coef, intercept, extras)."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.features: list[str] = data["features"]
        self.mean: list[float] = data["mean"]
        self.scale: list[float] = data["scale"]
        self.coef: list[float] = data["coef"]
        self.intercept: float = data["intercept"]
        self.data = data

    @classmethod
    def load(cls, path: Path, features: list[str]) -> LinearModel:
        """Read a model; one trained on other features is refused (retrain it)."""
        data = json.loads(path.read_text(encoding="utf-8"))
        if data["features"] != features:
            raise ValueError(f"{path} was trained on other features; retrain it")
        return cls(data)

    def score(self, values: dict[str, float]) -> float:
        """The logit for one feature row."""
        z = self.intercept
        for name, m, s, w in zip(self.features, self.mean, self.scale, self.coef, strict=True):
            z += w * (values[name] - m) / s
        return z
