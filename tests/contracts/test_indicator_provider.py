"""The ``IndicatorProvider`` contract (copilot/indicators/store.py), run over every provider.

Implementations: ``CensusProvider`` over the bundled 2020 census file — today the only one;
live providers (overdue rates from the work orders, …) join the parameter list when they
come. A provider's values must fit the indicator library and the division hierarchy, or the
store and the indicator questions built on them would show rows nobody can place.
"""

from __future__ import annotations

import math
from collections import Counter

import pytest

from copilot.hierarchy import Hierarchy
from copilot.indicators.library import IndicatorLibrary
from copilot.indicators.store import (
    CensusProvider,
    IndicatorProvider,
    IndicatorStore,
    IndicatorValue,
)
from copilot.vocabulary import LEVEL_TIER, TIER_EN


class IndicatorProviderContract:
    """What every ``IndicatorProvider`` does. A subclass provides the ``provider`` fixture;
    ``library`` and ``hierarchy`` are the bundled ones."""

    def test_values_are_indicator_values(self, provider):
        values = provider.values()
        assert isinstance(values, list) and values
        assert all(isinstance(v, IndicatorValue) for v in values)
        assert all(math.isfinite(v.value) for v in values)

    def test_every_indicator_and_source_is_in_the_library(self, provider, library):
        known = {i.key for i in library.indicators}
        for v in provider.values():
            assert v.indicator in known, v
            assert v.source_id in library.sources, v
            assert v.year == library.sources[v.source_id].year, v

    def test_every_region_exists_in_the_hierarchy_at_its_tier(self, provider, hierarchy):
        for v in provider.values():
            division = hierarchy.get(v.region_code)
            assert division is not None, f"unknown region {v.region_code} {v.region_name}"
            assert v.region_name == division.name
            assert v.tier == TIER_EN[LEVEL_TIER[division.level]], v

    def test_one_value_per_indicator_and_region(self, provider):
        # The store keeps one value per pair; a second one would silently replace the first.
        pairs = Counter((v.indicator, v.region_code) for v in provider.values())
        assert [p for p, n in pairs.items() if n > 1] == []

    def test_values_are_repeatable_and_feed_the_store(self, provider, library, hierarchy):
        values = provider.values()
        assert provider.values() == values
        store = IndicatorStore(library, hierarchy, [provider])
        assert all(store.get(v.indicator, v.region_code) == v for v in values)


@pytest.fixture(scope="module")
def library(bundled_settings) -> IndicatorLibrary:
    return IndicatorLibrary.load(bundled_settings.data_dir / "indicators" / "library.json")


@pytest.fixture(scope="module")
def hierarchy(bundled_settings) -> Hierarchy:
    # Providers report city, district and town values: grids are not needed here.
    csv = bundled_settings.data_dir / "divisions" / "chongqing_divisions.csv"
    return Hierarchy.from_csv(csv, grids_per_village=None)


class TestIndicatorProviders(IndicatorProviderContract):
    @pytest.fixture(params=["census2020"])
    def provider(self, request, bundled_settings, library) -> IndicatorProvider:
        census = bundled_settings.data_dir / "indicators" / "chongqing_census_2020.csv"
        return CensusProvider(census, library)
