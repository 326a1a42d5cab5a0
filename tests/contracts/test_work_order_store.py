"""The ``WorkOrderStore`` contract (copilot/work_orders/store.py), run over every store.

Implementations: ``SqlWorkOrderStore`` on SQLite and on PostgreSQL (the ``db_url`` fixture of
tests/conftest.py; the PostgreSQL half is ``integration`` and skips without a server). The
contract is what the service layer, the API, the bots and the sweeper rely on, through the
protocol's methods only: idempotent create, get/get_by_no, list filters, legal transitions
with optimistic versions, an audit row per change, the SLA sweep. What is particular to SQL
(migrations, the append-only trigger, races between processes, the CLI) stays in
tests/test_work_orders.py.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from copilot.work_orders import (
    TRANSITIONS,
    EditNotAllowed,
    IdempotencyKeyReused,
    IllegalTransition,
    OrderChanges,
    OrderFilters,
    OrderNotFound,
    SqlWorkOrderStore,
    State,
    TransitionRequest,
    VersionConflict,
)
from copilot.work_orders.states import FINAL_STATES
from copilot.work_orders.store import SWEEPER_ACTOR, WorkOrderStore
from tests.order_factory import GRACE, T0, S, new_order, order_in, walk


def _count(store: WorkOrderStore) -> int:
    return len(store.list(OrderFilters(limit=1000)))


class WorkOrderStoreContract:
    """What every ``WorkOrderStore`` does. A subclass provides the ``store`` fixture: an
    empty store."""

    # -- create and read ------------------------------------------------------------------

    def test_create_returns_a_new_order_that_reads_back(self, store):
        order = store.create(new_order(), "grid:张三", now=T0)
        assert (order.state, order.version, order.replayed) == (S.DRAFT, 1, False)
        assert order.created_by == "grid:张三" and order.created_at == T0
        assert re.fullmatch(r"WO-20260302-\d{6,}", order.order_no)
        assert store.get(order.id) == order
        assert store.get_by_no(order.order_no) == order
        (entry,) = store.audit(order.id)
        assert (entry.action, entry.actor, entry.from_state, entry.to_state) == (
            "create",
            "grid:张三",
            None,
            S.DRAFT,
        )
        pending = store.create(new_order(state=S.PENDING_APPROVAL), "bot")
        assert pending.state is S.PENDING_APPROVAL and pending.order_no != order.order_no
        assert store.create_many([], "batch") == []

    def test_unknown_orders_are_not_found(self, store):
        with pytest.raises(OrderNotFound):
            store.get(10**9)
        with pytest.raises(OrderNotFound):
            store.get_by_no("WO-19990101-000001")
        with pytest.raises(OrderNotFound):
            store.audit(10**9)
        with pytest.raises(OrderNotFound):
            store.transition(10**9, S.ACCEPTED, "x", 1)
        assert store.list() == [] and store.sweep_overdue(T0) == []

    # -- the state machine ----------------------------------------------------------------

    @pytest.mark.parametrize("from_state", list(State), ids=lambda s: s.value)
    def test_every_legal_transition_succeeds_and_writes_an_audit_entry(self, store, from_state):
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
    def test_every_illegal_transition_raises_and_changes_nothing(self, store, from_state):
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

    def test_side_effects_of_the_lifecycle(self, store):
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

    def test_edits_are_allowed_only_before_dispatch_or_as_routing_on_dispatch(self, store):
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

    def test_stale_version_raises_conflict_and_changes_nothing(self, store):
        order = order_in(store, S.DISPATCHED)
        store.transition(order.id, S.ACCEPTED, "unit-a", order.version)
        now = store.get(order.id)
        with pytest.raises(VersionConflict) as info:
            store.transition(order.id, S.ACCEPTED, "unit-b", order.version)
        assert "版本冲突 version conflict" in str(info.value)
        assert (info.value.expected, info.value.actual) == (order.version, order.version + 1)
        assert store.get(order.id) == now

    # -- idempotency ----------------------------------------------------------------------

    def test_idempotent_resubmission_returns_the_same_order_and_one_row(self, store):
        sub = new_order()
        first = store.create(sub, "wecom-bot", now=T0)
        again = store.create(sub, "wecom-bot", now=T0 + timedelta(seconds=30))
        assert not first.replayed and again.replayed
        assert again.model_dump(exclude={"replayed"}) == first.model_dump(exclude={"replayed"})
        # A retry worded differently by an LLM (title/classification) is still the same report.
        reworded = store.create(sub.model_copy(update={"title": "井盖丢失"}), "wecom-bot")
        assert reworded.id == first.id
        assert _count(store) == 1
        assert [a.action for a in store.audit(first.id)] == ["create"]

        with pytest.raises(IdempotencyKeyReused):
            store.create(sub.model_copy(update={"text": "另一件事"}), "wecom-bot")
        assert _count(store) == 1

    def test_batch_create_is_idempotent_within_and_across_batches(self, store):
        subs = [new_order() for _ in range(5)]
        first = store.create_many([*subs, subs[0]], "batch", now=T0)
        assert [o.replayed for o in first] == [False] * 5 + [True]
        assert first[5].id == first[0].id
        again = store.create_many(subs, "batch", now=T0)
        assert [o.id for o in again] == [o.id for o in first[:5]] and all(o.replayed for o in again)
        assert _count(store) == 5
        assert len({o.order_no for o in first}) == 5
        assert all(re.fullmatch(r"WO-20260302-\d{6,}", o.order_no) for o in first)

    # -- listing and the SLA sweep --------------------------------------------------------

    def test_list_filters_by_jurisdiction_board_and_state(self, store):
        a = order_in(store, S.DISPATCHED, district_code="500105", town_code="500105005")
        b = order_in(
            store, S.DRAFT, district_code="500106", town_code="500106001", board="生态景观"
        )
        c = order_in(store, S.DISPATCHED, district_code="500106", town_code="500106001")
        ids = lambda **f: [o.id for o in store.list(OrderFilters(**f))]  # noqa: E731
        assert ids(district_code="500106") == [c.id, b.id]  # newest first
        assert ids(town_code="500105005") == [a.id]
        assert ids(board="生态景观") == [b.id]
        assert ids(states=[S.DISPATCHED], order="deadline") == [a.id, c.id]
        assert ids(limit=1, offset=1) == [b.id]
        assert store.get_by_no(a.order_no) == a

    def test_counts_tally_the_filtered_orders_by_board_state_place_and_overdue(self, store):
        order_in(store, S.DISPATCHED, now=T0, district_code="500105", town_code="500105005")
        order_in(store, S.DISPATCHED, now=T0, district_code="500105", town_code="500105005")
        order_in(store, S.CLOSED, now=T0, district_code="500105", town_code="500105005")
        order_in(
            store, S.DRAFT, now=T0, district_code="500106", town_code="500106001", board="生态景观"
        )
        later = T0 + timedelta(days=30)
        cells = {
            (c.board, c.state, c.district_code, c.overdue): c.n
            for c in store.counts(OrderFilters(), now=later)
        }
        assert cells[("设施运行", S.DISPATCHED, "500105", True)] == 2
        assert cells[("设施运行", S.CLOSED, "500105", False)] == 1  # closed is never overdue
        assert sum(cells.values()) == _count(store)
        # The same filters as a listing, and pagination does not cut the tally.
        only = store.counts(OrderFilters(district_code="500106", limit=1), now=later)
        assert [(c.board, c.town_code, c.n) for c in only] == [("生态景观", "500106001", 1)]
        assert store.counts(OrderFilters(overdue=True), now=T0 - timedelta(days=1)) == []

    def test_sweeper_escalates_an_overdue_order_one_tier_up_and_leaves_the_rest(self, store):
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

    def test_sweeper_keeps_city_orders_at_city_tier_and_flags_them(self, store):
        order = order_in(store, S.ACCEPTED, tier="市级", urgency="紧急")
        (esc,) = store.sweep_overdue(T0 + timedelta(hours=1 + GRACE, minutes=1))
        assert (esc.tier, esc.supervised, esc.escalation_level) == ("市级", True, 1)
        assert esc.id == order.id


class TestWorkOrderStores(WorkOrderStoreContract):
    @pytest.fixture
    def store(self, db_url: str) -> WorkOrderStore:
        s = SqlWorkOrderStore.from_url(db_url)
        yield s
        s.close()
