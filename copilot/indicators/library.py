"""Indicator definitions: names, units, aliases for question parsing, red/yellow/green thresholds."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

Status = Literal["red", "yellow", "green", "none"]
STATUS_ZH = {"red": "红", "yellow": "黄", "green": "绿", "none": "—"}


class IndicatorDef(BaseModel):
    key: str
    name: str
    unit: str
    aggregate: str = Field(
        description="How a parent's value derives from its children: sum, weighted:<weight key>, ratio:<a>/<b>."
    )
    aliases: list[str] = Field(default_factory=list)
    direction: Literal["higher_is_worse", "lower_is_worse"] | None = None
    yellow: float | None = None
    red: float | None = None

    def status(self, value: float) -> Status:
        """Traffic-light status; ``none`` for indicators without thresholds."""
        if self.direction is None or self.yellow is None or self.red is None:
            return "none"
        if self.direction == "higher_is_worse":
            return "red" if value >= self.red else "yellow" if value >= self.yellow else "green"
        return "red" if value <= self.red else "yellow" if value <= self.yellow else "green"

    def format(self, value: float) -> str:
        if self.unit == "人" or self.unit == "户":
            return f"{int(round(value)):,}{self.unit}"
        return f"{value:g}{self.unit}"


class SourceDef(BaseModel):
    title: str
    year: int
    file: str
    note: str = ""


class IndicatorLibrary(BaseModel):
    indicators: list[IndicatorDef]
    sources: dict[str, SourceDef]

    @classmethod
    def load(cls, path: Path) -> IndicatorLibrary:
        return cls.model_validate(json.loads(path.read_text(encoding="utf-8")))

    def get(self, key: str) -> IndicatorDef:
        for ind in self.indicators:
            if ind.key == key:
                return ind
        raise KeyError(f"unknown indicator: {key}")

    def find_in_text(self, text: str) -> IndicatorDef | None:
        """The indicator whose longest alias occurs in ``text`` (earliest one on a tie)."""
        best: tuple[int, int, IndicatorDef] | None = None
        for ind in self.indicators:
            for alias in [ind.name, *ind.aliases]:
                pos = text.find(alias)
                if pos >= 0 and (best is None or (len(alias), -pos) > (best[0], best[1])):
                    best = (len(alias), -pos, ind)
        return best[2] if best else None
