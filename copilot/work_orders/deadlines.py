"""SLA arithmetic: deadlines from the catalogue's hours, and when an order escalates.

The store never reads the catalogue itself: callers pass the entry's ``deadline_hours``
(``{"紧急": h, "较急": h, "一般": h}``) and ``escalation.after_hours_overdue`` in the new
order, so the store can be tested and reused without the catalogue loader.

Clock rules (see ``states`` for the states):

- the clock starts when a unit becomes accountable, i.e. on dispatch, not at creation:
  time spent waiting for approval is the approver's, not the owner's;
- an escalation starts a fresh window at the higher tier (now + hours for the urgency);
  re-dispatching within that tier does not restart it again;
- reopening starts a fresh window; leaving the open states stops the clock;
- the sweeper escalates at ``deadline + grace`` (the catalogue's ``after_hours_overdue``),
  while the board counts an order as overdue from its deadline.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from copilot.vocabulary import URGENCIES, Urgency

# Officials read Beijing time (order numbers carry its date): China has had one offset and
# no DST since 1991. Storage and JSON stay UTC.
CHINA_TZ = timezone(timedelta(hours=8), "Asia/Shanghai")


def beijing_time(ts: datetime | None, *, short: bool = False) -> str:
    """``2026-03-02 09:30`` (``03-02 09:30`` when short) in Beijing time; ``—`` for none."""
    if ts is None:
        return "—"
    return f"{as_utc(ts).astimezone(CHINA_TZ):{'%m-%d %H:%M' if short else '%Y-%m-%d %H:%M'}}"


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """Aware UTC; a naive datetime is taken to be UTC already (how SQLite hands them back)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def check_deadline_hours(hours: Mapping[str, float]) -> dict[str, float]:
    """All three urgencies, positive, and 紧急 ≤ 较急 ≤ 一般, as the catalogue promises.

    Positive matters beyond tidiness: a zero window would let one sweep escalate the same
    order again and again.
    """
    missing = [u for u in URGENCIES if u not in hours]
    if missing:
        raise ValueError(f"deadline_hours 缺少 missing urgency: {', '.join(missing)}")
    extra = sorted(set(hours) - set(URGENCIES))
    if extra:
        raise ValueError(f"deadline_hours 未知紧急程度 unknown urgency: {', '.join(extra)}")
    clean = {u: float(hours[u]) for u in URGENCIES}
    if any(h <= 0 for h in clean.values()):
        raise ValueError("deadline_hours 必须为正 must be positive")
    if not clean["紧急"] <= clean["较急"] <= clean["一般"]:
        raise ValueError("deadline_hours 必须满足 must satisfy 紧急 ≤ 较急 ≤ 一般")
    return clean


def deadline_after(start: datetime, hours: Mapping[str, float], urgency: Urgency) -> datetime:
    """``start`` plus the window for ``urgency``."""
    return as_utc(start) + timedelta(hours=float(hours[urgency]))


def escalation_due(deadline: datetime, grace_hours: float) -> datetime:
    """When the sweeper may escalate: the deadline plus the catalogue's grace."""
    return as_utc(deadline) + timedelta(hours=grace_hours)


def sla_from_catalogue(entry: Mapping[str, Any]) -> tuple[dict[str, float], float]:
    """``(deadline_hours, grace_hours)`` from one ``event_types.json`` entry."""
    grace = float((entry.get("escalation") or {}).get("after_hours_overdue", 0))
    return check_deadline_hours(entry["deadline_hours"]), grace
