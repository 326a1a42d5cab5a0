"""Each agent tool on its own: schema-checked arguments, a thin call into the services."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from copilot.dispositions.graph import STATE_CHANGING_TOOLS
from copilot.work_orders.states import State
from tools.orders import NotApproved
from tools.registry import MODEL_TOOLS, build_tools, model_tools

MANHOLE = "渝北区两路街道空港大道有个井盖不见了，晚上很危险"
APPROVE = {"action": "approve", "actor": "official-1"}


@pytest.fixture(scope="module")
def services(scratch_services):
    return scratch_services


@pytest.fixture(scope="module")
def tools(services):
    return build_tools(services.dispositions, services.indicators)


def test_every_tool_the_issue_names_exists_with_a_pydantic_schema(tools):
    assert set(tools) == {
        "search_policy",
        "lookup_jurisdiction",
        "lookup_responsibility",
        "query_indicator",
        "find_similar_orders",
        "draft_disposition",
        "propose_route",
        "create_work_order",
        "dispatch",
        "transition",
    }
    for tool in tools.values():
        assert tool.args_schema is not None and tool.description


def test_a_model_is_given_read_only_tools_only(tools):
    assert [t.name for t in model_tools(tools)] == list(MODEL_TOOLS)
    assert not set(MODEL_TOOLS) & STATE_CHANGING_TOOLS


def test_search_policy_returns_articles_with_verbatim_quotes(tools, services):
    hits = tools["search_policy"].invoke({"query": "井盖缺失由谁负责", "k": 3})
    assert 1 <= len(hits) <= 3
    first = hits[0]
    doc = next(d for d in services.kb.documents() if d.title == first["doc_title"])
    assert first["quote"] in services.kb.article_text(doc.doc_id, first["article"])


def test_search_policy_rejects_arguments_outside_its_schema(tools):
    with pytest.raises(ValidationError):
        tools["search_policy"].invoke({"query": "", "k": 3})
    with pytest.raises(ValidationError):
        tools["search_policy"].invoke({"query": "井盖", "k": 100})


def test_lookup_jurisdiction_resolves_a_town(tools):
    res = tools["lookup_jurisdiction"].invoke({"place": "渝北区两路街道"})
    assert res["best"]["name"] == "两路街道"


def test_lookup_responsibility_gives_the_catalogue_entry_and_refuses_unknown_types(tools):
    entry = tools["lookup_responsibility"].invoke({"event_type": "井盖缺失破损"})
    assert entry["department"] and entry["default_tier"] and entry["deadline_hours"]
    with pytest.raises(ValueError):
        tools["lookup_responsibility"].invoke({"event_type": "NO-SUCH"})


def test_query_indicator_answers_a_question(tools):
    result = tools["query_indicator"].invoke({"question": "渝中区常住人口是多少？"})
    assert result is not None and result["rows"]


def test_propose_route_and_draft_disposition_record_nothing(tools, services):
    before = len(services.orders.list())
    route = tools["propose_route"].invoke({"text": MANHOLE})
    draft = tools["draft_disposition"].invoke({"text": MANHOLE})
    assert route["event_type"] and route["tier"]
    assert draft["处置措施"] and draft["责任单位"] == route["owner_unit"]
    assert len(services.orders.list()) == before


def test_find_similar_orders_finds_a_recorded_order(tools, services):
    done = services.submit_event(MANHOLE, reporter="g", idempotency_key="tool-similar")
    found = tools["find_similar_orders"].invoke(
        {"text": "空港大道井盖丢了", "district_code": done.order.district_code}
    )
    assert done.order.order_no in [f["order_no"] for f in found]


def test_dispatch_needs_an_approval_and_dispatches(tools, services):
    order = services.submit_event(MANHOLE, reporter="g", idempotency_key="tool-dispatch").order
    with pytest.raises(ValidationError):
        tools["dispatch"].invoke({"order_no": order.order_no})
    with pytest.raises(NotApproved):
        tools["dispatch"].invoke(
            {"order_no": order.order_no, "approval": {**APPROVE, "action": "reject"}}
        )
    assert services.orders.get(order.id).state == State.PENDING_APPROVAL
    done = tools["dispatch"].invoke({"order_no": order.order_no, "approval": APPROVE})
    assert done["state"] == "dispatched"


def test_transition_returns_or_rejects_with_a_matching_approval(tools, services):
    order = services.submit_event(MANHOLE, reporter="g", idempotency_key="tool-return").order
    with pytest.raises(NotApproved):
        tools["transition"].invoke(
            {"order_no": order.order_no, "to_state": "returned", "approval": APPROVE}
        )
    with pytest.raises(ValueError):
        tools["transition"].invoke(
            {"order_no": order.order_no, "to_state": "closed", "approval": APPROVE}
        )
    back = tools["transition"].invoke(
        {
            "order_no": order.order_no,
            "to_state": "returned",
            "approval": {**APPROVE, "action": "return", "comment": "补充现场照片"},
        }
    )
    assert back["state"] == "returned"


def test_create_work_order_files_and_dispatches_an_approved_event(tools, services):
    made = tools["create_work_order"].invoke(
        {"text": MANHOLE, "idempotency_key": "tool-create", "approval": APPROVE}
    )
    assert made["state"] == "dispatched" and made["deadline_at"]
    again = tools["create_work_order"].invoke(
        {"text": MANHOLE, "idempotency_key": "tool-create", "approval": APPROVE}
    )
    assert again["id"] == made["id"]
    with pytest.raises(ValueError):
        tools["create_work_order"].invoke(
            {"text": "请问低保怎么申请？", "idempotency_key": "tool-q", "approval": APPROVE}
        )
