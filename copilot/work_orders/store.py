"""The work-order store: the ``WorkOrderStore`` seam and its SQLAlchemy implementation.

Guarantees, on SQLite and PostgreSQL alike:

- **idempotent create**: a repeated ``idempotency_key`` returns the first order
  (``replayed=True``) and never inserts a second row, also when two submissions race (the
  unique index decides, the loser reads the winner's row);
- **legal transitions only**: ``states.TRANSITIONS`` is checked before anything changes;
- **optimistic concurrency**: the caller passes the version it read; a stale version, or
  losing a race between read and write, raises ``VersionConflict`` and changes nothing;
- **audit in the same transaction**: every change writes one append-only audit row with
  the changed fields before and after, or neither is written;
- **sweeper safe with many processes**: PostgreSQL claims overdue rows with
  ``FOR UPDATE SKIP LOCKED`` so concurrent sweepers split the work; SQLite serialises
  writers with ``BEGIN IMMEDIATE``. Either way an order is escalated once per window.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from copilot.vocabulary import tier_up
from copilot.work_orders.db import make_engine, run_migrations, write_engine
from copilot.work_orders.deadlines import (
    CHINA_TZ,
    Urgency,
    as_utc,
    deadline_after,
    escalation_due,
    utcnow,
)
from copilot.work_orders.errors import (
    EditNotAllowed,
    IdempotencyKeyReused,
    IllegalTransition,
    OrderNotFound,
    VersionConflict,
)
from copilot.work_orders.models import AuditEntry, WorkOrder
from copilot.work_orders.schemas import (
    AuditOut,
    NewWorkOrder,
    OrderChanges,
    OrderCount,
    OrderFilters,
    TransitionRequest,
    WorkOrderOut,
)
from copilot.work_orders.states import EDITABLE_STATES, OPEN_STATES, State, is_legal

SWEEPER_ACTOR = "system:sla-sweeper"
_IN_CHUNK = 500  # keys per IN (...) list: well under SQLite's and psycopg's parameter limits
_OPEN = [s.value for s in OPEN_STATES]

# Aliases so the ``list`` method below does not shadow the builtin inside annotations.
OrderList = list[WorkOrderOut]
AuditList = list[AuditOut]
CountList = list[OrderCount]


class WorkOrderStore(Protocol):
    """What the service layer, the API, the bots and the sweeper rely on."""

    def create(
        self, new: NewWorkOrder, actor: str, *, now: datetime | None = None
    ) -> WorkOrderOut: ...

    def create_many(
        self, news: Sequence[NewWorkOrder], actor: str, *, now: datetime | None = None
    ) -> OrderList: ...

    def get(self, order_id: int) -> WorkOrderOut: ...

    def get_by_no(self, order_no: str) -> WorkOrderOut: ...

    def list(
        self, filters: OrderFilters | None = None, *, now: datetime | None = None
    ) -> OrderList: ...

    def transition(
        self,
        order_id: int,
        to_state: State | str,
        actor: str,
        expected_version: int,
        comment: str | None = None,
        *,
        changes: OrderChanges | None = None,
        now: datetime | None = None,
    ) -> WorkOrderOut: ...

    def apply(
        self, order_id: int, request: TransitionRequest, *, now: datetime | None = None
    ) -> WorkOrderOut: ...

    def counts(
        self, filters: OrderFilters | None = None, *, now: datetime | None = None
    ) -> CountList:
        """How many orders match, per board, state, district, town and overdue (pagination
        and ordering in ``filters`` are ignored)."""
        ...

    def audit(self, order_id: int) -> AuditList: ...

    def sweep_overdue(
        self, now: datetime | None = None, tiers_up: int = 1, *, batch_size: int = 200
    ) -> OrderList: ...


class SqlWorkOrderStore:
    """``WorkOrderStore`` on any SQLAlchemy engine made by ``db.make_engine``."""

    def __init__(self, engine: Engine, *, owns_engine: bool = False) -> None:
        self.engine = engine
        self._owns_engine = owns_engine
        self._read = sessionmaker(engine, expire_on_commit=False)
        self._write = sessionmaker(write_engine(engine), expire_on_commit=False)

    @classmethod
    def from_url(cls, url: str, *, migrate: bool = True) -> SqlWorkOrderStore:
        """Open (and by default upgrade) the database at ``url``; ``close()`` disposes it."""
        if migrate:
            run_migrations(url)
        return cls(make_engine(url), owns_engine=True)

    def close(self) -> None:
        if self._owns_engine:
            self.engine.dispose()

    @contextmanager
    def _writing(self) -> Iterator[Session]:
        with self._write.begin() as session:
            yield session

    # -- create ---------------------------------------------------------------------------

    def create(self, new: NewWorkOrder, actor: str, *, now: datetime | None = None) -> WorkOrderOut:
        now = _now(now)
        try:
            with self._writing() as s:
                existing = s.scalar(
                    select(WorkOrder).where(WorkOrder.idempotency_key == new.idempotency_key)
                )
                if existing is not None:
                    return _replay(existing, new)
                (oid,) = self._next_ids(s, 1)
                order = _new_order(new, oid, actor, now)
                s.add(order)
                s.flush()
                s.add(_create_audit(order, actor, now))
                return _out(order)
        except IntegrityError:
            # Lost a race with a concurrent submission of the same key (PostgreSQL; SQLite
            # writers are serialised): the winner's order is the answer.
            winner = self._by_key(new.idempotency_key)
            if winner is None:
                raise
            return _replay(winner, new)

    def create_many(
        self, news: Sequence[NewWorkOrder], actor: str, *, now: datetime | None = None
    ) -> OrderList:
        """Many submissions in one transaction: one commit instead of one per order.

        Same idempotency rules as ``create``, also within the batch. If a concurrent
        writer inserts one of the keys first, the batch falls back to one create each.
        """
        now = _now(now)
        if not news:
            return []
        try:
            with self._writing() as s:
                keys = list(dict.fromkeys(n.idempotency_key for n in news))
                known: dict[str, WorkOrder] = {}
                for i in range(0, len(keys), _IN_CHUNK):
                    chunk = keys[i : i + _IN_CHUNK]
                    rows = s.scalars(select(WorkOrder).where(WorkOrder.idempotency_key.in_(chunk)))
                    known.update({o.idempotency_key: o for o in rows})
                fresh: dict[str, NewWorkOrder] = {}
                for n in news:
                    if n.idempotency_key not in known:
                        fresh.setdefault(n.idempotency_key, n)
                ids = self._next_ids(s, len(fresh))
                created = {
                    key: _new_order(n, oid, actor, now)
                    for (key, n), oid in zip(fresh.items(), ids, strict=True)
                }
                s.add_all(created.values())
                s.flush()
                s.add_all(_create_audit(o, actor, now) for o in created.values())
                out: OrderList = []
                seen: set[str] = set()
                for n in news:
                    key = n.idempotency_key
                    if key in created and key not in seen:
                        out.append(_out(created[key]))
                    else:
                        out.append(_replay(known.get(key) or created[key], n))
                    seen.add(key)
                return out
        except IntegrityError:
            return [self.create(n, actor, now=now) for n in news]

    def _next_ids(self, s: Session, n: int) -> list[int]:
        """Allocate ids before inserting, so the order number can be written with the row.

        PostgreSQL: the identity column's sequence (never blocks, never reused). SQLite:
        max(id)+1, safe because write transactions hold the database's write lock.
        """
        if n == 0:
            return []
        if s.bind.dialect.name == "postgresql":
            rows = s.execute(
                text(
                    "SELECT nextval(pg_get_serial_sequence('work_orders', 'id')) "
                    "FROM generate_series(1, :n)"
                ),
                {"n": n},
            )
            return [int(r) for r in rows.scalars()]
        start = s.scalar(select(func.coalesce(func.max(WorkOrder.id), 0))) or 0
        return list(range(start + 1, start + n + 1))

    def _by_key(self, key: str) -> WorkOrder | None:
        with self._read() as s:
            return s.scalar(select(WorkOrder).where(WorkOrder.idempotency_key == key))

    # -- read -----------------------------------------------------------------------------

    def get(self, order_id: int) -> WorkOrderOut:
        with self._read() as s:
            order = s.get(WorkOrder, order_id)
            if order is None:
                raise OrderNotFound(order_id)
            return _out(order)

    def get_by_no(self, order_no: str) -> WorkOrderOut:
        with self._read() as s:
            order = s.scalar(select(WorkOrder).where(WorkOrder.order_no == order_no))
            if order is None:
                raise OrderNotFound(order_no)
            return _out(order)

    def list(
        self, filters: OrderFilters | None = None, *, now: datetime | None = None
    ) -> OrderList:
        f = filters or OrderFilters()
        q = _filtered(select(WorkOrder), f, now)
        if f.order == "deadline" or f.overdue:
            q = q.order_by(WorkOrder.deadline_at.asc().nulls_last(), WorkOrder.id)
        else:
            q = q.order_by(WorkOrder.id.desc())
        q = q.limit(f.limit).offset(f.offset)
        with self._read() as s:
            return [_out(o) for o in s.scalars(q)]

    def counts(
        self, filters: OrderFilters | None = None, *, now: datetime | None = None
    ) -> CountList:
        f = filters or OrderFilters()
        at = _now(now)  # one instant for the overdue filter and the overdue column
        overdue = (WorkOrder.state.in_(_OPEN) & (WorkOrder.deadline_at < at)).label("od")
        keys = (WorkOrder.board, WorkOrder.state, WorkOrder.district_code, WorkOrder.town_code)
        q = _filtered(select(*keys, overdue, func.count()), f, at).group_by(*keys, overdue)
        with self._read() as s:
            return [
                OrderCount(board=b, state=st, district_code=d, town_code=t, overdue=bool(od), n=n)
                for b, st, d, t, od, n in s.execute(q)
            ]

    def audit(self, order_id: int) -> AuditList:
        with self._read() as s:
            rows = s.scalars(
                select(AuditEntry).where(AuditEntry.order_id == order_id).order_by(AuditEntry.id)
            ).all()
            if not rows:  # every order has its "create" row, so none means no such order
                raise OrderNotFound(order_id)
            return [AuditOut.model_validate(r) for r in rows]

    # -- change ---------------------------------------------------------------------------

    def transition(
        self,
        order_id: int,
        to_state: State | str,
        actor: str,
        expected_version: int,
        comment: str | None = None,
        *,
        changes: OrderChanges | None = None,
        now: datetime | None = None,
    ) -> WorkOrderOut:
        to, now = State(to_state), _now(now)
        order_no = str(order_id)
        try:
            with self._writing() as s:
                order = s.get(WorkOrder, order_id)
                if order is None:
                    raise OrderNotFound(order_id)
                order_no = order.order_no
                # A stale reader is told to reload first, even if its request is also
                # illegal: its picture of the order is what is wrong.
                if order.version != expected_version:
                    raise VersionConflict(order_no, expected_version, order.version)
                frm = State(order.state)
                if not is_legal(frm, to):
                    raise IllegalTransition(order_no, frm, to)
                before = _snapshot(order)
                if changes is not None:
                    _apply_changes(order, frm, to, changes)
                _enter(order, frm, to, now, tiers_up=1)
                s.flush()  # UPDATE ... WHERE id = :id AND version = :expected
                action = "escalate" if to is State.ESCALATED else "transition"
                s.add(_change_audit(order, actor, action, frm, to, before, comment, now))
                return _out(order)
        except StaleDataError as exc:
            # Another writer committed between our read and our write (PostgreSQL; on
            # SQLite the write lock taken at BEGIN makes the version check above catch it).
            # Raised here, once the session has rolled back, not inside its context.
            raise VersionConflict(order_no, expected_version, None) from exc

    def apply(
        self, order_id: int, request: TransitionRequest, *, now: datetime | None = None
    ) -> WorkOrderOut:
        return self.transition(
            order_id,
            request.to_state,
            request.actor,
            request.expected_version,
            request.comment,
            changes=request.changes,
            now=now,
        )

    def sweep_overdue(
        self,
        now: datetime | None = None,
        tiers_up: int = 1,
        *,
        batch_size: int = 200,
        actor: str = SWEEPER_ACTOR,
    ) -> OrderList:
        """Escalate every open order whose ``escalate_at`` has passed; return them.

        Works in batches of ``batch_size`` rows per transaction so locks stay short. An
        escalation sets a new window in the future, so a batch never sees its own work
        again and the loop ends.
        """
        now = _now(now)
        done: OrderList = []
        while True:
            with self._writing() as s:
                q = (
                    select(WorkOrder)
                    .where(WorkOrder.state.in_(_OPEN), WorkOrder.escalate_at <= now)
                    .order_by(WorkOrder.escalate_at, WorkOrder.id)
                    .limit(batch_size)
                    # PostgreSQL: rows another sweeper holds are skipped, not waited for.
                    # SQLite ignores this clause; BEGIN IMMEDIATE already serialises.
                    .with_for_update(skip_locked=True)
                )
                rows = s.scalars(q).all()
                claimed = []
                for order in rows:
                    frm = State(order.state)
                    before = _snapshot(order)
                    _enter(order, frm, State.ESCALATED, now, tiers_up=tiers_up)
                    claimed.append((order, frm, before))
                s.flush()
                for order, frm, before in claimed:
                    note = (
                        f"超时自动升级 overdue, escalated: {before['tier']} → {order.tier}"
                        f" (deadline {before['deadline_at']})"
                    )
                    s.add(
                        _change_audit(
                            order, actor, "escalate", frm, State.ESCALATED, before, note, now
                        )
                    )
                batch = [_out(o) for o in rows]
            done.extend(batch)
            if len(rows) < batch_size:
                return done


# -- helpers (pure, no I/O) ---------------------------------------------------------------


def _filtered(q: Any, f: OrderFilters, now: datetime | None) -> Any:
    """``q`` narrowed by the filters (pagination and ordering are the caller's)."""
    for column, value in (
        (WorkOrder.tier, f.tier),
        (WorkOrder.district_code, f.district_code),
        (WorkOrder.town_code, f.town_code),
        (WorkOrder.village_code, f.village_code),
        (WorkOrder.grid_code, f.grid_code),
        (WorkOrder.board, f.board),
        (WorkOrder.event_type, f.event_type),
        (WorkOrder.created_by, f.created_by),
    ):
        if value is not None:
            q = q.where(column == value)
    if f.states:
        q = q.where(WorkOrder.state.in_([s.value for s in f.states]))
    if f.overdue:
        q = q.where(WorkOrder.state.in_(_OPEN), WorkOrder.deadline_at < _now(now))
    return q


def _now(now: datetime | None) -> datetime:
    return utcnow() if now is None else as_utc(now)


def find_order(store: WorkOrderStore, ref: int | str) -> WorkOrderOut:
    """One order by id (a number, or digits) or order number (WO-…); ``OrderNotFound``."""
    if isinstance(ref, int) or ref.isdigit():
        return store.get(int(ref))
    return store.get_by_no(ref)


def order_number(order_id: int, created_at: datetime) -> str:
    """``WO-20261127-000123``: China date of creation, then the global id (6+ digits).

    The id rather than a per-day counter: unique without a hot counter row that every
    insert in the city would have to lock.
    """
    return f"WO-{created_at.astimezone(CHINA_TZ):%Y%m%d}-{order_id:06d}"


def _new_order(new: NewWorkOrder, oid: int, actor: str, now: datetime) -> WorkOrder:
    return WorkOrder(
        id=oid,
        order_no=order_number(oid, now),
        idempotency_key=new.idempotency_key,
        request_hash=new.request_hash(),
        title=new.title,
        text=new.text,
        board=new.board,
        event_type=new.event_type,
        urgency=new.urgency,
        tier=new.tier,
        department=new.department,
        owner_unit=new.owner_unit,
        district_code=new.district_code,
        town_code=new.town_code,
        village_code=new.village_code,
        grid_code=new.grid_code,
        cooperating_units=list(new.cooperating_units),
        details=dict(new.details) or None,
        state=State(new.state).value,
        deadline_hours=dict(new.deadline_hours),
        grace_hours=new.grace_hours,
        deadline_at=None,
        escalate_at=None,
        escalation_level=0,
        supervised=False,
        resolved_at=None,
        created_by=actor,
        created_at=now,
        updated_at=now,
    )


def _replay(existing: WorkOrder, new: NewWorkOrder) -> WorkOrderOut:
    if existing.request_hash != new.request_hash():
        raise IdempotencyKeyReused(new.idempotency_key, existing.order_no)
    return _out(existing, replayed=True)


def _apply_changes(order: WorkOrder, frm: State, to: State, changes: OrderChanges) -> None:
    given = changes.given()
    if not given:
        return
    routing_only = to is State.DISPATCHED and set(given) <= OrderChanges.ROUTING_FIELDS
    if frm not in EDITABLE_STATES and not routing_only:
        raise EditNotAllowed(order.order_no, frm)
    for key, value in given.items():
        if value is None and key != "owner_unit":  # only owner_unit may be cleared
            continue
        setattr(order, key, list(value) if key == "cooperating_units" else value)


def _enter(order: WorkOrder, frm: State, to: State, now: datetime, *, tiers_up: int) -> None:
    """The side effects of entering ``to``: tier, clock and flags (see ``deadlines``)."""

    def fresh_window() -> None:
        urgency: Urgency = order.urgency  # type: ignore[assignment]  # validated on input
        order.deadline_at = deadline_after(now, order.deadline_hours, urgency)
        order.escalate_at = escalation_due(order.deadline_at, order.grace_hours)

    if to is State.DISPATCHED and frm is not State.ESCALATED:
        fresh_window()
    elif to is State.ESCALATED:
        order.tier, at_top = tier_up(order.tier, tiers_up)  # type: ignore[arg-type]
        order.escalation_level += 1
        order.supervised = order.supervised or at_top
        fresh_window()
    elif to is State.REOPENED:
        order.resolved_at = None
        fresh_window()
    elif to is State.RETURNED:
        order.deadline_at = order.escalate_at = None
    elif to is State.RESOLVED:
        order.resolved_at = now
        order.escalate_at = None
    elif to in (State.CLOSED, State.CANCELLED):
        order.escalate_at = None
    order.state = to.value
    order.updated_at = now


_SNAPSHOT_SKIP = frozenset({"request_hash"})
_ALWAYS_AUDITED = frozenset({"state", "version"})


def _snapshot(order: WorkOrder) -> dict[str, Any]:
    """Every column as JSON-safe values (datetimes as ISO 8601 UTC)."""
    snap: dict[str, Any] = {}
    for col in WorkOrder.__table__.columns:
        if col.key in _SNAPSHOT_SKIP:
            continue
        value = getattr(order, col.key)
        if isinstance(value, datetime):
            value = as_utc(value).isoformat()
        elif isinstance(value, list | dict):
            value = value.copy()
        snap[col.key] = value
    return snap


def _create_audit(order: WorkOrder, actor: str, now: datetime) -> AuditEntry:
    return AuditEntry(
        order_id=order.id,
        actor=actor,
        action="create",
        from_state=None,
        to_state=order.state,
        version=order.version,
        comment=None,
        before=None,
        after=_snapshot(order),
        at=now,
    )


def _change_audit(
    order: WorkOrder,
    actor: str,
    action: str,
    frm: State,
    to: State,
    before: dict[str, Any],
    comment: str | None,
    now: datetime,
) -> AuditEntry:
    """Only the fields that changed, before and after (plus state and version): compact at
    hundreds of changes a second, and the create row holds the full starting picture."""
    after = _snapshot(order)
    # state and version always appear, so every row reads on its own (even escalated →
    # escalated, where the state itself does not change).
    changed = [k for k in after if after[k] != before.get(k) or k in _ALWAYS_AUDITED]
    return AuditEntry(
        order_id=order.id,
        actor=actor,
        action=action,
        from_state=frm.value,
        to_state=to.value,
        version=order.version,
        comment=comment,
        before={k: before.get(k) for k in changed},
        after={k: after[k] for k in changed},
        at=now,
    )


def _out(order: WorkOrder, *, replayed: bool = False) -> WorkOrderOut:
    out = WorkOrderOut.model_validate(order)
    out.replayed = replayed
    return out
