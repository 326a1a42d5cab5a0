"""Jurisdiction scoping: what a user may see is the subtree of its division."""

from __future__ import annotations

from typing import Any

from copilot.hierarchy import Hierarchy
from copilot.users.store import Role, UserOut
from copilot.work_orders.schemas import OrderFilters

# Order columns that hold the division code at each level.
ORDER_COLUMN = {
    "district": "district_code",
    "town": "town_code",
    "village": "village_code",
    "grid": "grid_code",
}


# Who may decide on a pending disposition: staff above the grid, within their jurisdiction.
APPROVERS = frozenset({Role.CITY, Role.DISTRICT, Role.TOWN, Role.VILLAGE, Role.ADMIN})


def may_decide(user: UserOut) -> bool:
    """Approve, return or reject a drafted disposition."""
    return user.role in APPROVERS


def may_change(user: UserOut) -> bool:
    """Submit events and move orders on (evaluators only read)."""
    return user.role is not Role.EVALUATOR


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


def scoped_filters(user: UserOut, hierarchy: Hierarchy, asked: OrderFilters) -> OrderFilters:
    """``asked`` confined to the user's jurisdiction: a filter outside it matches nothing
    rather than widening the listing."""
    fields = asked.model_dump()
    for column, code in order_filters(user, hierarchy).items():
        fields[column] = code if fields.get(column) in (None, code) else "-outside-"
    return OrderFilters.model_validate(fields)


def can_see_order(user: UserOut, order: Any, hierarchy: Hierarchy) -> bool:
    """Whether ``order`` (anything with the four division codes) lies in the jurisdiction,
    or the user reported it (a grid member follows a report routed elsewhere)."""
    if sees_everything(user) or getattr(order, "created_by", None) == user.name:
        return True
    codes = [order.grid_code, order.village_code, order.town_code, order.district_code]
    return any(c and hierarchy.is_within(c, user.jurisdiction) for c in codes)


def can_see_division(user: UserOut, code: str, hierarchy: Hierarchy) -> bool:
    """A division inside the jurisdiction (its own figures and its children's)."""
    if sees_everything(user):
        return True
    return hierarchy.get(code) is not None and hierarchy.is_within(code, user.jurisdiction)
