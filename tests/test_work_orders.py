"""The SQL work-order store on SQLite and on the real PostgreSQL: migrations, the
append-only audit table, optimistic concurrency and idempotent submission between processes,
concurrent sweepers, the background sweeper, the CLI. The behaviour every store shows —
the state machine, idempotency, listing, the sweep — is the contract in
tests/contracts/test_work_order_store.py.

PostgreSQL tests run in a database created for this test session (dropped at the end) and
a fresh schema per test (``pg_database`` and ``db_url`` in tests/conftest.py), so they never
collide with other suites using ``test``. They are skipped, not failed, when no server
answers at ``COPILOT_TEST_PG_URL`` (default ``postgresql://postgres@127.0.0.1:5432/test``).
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import typer
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from typer.testing import CliRunner

from copilot.users import models as _users  # noqa: F401  (its tables are in the metadata)
from copilot.work_orders import (
    TRANSITIONS,
    NewWorkOrder,
    SqlWorkOrderStore,
    State,
    VersionConflict,
    downgrade_migrations,
    make_engine,
    run_migrations,
)
from copilot.work_orders.db import current_revision, default_database_url, normalize_url
from copilot.work_orders.deadlines import check_deadline_hours, sla_from_catalogue
from copilot.work_orders.models import Base
from copilot.work_orders.states import FINAL_STATES
from copilot.work_orders.store import order_number
from tests.order_factory import PATH, T0, S, new_order, order_in, walk

REPO = Path(__file__).resolve().parent.parent


# -- fixtures -----------------------------------------------------------------------------


@pytest.fixture
def store(db_url: str) -> SqlWorkOrderStore:
    s = SqlWorkOrderStore.from_url(db_url)
    yield s
    s.close()


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
        "bot_pending",
        "alembic_version",
    }
    assert current_revision(db_url) == "0005_bot"
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


# -- the CLI ------------------------------------------------------------------------------


def test_cli_sweep_list_and_show(store, db_url):
    from copilot.cli.orders import orders_app, sla_app

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


def test_orders_cli_approves_then_refuses_an_illegal_decision(
    tmp_path, monkeypatch, bundled_kb, bundled_settings
):
    from typer.testing import CliRunner

    from copilot.cli.orders import orders_app

    # Deciding opens the answering services: over the session's bundled index, not a new one
    # built in ./.copilot (the default home) on every run.
    monkeypatch.setenv("COPILOT_HOME", str(bundled_settings.home))
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
