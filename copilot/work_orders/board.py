"""挂图作战: the board's tallies of a jurisdiction's orders (per board, state, district, town)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from pydantic import BaseModel

from copilot.work_orders.schemas import OrderCount
from copilot.work_orders.states import OPEN_STATES


class PlaceTally(BaseModel):
    code: str
    open: int = 0
    overdue: int = 0
    total: int = 0


class BoardSummary(BaseModel):
    total: int
    open: int
    overdue: int
    escalated: int
    by_board: dict[str, int]
    by_state: dict[str, int]
    #: Open and overdue orders per district code (the map's colours).
    by_district: dict[str, PlaceTally]
    by_town: dict[str, PlaceTally]

    @property
    def overdue_rate(self) -> float:
        """Share of open orders past their deadline (0 when nothing is open)."""
        return self.overdue / self.open if self.open else 0.0


def summarise_counts(cells: Sequence[OrderCount]) -> BoardSummary:
    by_board: Counter[str] = Counter()
    by_state: Counter[str] = Counter()
    districts: dict[str, PlaceTally] = {}
    towns: dict[str, PlaceTally] = {}
    total = open_ = overdue = escalated = 0
    for c in cells:
        is_open = c.state in OPEN_STATES
        total += c.n
        open_ += c.n if is_open else 0
        overdue += c.n if c.overdue else 0
        escalated += c.n if c.state == "escalated" else 0
        by_board[c.board] += c.n
        by_state[c.state.value] += c.n
        for code, places in ((c.district_code, districts), (c.town_code, towns)):
            if not code:
                continue
            t = places.setdefault(code, PlaceTally(code=code))
            t.total += c.n
            t.open += c.n if is_open else 0
            t.overdue += c.n if c.overdue else 0
    return BoardSummary(
        total=total,
        open=open_,
        overdue=overdue,
        escalated=escalated,
        by_board=dict(by_board),
        by_state=dict(by_state),
        by_district=districts,
        by_town=towns,
    )
