"""submit_event: a routed complaint becomes a drafted order waiting for an official's decision."""

from __future__ import annotations

import pytest

from copilot.answers.models import quote_is_verbatim
from copilot.dispositions.adapter import NotAnEvent, new_work_order
from copilot.dispositions.draft import Draft
from copilot.work_orders.states import State

MANHOLE = "渝北区两路街道空港大道有个井盖不见了，晚上很危险"


@pytest.fixture(scope="module")
def services(scratch_services):
    return scratch_services


def test_a_complaint_becomes_an_order_waiting_for_approval_with_its_draft(services):
    done = services.submit_event(MANHOLE, reporter="grid-1", idempotency_key="k-manhole")
    order = done.order
    assert order is not None and order.state == State.PENDING_APPROVAL
    assert order.deadline_at is None  # the clock starts on dispatch, not while waiting
    entry = services.router.catalogue.by_id[order.event_type]
    assert order.deadline_hours == {u: float(h) for u, h in entry.deadline_hours.items()}
    assert order.tier == done.decision.tier and order.owner_unit == done.decision.owner_unit
    assert order.town_code and order.town_code.startswith(order.district_code or "-")
    draft = Draft.model_validate(order.details["draft"])
    assert draft.事件概述 and draft.事件定性 and draft.责任单位 and draft.办理时限
    assert draft.处置措施[0].startswith("1. ") and len(draft.处置措施) >= 3
    assert draft.路由理由 == done.decision.reasons
    for basis in draft.处置依据:
        doc = next(d for d in services.kb.documents() if d.title == basis.doc_title)
        assert quote_is_verbatim(basis.quote, services.kb.article_text(doc.doc_id, basis.article))


def test_a_retried_submission_returns_the_same_order(services):
    first = services.submit_event(MANHOLE, reporter="grid-1", idempotency_key="k-retry")
    again = services.submit_event(MANHOLE, reporter="grid-1", idempotency_key="k-retry")
    assert first.order is not None and again.order is not None
    assert again.order.id == first.order.id


@pytest.mark.parametrize(
    ("action", "state"),
    [("approve", State.DISPATCHED), ("return", State.RETURNED), ("reject", State.CANCELLED)],
)
def test_an_officials_decision_moves_the_order_on(services, action, state):
    order = services.submit_event(MANHOLE, reporter="grid-1", idempotency_key=f"k-{action}").order
    assert order is not None
    after = services.decide(order.id, action, actor="official-1", comment="意见")
    assert after.state == state
    assert (after.deadline_at is not None) == (state == State.DISPATCHED)


def test_a_consultation_is_answered_not_ordered(services):
    done = services.submit_event(
        "请问重庆市低保怎么申请？", reporter="grid-1", idempotency_key="k-q"
    )
    assert done.order is None and done.decision.message_type == "咨询"
    with pytest.raises(NotAnEvent):
        draft = Draft(事件概述="x", 事件定性="x", 处置措施=["1. x"], 责任单位="x", 办理时限="x")
        new_work_order(done.decision, "x", "k", services.router.catalogue, draft)


@pytest.mark.slow
def test_disposition_rubric_floor_on_the_development_events(bundled_eval):
    """Regression floor at the measured figure (0.797 at its first run), not the 0.90 target."""
    # The development events, scored once per session by ``eval all`` (tests/conftest.py),
    # filing into the runner's scratch order database.
    [result] = [s for s in bundled_eval[0].suites if s.suite == "disposition"]
    assert result.config == "none" and result.cached_items == 0
    m = result.metrics
    assert m["sections"] == m["citations_valid"] == m["pending_approval"] == 1.0, m
    assert m["rubric_pass"] >= 0.75, [f.got for f in result.failures]
