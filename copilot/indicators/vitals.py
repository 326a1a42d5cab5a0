"""城市体征: a region's indicators with their traffic-light status, and its child units'."""

from __future__ import annotations

from pydantic import BaseModel

from copilot.indicators.library import STATUS_ZH, IndicatorDef, Status
from copilot.indicators.store import IndicatorStore, IndicatorValue


class VitalRow(BaseModel):
    key: str
    name: str
    unit: str
    region_code: str
    region_name: str
    value: float
    display: str
    status: Status
    status_zh: str
    year: int
    source: str


class VitalsView(BaseModel):
    region_code: str
    region_name: str
    own: list[VitalRow]
    #: Every indicator's value in each child unit (for the map and the comparison bars).
    children: list[VitalRow]
    #: Thresholds shown beside the figures: key → (direction, yellow, red).
    thresholds: dict[str, tuple[str, float, float]]


def vitals(store: IndicatorStore, region_code: str, region_name: str) -> VitalsView:
    """The region's figures and its children's; empty lists where no source covers them
    (the census stops at 区县)."""
    own: list[VitalRow] = []
    children: list[VitalRow] = []
    thresholds: dict[str, tuple[str, float, float]] = {}
    for ind in store.library.indicators:
        if ind.direction and ind.yellow is not None and ind.red is not None:
            thresholds[ind.key] = (ind.direction, ind.yellow, ind.red)
        if (v := store.get(ind.key, region_code)) is not None:
            own.append(_row(store, ind, v))
        children += [_row(store, ind, c) for c in store.children(ind.key, region_code)]
    return VitalsView(
        region_code=region_code,
        region_name=region_name,
        own=own,
        children=children,
        thresholds=thresholds,
    )


def _row(store: IndicatorStore, ind: IndicatorDef, v: IndicatorValue) -> VitalRow:
    status = ind.status(v.value)
    source = store.library.sources.get(v.source_id)
    return VitalRow(
        key=ind.key,
        name=ind.name,
        unit=ind.unit,
        region_code=v.region_code,
        region_name=v.region_name,
        value=v.value,
        display=ind.format(v.value),
        status=status,
        status_zh=STATUS_ZH[status],
        year=v.year,
        source=source.title if source else v.source_id,
    )
