"""Work-order store on SQLite and on the real PostgreSQL: migrations, the state machine,
optimistic concurrency between processes, idempotent submission, the SLA sweeper, audit.

PostgreSQL tests run in a database created for this test session (dropped at the end) and
a fresh schema per test, so they never collide with other suites using ``test``. They are
skipped, not failed, when no server answers at ``COPILOT_TEST_PG_URL``
(default ``postgresql://postgres@127.0.0.1:5432/test``).
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import re
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa
import typer
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from typer.testing import CliRunner

from copilot.users import models as _users  # noqa: F401  (its tables are in the metadata)
from copilot.work_orders import (
    TRANSITIONS,
    EditNotAllowed,
    IdempotencyKeyReused,
    IllegalTransition,
    NewWorkOrder,
    OrderChanges,
    OrderFilters,
    OrderNotFound,
    SqlWorkOrderStore,
    State,
    TransitionRequest,
    VersionConflict,
    WorkOrderOut,
    downgrade_migrations,
    make_engine,
    run_migrations,
)
from copilot.work_orders.db import current_revision, default_database_url, normalize_url
from copilot.work_orders.deadlines import check_deadline_hours, sla_from_catalogue
from copilot.work_orders.models import Base
from copilot.work_orders.states import FINAL_STATES
from copilot.work_orders.store import SWEEPER_ACTOR, order_number

REPO = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = os.environ.get("COPILOT_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # 09:00 in Chongqing
HOURS = {"紧急": 1.0, "较急": 8.0, "一般": 24.0}
GRACE = 4.0
S = State

# The shortest walk from a new draft to each state: how the tests reach a starting point.
PATH: dict[State, list[State]] = {
    S.DRAFT: [],
    S.PENDING_APPROVAL: [S.PENDING_APPROVAL],
    S.RETURNED: [S.PENDING_APPROVAL, S.RETURNED],
    S.CANCELLED: [S.CANCELLED],
    S.DISPATCHED: [S.PENDING_APPROVAL, S.DISPATCHED],
    S.ACCEPTED: [S.PENDING_APPROVAL, S.DISPATCHED, S.ACCEPTED],
    S.ESCALATED: [S.PENDING_APPROVAL, S.DISPATCHED, S.ESCALATED],
    S.IN_PROGRESS: [S.PENDING_APPROVAL, S.DISPATCHED, S.ACCEPTED, S.IN_PROGRESS],
    S.RESOLVED: [S.PENDING_APPROVAL, S.DISPATCHED, S.ACCEPTED, S.IN_PROGRESS, S.RESOLVED],
    S.CLOSED: [S.PENDING_APPROVAL, S.DISPATCHED, S.ACCEPTED, S.IN_PROGRESS, S.RESOLVED, S.CLOSED],
    S.REOPENED: [
        S.PENDING_APPROVAL,
        S.DISPATCHED,
        S.ACCEPTED,
        S.IN_PROGRESS,
        S.RESOLVED,
        S.REOPENED,
    ],
}
LEGAL = [(a, b) for a in State for b in State if b in TRANSITIONS[a]]


# -- fixtures -----------------------------------------------------------------------------


def _pg_reachable() -> bool:
    try:
        with psycopg.connect(PG_ADMIN_URL, connect_timeout=3):
            return True
    except psycopg.Error:
        return False


@pytest.fixture(scope="session")
def pg_database() -> str:
    """A database of our own for this session; dropped, with everything in it, at the end."""
    if not _pg_reachable():
        pytest.skip(f"no PostgreSQL at {PG_ADMIN_URL}")
    name = f"copilot_wo_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = sa.make_url(normalize_url(PG_ADMIN_URL)).set(database=name)
    yield url.render_as_string(hide_password=False)
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.integration)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database: a new SQLite file, or a new schema in the session's PG database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'orders.db'}"
    base = request.getfixturevalue("pg_database")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(base.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    return f"{base}?options=-csearch_path%3D{schema}"


@pytest.fixture
def store(db_url: str) -> SqlWorkOrderStore:
    s = SqlWorkOrderStore.from_url(db_url)
    yield s
    s.close()


def new_order(**over: Any) -> NewWorkOrder:
    fields: dict[str, Any] = {
        "idempotency_key": f"msg-{uuid.uuid4().hex}",
        "title": "井盖缺失",
        "text": "江北区观音桥步行街东侧有个井盖莫得了，井口敞起，晚上很容易掉下去。",
        "board": "设施运行",
        "event_type": "FAC-MANHOLE-COVER",
        "urgency": "较急",
        "tier": "网格",
        "department": "城市管理局",
        "owner_unit": "观音桥社区第3网格",
        "district_code": "500105",
        "town_code": "500105005",
        "village_code": "500105005001",
        "grid_code": "500105005001-03",
        "cooperating_units": ["观音桥街道办事处"],
        "deadline_hours": HOURS,
        "grace_hours": GRACE,
    }
    fields.update(over)
    return NewWorkOrder(**fields)


def walk(store: SqlWorkOrderStore, order: WorkOrderOut, path: list[State], now: datetime):
    for state in path:
        order = store.transition(order.id, state, "tester", order.version, now=now)
    return order


def order_in(store: SqlWorkOrderStore, state: State, now: datetime = T0, **over: Any):
    return walk(store, store.create(new_order(**over), "grid:张三", now=now), PATH[state], now)


def count_orders(store: SqlWorkOrderStore) -> int:
    with store.engine.connect() as conn:
        return conn.scalar(sa.text("SELECT count(*) FROM work_orders"))


# -- pure parts ---------------------------------------------------------------------------


def test_every_state_is_reachable_and_final_states_have_no_exit():
    assert set(PATH) == set(State)
    for state, path in PATH.items():
        prev = S.DRAFT
        for nxt in path:
            assert nxt in TRANSITIONS[prev], (prev, nxt)
            prev = nxt
        assert prev is state
    assert {S.CLOSED, S.CANCELLED} == FINAL_STATES


def test_every_catalogue_entry_yields_a_valid_sla():
    entries = json.loads((REPO / "data/catalogue/event_types.json").read_text(encoding="utf-8"))
    for entry in entries:
        hours, grace = sla_from_catalogue(entry)
        assert hours["紧急"] <= hours["较急"] <= hours["一般"] and grace >= 0


@pytest.mark.parametrize(
    "hours",
    [{"紧急": 1, "较急": 2}, {"紧急": 3, "较急": 2, "一般": 4}, {"紧急": 0, "较急": 2, "一般": 4}],
)
def test_bad_deadline_hours_are_rejected(hours):
    with pytest.raises(ValueError):
        check_deadline_hours(hours)


def test_order_number_uses_the_china_date():
    assert order_number(123, datetime(2026, 11, 26, 17, 0, tzinfo=UTC)) == "WO-20261127-000123"
    assert order_number(1234567, T0) == "WO-20260302-1234567"


def test_default_database_is_an_absolute_sqlite_file_under_home(tmp_path):
    url = default_database_url(tmp_path / "home")
    assert url == f"sqlite:///{tmp_path / 'home' / 'copilot.db'}"
    assert normalize_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"


# -- migrations ---------------------------------------------------------------------------


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_migrations_up_then_down_leave_no_tables(db_url):
    run_migrations(db_url)
    run_migrations(db_url)  # a second upgrade (every process start) is a no-op
    assert _tables(db_url) == {
        "work_orders",
        "work_order_audit",
        "work_order_vectors",
        "disposition_traces",
        "users",
        "api_tokens",
        "event_inbox",
        "alembic_version",
    }
    assert current_revision(db_url) == "0004_users"
    engine = make_engine(db_url)
    indexes = {i["name"] for i in sa.inspect(engine).get_indexes("work_orders")}
    engine.dispose()
    assert {"ix_work_orders_state_escalate_at", "ix_work_orders_district_state"} <= indexes

    downgrade_migrations(db_url)
    assert _tables(db_url) - {"alembic_version"} == set()  # Alembic keeps its own table
    assert current_revision(db_url) is None
    if db_url.startswith("postgresql"):
        engine = make_engine(db_url)
        with engine.connect() as conn:
            leftover = conn.scalar(
                sa.text(
                    "SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
                    " WHERE n.nspname = current_schema()"
                )
            )
        engine.dispose()
        assert leftover == 0
    run_migrations(db_url)  # and down left nothing behind that blocks going up again
    assert "work_orders" in _tables(db_url)


def test_models_and_migration_describe_the_same_schema(db_url):
    run_migrations(db_url)
    engine = make_engine(db_url)
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(ctx, Base.metadata)
    engine.dispose()
    assert diff == []


def test_audit_log_rejects_update_and_delete(store):
    order = store.create(new_order(), "grid:张三", now=T0)
    for sql in ("UPDATE work_order_audit SET actor = 'x'", "DELETE FROM work_order_audit"):
        with pytest.raises(sa.exc.DBAPIError, match="append-only"), store.engine.begin() as conn:
            conn.execute(sa.text(sql))
    assert [a.action for a in store.audit(order.id)] == ["create"]


# -- state machine ------------------------------------------------------------------------


@pytest.mark.parametrize("from_state", list(State), ids=lambda s: s.value)
def test_every_legal_transition_succeeds_and_writes_an_audit_entry(store, from_state):
    targets = sorted(TRANSITIONS[from_state])
    for to_state in targets:
        order = order_in(store, from_state)
        trail_before = store.audit(order.id)
        later = T0 + timedelta(minutes=5)
        done = store.transition(order.id, to_state, "官员:李四", order.version, "ok", now=later)

        assert done.state is to_state
        assert done.version == order.version + 1
        assert store.get(order.id) == done
        trail = store.audit(order.id)
        assert len(trail) == len(trail_before) + 1
        entry = trail[-1]
        assert (entry.actor, entry.from_state, entry.to_state) == (
            "官员:李四",
            from_state,
            to_state,
        )
        assert entry.action == ("escalate" if to_state is S.ESCALATED else "transition")
        assert entry.version == done.version and entry.comment == "ok" and entry.at == later
        assert entry.before["state"] == from_state.value
        assert entry.after["state"] == to_state.value
        assert entry.before["version"] == order.version
        assert set(entry.before) == set(entry.after)
    if not targets:
        assert from_state in FINAL_STATES


@pytest.mark.parametrize("from_state", list(State), ids=lambda s: s.value)
def test_every_illegal_transition_raises_and_changes_nothing(store, from_state):
    order = order_in(store, from_state)
    trail = store.audit(order.id)
    illegal = [s for s in State if s not in TRANSITIONS[from_state]]
    assert illegal  # at least the self-loop, except escalated (which has others)
    for to_state in illegal:
        with pytest.raises(IllegalTransition) as info:
            store.transition(order.id, to_state, "tester", order.version)
        msg = str(info.value)
        assert "非法状态转换 illegal transition" in msg
        assert order.order_no in msg and from_state.value in msg and to_state.value in msg
        assert store.get(order.id) == order
    assert store.audit(order.id) == trail


def test_side_effects_of_the_lifecycle(store):
    """Clock starts at dispatch; escalation moves the tier and restarts the clock;
    re-dispatch keeps the escalation window; resolve stops it; reopen restarts it."""
    order = order_in(store, S.PENDING_APPROVAL)
    assert order.deadline_at is None and order.escalate_at is None
    d = store.transition(order.id, S.DISPATCHED, "a", order.version, now=T0)
    assert d.deadline_at == T0 + timedelta(hours=8)  # 较急
    assert d.escalate_at == d.deadline_at + timedelta(hours=GRACE)

    t1 = T0 + timedelta(hours=1)
    e = store.transition(d.id, S.ESCALATED, "a", d.version, now=t1)
    assert (e.tier, e.escalation_level, e.supervised) == ("村社", 1, False)
    assert e.deadline_at == t1 + timedelta(hours=8)

    changes = OrderChanges(owner_unit="观音桥社区居委会")
    t2 = T0 + timedelta(hours=2)
    r = store.transition(e.id, S.DISPATCHED, "a", e.version, changes=changes, now=t2)
    assert r.owner_unit == "观音桥社区居委会" and r.tier == "村社"
    assert r.deadline_at == e.deadline_at  # re-dispatching inside the tier buys no time

    r = walk(store, r, [S.ACCEPTED, S.IN_PROGRESS, S.RESOLVED], t2)
    assert r.resolved_at == t2 and r.escalate_at is None
    t3 = T0 + timedelta(hours=3)
    r = store.transition(r.id, S.REOPENED, "市民回访", r.version, now=t3)
    assert r.resolved_at is None and r.deadline_at == t3 + timedelta(hours=8)

    back = order_in(store, S.DISPATCHED)
    back = store.transition(back.id, S.RETURNED, "unit", back.version, "非本单位职责")
    assert back.deadline_at is None and back.escalate_at is None


def test_edits_are_allowed_only_before_dispatch_or_as_routing_on_dispatch(store):
    returned = order_in(store, S.RETURNED)
    edited = store.apply(
        returned.id,
        TransitionRequest(
            to_state=S.PENDING_APPROVAL,
            actor="drafter",
            expected_version=returned.version,
            changes=OrderChanges(title="观音桥井盖缺失", urgency="紧急"),
        ),
    )
    assert (edited.title, edited.urgency) == ("观音桥井盖缺失", "紧急")
    audit = store.audit(edited.id)[-1]
    assert audit.before["title"] == "井盖缺失" and audit.after["title"] == "观音桥井盖缺失"

    dispatched = order_in(store, S.DISPATCHED)
    with pytest.raises(EditNotAllowed):
        store.transition(
            dispatched.id,
            S.ACCEPTED,
            "unit",
            dispatched.version,
            changes=OrderChanges(title="改标题"),
        )
    assert store.get(dispatched.id) == dispatched


def test_stale_version_raises_conflict_and_changes_nothing(store):
    order = order_in(store, S.DISPATCHED)
    store.transition(order.id, S.ACCEPTED, "unit-a", order.version)
    now = store.get(order.id)
    with pytest.raises(VersionConflict) as info:
        store.transition(order.id, S.ACCEPTED, "unit-b", order.version)
    assert "版本冲突 version conflict" in str(info.value)
    assert (info.value.expected, info.value.actual) == (order.version, order.version + 1)
    assert store.get(order.id) == now
    with pytest.raises(OrderNotFound):
        store.transition(10**9, S.ACCEPTED, "x", 1)


# -- idempotency --------------------------------------------------------------------------


def test_idempotent_resubmission_returns_the_same_order_and_one_row(store):
    sub = new_order()
    first = store.create(sub, "wecom-bot", now=T0)
    again = store.create(sub, "wecom-bot", now=T0 + timedelta(seconds=30))
    assert not first.replayed and again.replayed
    assert again.model_dump(exclude={"replayed"}) == first.model_dump(exclude={"replayed"})
    # A retry worded differently by an LLM (title/classification) is still the same report.
    reworded = store.create(sub.model_copy(update={"title": "井盖丢失"}), "wecom-bot")
    assert reworded.id == first.id
    assert count_orders(store) == 1
    assert [a.action for a in store.audit(first.id)] == ["create"]

    with pytest.raises(IdempotencyKeyReused):
        store.create(sub.model_copy(update={"text": "另一件事"}), "wecom-bot")
    assert count_orders(store) == 1


def test_batch_create_is_idempotent_within_and_across_batches(store):
    subs = [new_order() for _ in range(5)]
    first = store.create_many([*subs, subs[0]], "batch", now=T0)
    assert [o.replayed for o in first] == [False] * 5 + [True]
    assert first[5].id == first[0].id
    again = store.create_many(subs, "batch", now=T0)
    assert [o.id for o in again] == [o.id for o in first[:5]] and all(o.replayed for o in again)
    assert count_orders(store) == 5
    assert len({o.order_no for o in first}) == 5
    assert all(re.fullmatch(r"WO-20260302-\d{6,}", o.order_no) for o in first)


# -- concurrency between processes --------------------------------------------------------


def _slow(module: Any, name: str, seconds: float) -> None:
    """Widen the window between reading a row and writing it, so a race really overlaps."""
    original = getattr(module, name)

    def slowed(*args: Any, **kwargs: Any) -> Any:
        time.sleep(seconds)
        return original(*args, **kwargs)

    setattr(module, name, slowed)


def _race_worker(url: str, orders: list[tuple[int, int]], barrier: Any, results: Any) -> None:
    import copilot.work_orders.store as store_mod

    _slow(store_mod, "_enter", 0.15)
    store = SqlWorkOrderStore(make_engine(url), owns_engine=True)
    outcome = []
    for order_id, version in orders:
        barrier.wait(timeout=60)
        try:
            store.transition(order_id, S.ACCEPTED, f"unit-{os.getpid()}", version)
            outcome.append((order_id, "won"))
        except VersionConflict:
            outcome.append((order_id, "conflict"))
        except Exception as exc:  # reported to the parent, which fails the test
            outcome.append((order_id, f"error {exc!r}"))
    store.close()
    results.put(outcome)


def _submit_worker(url: str, sub_json: str, barrier: Any, results: Any) -> None:
    import copilot.work_orders.store as store_mod

    _slow(store_mod, "_new_order", 0.15)
    store = SqlWorkOrderStore(make_engine(url), owns_engine=True)
    barrier.wait(timeout=60)
    try:
        order = store.create(NewWorkOrder.model_validate_json(sub_json), f"bot-{os.getpid()}")
        results.put((order.id, order.replayed))
    except Exception as exc:
        results.put(("error", repr(exc)))
    store.close()


def _sweep_worker(url: str, now_iso: str, barrier: Any, results: Any) -> None:
    import copilot.work_orders.store as store_mod

    _slow(store_mod, "_enter", 0.005)
    store = SqlWorkOrderStore(make_engine(url), owns_engine=True)
    barrier.wait(timeout=60)
    try:
        done = store.sweep_overdue(datetime.fromisoformat(now_iso), batch_size=5)
        results.put([o.id for o in done])
    except Exception as exc:
        results.put(("error", repr(exc)))
    store.close()


def _run_pair(target: Any, *args: Any) -> list[Any]:
    """Run ``target`` in two spawned processes that start together; return both results."""
    ctx = mp.get_context("spawn")
    barrier, results = ctx.Barrier(2), ctx.Queue()
    procs = [ctx.Process(target=target, args=(*args, barrier, results)) for _ in range(2)]
    for p in procs:
        p.start()
    out = [results.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=30)
        assert p.exitcode == 0
    return out


def test_two_processes_racing_on_one_order_exactly_one_wins(store, db_url):
    orders = [order_in(store, S.DISPATCHED) for _ in range(3)]
    pairs = [(o.id, o.version) for o in orders]
    outcomes = _run_pair(_race_worker, db_url, pairs)
    per_order: dict[int, Counter] = {o.id: Counter() for o in orders}
    for outcome in outcomes:
        for order_id, result in outcome:
            per_order[order_id][result] += 1
    for o in orders:
        assert per_order[o.id] == Counter({"won": 1, "conflict": 1}), per_order[o.id]
        final = store.get(o.id)
        assert (final.state, final.version) == (S.ACCEPTED, o.version + 1)
        assert [a.to_state for a in store.audit(o.id)].count(S.ACCEPTED) == 1


def test_two_processes_submitting_one_key_make_one_order(store, db_url):
    sub = new_order()
    outcomes = _run_pair(_submit_worker, db_url, sub.model_dump_json())
    assert all(o[0] != "error" for o in outcomes), outcomes
    assert outcomes[0][0] == outcomes[1][0]
    assert sorted(replayed for _, replayed in outcomes) == [False, True]
    assert count_orders(store) == 1


# -- SLA sweeper --------------------------------------------------------------------------


def test_sweeper_escalates_an_overdue_order_one_tier_up_and_leaves_the_rest(store):
    overdue = order_in(store, S.DISPATCHED, now=T0)
    fresh = order_in(store, S.DISPATCHED, now=T0 + timedelta(hours=10))
    slow = order_in(store, S.IN_PROGRESS, now=T0, urgency="一般")  # 24 h window
    draft = order_in(store, S.DRAFT, now=T0)
    done = order_in(store, S.RESOLVED, now=T0)
    due = T0 + timedelta(hours=8 + GRACE)

    assert store.sweep_overdue(due - timedelta(minutes=1)) == []  # past deadline, within grace
    assert [o.id for o in store.list(OrderFilters(overdue=True), now=due)] == [overdue.id]

    now = due + timedelta(minutes=1)
    (esc,) = store.sweep_overdue(now)
    assert esc.id == overdue.id
    assert (esc.state, esc.tier, esc.escalation_level) == (S.ESCALATED, "村社", 1)
    assert esc.deadline_at == now + timedelta(hours=8)
    assert esc.escalate_at == esc.deadline_at + timedelta(hours=GRACE)
    entry = store.audit(esc.id)[-1]
    assert (entry.actor, entry.action, entry.from_state) == (
        SWEEPER_ACTOR,
        "escalate",
        S.DISPATCHED,
    )
    assert (entry.before["tier"], entry.after["tier"]) == ("网格", "村社")
    assert entry.before["escalation_level"] == 0 and entry.after["escalation_level"] == 1

    for untouched in (fresh, slow, draft, done):
        assert store.get(untouched.id) == untouched
    assert store.sweep_overdue(now) == []  # nothing is escalated twice in one window

    # Nobody re-dispatched it: it keeps climbing, one tier per window.
    swept = {o.id: o for o in store.sweep_overdue(esc.escalate_at + timedelta(seconds=1))}
    again = swept[esc.id]
    assert (again.tier, again.escalation_level, again.state) == ("镇街", 2, S.ESCALATED)


def test_sweeper_keeps_city_orders_at_city_tier_and_flags_them(store):
    order = order_in(store, S.ACCEPTED, tier="市级", urgency="紧急")
    (esc,) = store.sweep_overdue(T0 + timedelta(hours=1 + GRACE, minutes=1))
    assert (esc.tier, esc.supervised, esc.escalation_level) == ("市级", True, 1)
    assert esc.id == order.id


def test_two_concurrent_sweepers_escalate_each_order_once(store, db_url):
    orders = store.create_many([new_order() for _ in range(40)], "batch", now=T0)
    for o in orders:
        walk(store, o, PATH[S.DISPATCHED], T0)
    now = T0 + timedelta(days=1)
    outcomes = _run_pair(_sweep_worker, db_url, now.isoformat())
    assert all(not (isinstance(o, tuple) and o[0] == "error") for o in outcomes), outcomes
    a, b = (set(o) for o in outcomes)
    assert not a & b
    assert a | b == {o.id for o in orders}
    for o in orders:
        final = store.get(o.id)
        assert (final.escalation_level, final.tier) == (1, "村社")
        assert [e.action for e in store.audit(o.id)].count("escalate") == 1


def test_background_sweeper_escalates_and_stops(store):
    from copilot.work_orders.sweeper import start_sweeper

    real_now = datetime.now(UTC)
    order = order_in(store, S.DISPATCHED, now=real_now - timedelta(days=2))
    seen: list[int] = []
    thread, stop = start_sweeper(store, 0.05, lambda done: seen.extend(o.id for o in done))
    deadline = time.monotonic() + 10
    while not seen and time.monotonic() < deadline:
        time.sleep(0.02)
    stop.set()
    thread.join(timeout=5)
    assert not thread.is_alive()
    assert seen == [order.id]
    assert store.get(order.id).tier == "村社"


# -- listing and the CLI ------------------------------------------------------------------


def test_list_filters_by_jurisdiction_board_and_state(store):
    a = order_in(store, S.DISPATCHED, district_code="500105", town_code="500105005")
    b = order_in(store, S.DRAFT, district_code="500106", town_code="500106001", board="生态景观")
    c = order_in(store, S.DISPATCHED, district_code="500106", town_code="500106001")
    ids = lambda **f: [o.id for o in store.list(OrderFilters(**f))]  # noqa: E731
    assert ids(district_code="500106") == [c.id, b.id]  # newest first
    assert ids(town_code="500105005") == [a.id]
    assert ids(board="生态景观") == [b.id]
    assert ids(states=[S.DISPATCHED], order="deadline") == [a.id, c.id]
    assert ids(limit=1, offset=1) == [b.id]
    assert store.get_by_no(a.order_no) == a
    with pytest.raises(OrderNotFound):
        store.get_by_no("WO-19990101-000001")


def test_cli_sweep_list_and_show(store, db_url):
    from copilot.work_orders.cli import orders_app, sla_app

    app = typer.Typer()
    app.add_typer(sla_app, name="sla")
    app.add_typer(orders_app, name="orders")
    runner = CliRunner()
    order = order_in(store, S.DISPATCHED)

    late = (T0 + timedelta(days=2)).isoformat()
    res = runner.invoke(app, ["sla", "sweep", "--database-url", db_url, "--now", late, "--json"])
    assert res.exit_code == 0, res.output
    (esc,) = json.loads(res.stdout)
    assert (esc["order_no"], esc["tier"], esc["state"]) == (order.order_no, "村社", "escalated")

    res = runner.invoke(app, ["orders", "list", "--database-url", db_url, "--state", "escalated"])
    assert res.exit_code == 0 and order.order_no in res.stdout

    res = runner.invoke(app, ["orders", "show", order.order_no, "--database-url", db_url, "--json"])
    assert res.exit_code == 0, res.output
    shown = json.loads(res.stdout)
    assert shown["order"]["id"] == order.id
    assert [a["action"] for a in shown["audit"]][-1] == "escalate"

    res = runner.invoke(app, ["orders", "show", "WO-19990101-000001", "--database-url", db_url])
    assert res.exit_code == 1


def test_orders_cli_approves_then_refuses_an_illegal_decision(tmp_path):
    from typer.testing import CliRunner

    from copilot.work_orders.cli import orders_app

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    store = SqlWorkOrderStore.from_url(url)
    order = store.create(new_order(state=State.PENDING_APPROVAL), actor="grid")
    store.close()
    runner = CliRunner()
    ok = runner.invoke(
        orders_app, ["approve", order.order_no, "--comment", "同意", "--database-url", url]
    )
    assert ok.exit_code == 0, ok.output
    assert "已派单" in ok.output
    bad = runner.invoke(orders_app, ["reject", str(order.id), "--database-url", url])
    assert bad.exit_code == 1 and "illegal decision" in bad.output and "accepted" in bad.output
