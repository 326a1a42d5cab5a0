"""Builds the indicator store from the bundled library and census file."""

from __future__ import annotations

from copilot.hierarchy import Hierarchy
from copilot.indicators.library import IndicatorLibrary
from copilot.indicators.store import CensusProvider, IndicatorStore
from copilot.settings import Settings


def build_indicator_store(settings: Settings, hierarchy: Hierarchy | None = None) -> IndicatorStore:
    library = IndicatorLibrary.load(settings.data_dir / "indicators" / "library.json")
    hierarchy = hierarchy or Hierarchy.from_csv(
        settings.data_dir / "divisions" / "chongqing_divisions.csv"
    )
    census = CensusProvider(settings.data_dir / "indicators" / "chongqing_census_2020.csv", library)
    return IndicatorStore(library, hierarchy, [census])
