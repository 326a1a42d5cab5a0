"""Indicator values by region and tier; the census is the first provider, live feeds come later."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Protocol

from pydantic import BaseModel

from copilot.hierarchy import Hierarchy
from copilot.indicators.library import IndicatorLibrary
from copilot.vocabulary import IndicatorTier


class IndicatorValue(BaseModel):
    indicator: str
    region_code: str
    region_name: str
    tier: IndicatorTier  # the English label of a centre tier (vocabulary.TIER_EN)
    value: float
    year: int
    source_id: str
    derived: bool = False
    region_type: str | None = None  # district / county for 区县 rows


class IndicatorProvider(Protocol):
    def values(self) -> list[IndicatorValue]: ...


class CensusProvider:
    """District values of the 2020 census file, and the city value derived from them."""

    source_id = "census2020"

    def __init__(self, csv_path: Path, library: IndicatorLibrary) -> None:
        self._path = csv_path
        self._library = library

    def values(self) -> list[IndicatorValue]:
        with self._path.open(encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
        year = self._library.sources[self.source_id].year
        out: list[IndicatorValue] = []
        for ind in self._library.indicators:
            for r in rows:
                if r.get(ind.key, "") == "":
                    continue
                out.append(
                    IndicatorValue(
                        indicator=ind.key,
                        region_code=r["code"],
                        region_name=r["name"],
                        tier="district",
                        value=float(r[ind.key]),
                        year=year,
                        source_id=self.source_id,
                        region_type=r.get("type"),
                    )
                )
            city = self._aggregate(ind.aggregate, ind.key, rows)
            if city is not None:
                out.append(
                    IndicatorValue(
                        indicator=ind.key,
                        region_code="50",
                        region_name="重庆市",
                        tier="city",
                        value=city,
                        year=year,
                        source_id=self.source_id,
                        derived=True,
                    )
                )
        return out

    @staticmethod
    def _aggregate(rule: str, key: str, rows: list[dict[str, str]]) -> float | None:
        # The source leaves out the city rows; sums are exact, shares are weighted by the
        # district populations they were computed on (exact up to the source's rounding).
        def col(name: str) -> list[float]:
            return [float(r[name]) for r in rows]

        if rule == "sum":
            return sum(col(key))
        if rule.startswith("weighted:"):
            weights = col(rule.split(":", 1)[1])
            return round(
                sum(v * w for v, w in zip(col(key), weights, strict=True)) / sum(weights), 2
            )
        if rule.startswith("ratio:"):
            a, b = rule.split(":", 1)[1].split("/")
            return round(100 * sum(col(a)) / sum(col(b)), 2)
        return None


class IndicatorStore:
    """All indicator values in memory (a few thousand rows), indexed by indicator and region."""

    def __init__(
        self, library: IndicatorLibrary, hierarchy: Hierarchy, providers: list[IndicatorProvider]
    ) -> None:
        self.library = library
        self.hierarchy = hierarchy
        self._values: dict[tuple[str, str], IndicatorValue] = {}
        for p in providers:
            for v in p.values():
                self.put(v)

    def put(self, value: IndicatorValue) -> None:
        """Add or replace a value (how live indicators such as overdue rates will arrive)."""
        self._values[(value.indicator, value.region_code)] = value

    def get(self, indicator: str, region_code: str) -> IndicatorValue | None:
        return self._values.get((indicator, region_code))

    def by_tier(self, indicator: str, tier: IndicatorTier) -> list[IndicatorValue]:
        return [v for (key, _), v in self._values.items() if key == indicator and v.tier == tier]

    def children(self, indicator: str, region_code: str) -> list[IndicatorValue]:
        """Values of the child units of a region, for comparisons across them."""
        codes = self.hierarchy.children.get(region_code, [])
        return [v for c in codes if (v := self.get(indicator, c)) is not None]
