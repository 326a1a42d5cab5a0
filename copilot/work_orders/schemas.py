"""Pydantic models at the store's boundary: what comes in, what goes out."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from copilot.vocabulary import URGENCIES, Board, Tier, Urgency
from copilot.work_orders.deadlines import check_deadline_hours
from copilot.work_orders.states import OPEN_STATES, State

# What JSON Schema can say about deadline_hours (the order 紧急 ≤ 较急 ≤ 一般 it cannot).
DEADLINE_HOURS_SCHEMA = {
    "required": list(URGENCIES),
    "additionalProperties": False,
    "propertyNames": {"enum": list(URGENCIES)},
}


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class NewWorkOrder(_Input):
    """A submission: a routed event, usually straight from the routing engine's output.

    ``deadline_hours`` and ``grace_hours`` are the catalogue entry's ``deadline_hours`` and
    ``escalation.after_hours_overdue`` (see ``deadlines.sla_from_catalogue``).
    """

    idempotency_key: str = Field(
        min_length=1,
        max_length=128,
        description="Stable per submission, e.g. the bot's message id: a retry reuses it.",
    )
    title: str = Field(min_length=1, max_length=200)
    text: str = Field(min_length=1)
    board: Board
    event_type: str = Field(min_length=1, max_length=64, description="Catalogue id.")
    urgency: Urgency
    tier: Tier
    department: str = Field(min_length=1, max_length=64)
    owner_unit: str | None = Field(default=None, max_length=128)
    district_code: str | None = Field(default=None, max_length=24)
    town_code: str | None = Field(default=None, max_length=24)
    village_code: str | None = Field(default=None, max_length=24)
    grid_code: str | None = Field(default=None, max_length=32)
    cooperating_units: list[str] = Field(default_factory=list)
    details: dict[str, Any] = Field(
        default_factory=dict, description="Disposition draft, routing reasons, legal basis."
    )
    deadline_hours: dict[Urgency, float] = Field(json_schema_extra=DEADLINE_HOURS_SCHEMA)
    grace_hours: float = Field(default=0.0, ge=0)
    state: Literal[State.DRAFT, State.PENDING_APPROVAL] = State.DRAFT

    _check_hours = field_validator("deadline_hours")(check_deadline_hours)

    def request_hash(self) -> str:
        """Fingerprint of the report itself: its text and place.

        Derived fields (title, classification, routing) are left out on purpose: an LLM may
        word them differently on a retry of the same message, and that is still a retry.
        """
        core = [self.text, self.district_code, self.town_code, self.village_code, self.grid_code]
        return hashlib.sha256(json.dumps(core, ensure_ascii=False).encode()).hexdigest()


class OrderChanges(_Input):
    """Edits carried by a transition. Content may change only while the order is in draft,
    pending_approval or returned; on dispatch only the routing (who owns it) may change."""

    title: str | None = Field(default=None, min_length=1, max_length=200)
    text: str | None = Field(default=None, min_length=1)
    board: Board | None = None
    event_type: str | None = Field(default=None, min_length=1, max_length=64)
    urgency: Urgency | None = None
    tier: Tier | None = None
    department: str | None = Field(default=None, min_length=1, max_length=64)
    owner_unit: str | None = Field(default=None, max_length=128)
    cooperating_units: list[str] | None = None
    deadline_hours: dict[Urgency, float] | None = Field(
        default=None, json_schema_extra=DEADLINE_HOURS_SCHEMA
    )
    grace_hours: float | None = Field(default=None, ge=0)
    details: dict[str, Any] | None = Field(
        default=None, description="The disposition as edited by the approver."
    )

    @field_validator("deadline_hours")
    @classmethod
    def _hours(cls, v: dict[str, float] | None) -> dict[str, float] | None:
        return None if v is None else check_deadline_hours(v)

    ROUTING_FIELDS: ClassVar[frozenset[str]] = frozenset(
        {"department", "owner_unit", "cooperating_units"}
    )

    def given(self) -> dict[str, Any]:
        """Only the fields the caller set (an explicit None on owner_unit clears it)."""
        return {k: getattr(self, k) for k in self.model_fields_set}


class TransitionRequest(_Input):
    to_state: State
    actor: str = Field(min_length=1, max_length=64)
    expected_version: int = Field(ge=1, description="The version the caller last read.")
    comment: str | None = None
    changes: OrderChanges | None = None


class OrderFilters(_Input):
    tier: Tier | None = None
    district_code: str | None = None
    town_code: str | None = None
    village_code: str | None = None
    grid_code: str | None = None
    board: Board | None = None
    event_type: str | None = None
    created_by: str | None = Field(default=None, description="The reporter's user name.")
    states: list[State] | None = None
    overdue: bool = Field(default=False, description="Open and past the deadline.")
    order: Literal["newest", "deadline"] = "newest"
    limit: int = Field(default=50, ge=1, le=1000)
    offset: int = Field(default=0, ge=0)


class OrderCount(BaseModel):
    """One cell of the board's tallies: how many orders share these values."""

    board: str
    state: State
    district_code: str | None
    town_code: str | None
    overdue: bool
    n: int


class WorkOrderOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    order_no: str
    idempotency_key: str
    title: str
    text: str
    board: str
    event_type: str
    urgency: Urgency
    tier: Tier
    department: str
    owner_unit: str | None
    district_code: str | None
    town_code: str | None
    village_code: str | None
    grid_code: str | None
    cooperating_units: list[str]
    details: dict[str, Any] | None = None
    state: State
    deadline_hours: dict[Urgency, float]
    grace_hours: float
    deadline_at: datetime | None
    escalate_at: datetime | None
    escalation_level: int
    supervised: bool
    resolved_at: datetime | None
    created_by: str
    version: int
    created_at: datetime
    updated_at: datetime
    replayed: bool = Field(
        default=False, description="True when create() returned an order made by an earlier try."
    )

    def is_overdue(self, now: datetime) -> bool:
        return self.state in OPEN_STATES and self.deadline_at is not None and self.deadline_at < now


class AuditOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    order_id: int
    actor: str
    action: str
    from_state: State | None
    to_state: State | None
    version: int
    comment: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    at: datetime
