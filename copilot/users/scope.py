"""Jurisdiction scoping: what a user may see is the subtree of its division."""

from __future__ import annotations

from typing import Any

from copilot.hierarchy import Hierarchy
from copilot.users.store import Role, UserOut

# Order columns that hold the division code at each level.
ORDER_COLUMN = {
    "district": "district_code",
    "town": "town_code",
    "village": "village_code",
    "grid": "grid_code",
}


def sees_everything(user: UserOut) -> bool:
    return user.role in (Role.ADMIN, Role.EVALUATOR, Role.CITY)


def order_filters(user: UserOut, hierarchy: Hierarchy) -> dict[str, Any]:
    """OrderFilters fields that confine a listing to the user's jurisdiction."""
    if sees_everything(user):
        return {}
    node = hierarchy.get(user.jurisdiction)
    column = ORDER_COLUMN.get(node.level) if node else None
    # A zone (两江新区…) spans towns of several districts: filtered per order instead.
    return {column: user.jurisdiction} if column else {}


def can_see_order(user: UserOut, order: Any, hierarchy: Hierarchy) -> bool:
    """Whether ``order`` (anything with the four division codes) lies in the jurisdiction."""
    if sees_everything(user):
        return True
    codes = [order.grid_code, order.village_code, order.town_code, order.district_code]
    return any(c and hierarchy.is_within(c, user.jurisdiction) for c in codes)


def can_see_division(user: UserOut, code: str, hierarchy: Hierarchy) -> bool:
    """A division inside the jurisdiction (its own figures and its children's)."""
    if sees_everything(user):
        return True
    return hierarchy.get(code) is not None and hierarchy.is_within(code, user.jurisdiction)
