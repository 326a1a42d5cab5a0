"""Disposition rubric (``copilot eval disposition [--dataset FILE]``).

Each event is submitted as a grid worker would (route → draft → pending order) and the
result is scored on: every draft section present; every cited quote verbatim in its
article; a cited article relevant (one of the expected ones, or at least the same
regulation); tier and department as expected; deadlines the catalogue's for the order's
type; steps written for the owning tier; the order waiting for approval. A case passes
the rubric when every criterion holds.
"""

from __future__ import annotations

from copilot.answers.models import quote_is_verbatim
from copilot.dispositions.draft import Draft, tier_steps
from copilot.services import Services

CRITERIA = (
    "sections",
    "citations_valid",
    "citation_relevant",
    "tier",
    "department",
    "deadline",
    "steps_fit_tier",
    "pending_approval",
)


def score_case(services: Services, case: dict) -> dict:
    done = services.submit_event(
        case["text"], reporter="eval", idempotency_key=f"eval-{case['id']}"
    )
    order = done.order
    checks = dict.fromkeys(CRITERIA, False)
    if order is None or not order.details:
        return {
            "id": case["id"],
            "checks": checks,
            "got": f"no order ({done.decision.message_type})",
        }
    draft = Draft.model_validate(order.details["draft"])
    checks["sections"] = all(
        [
            draft.事件概述,
            draft.事件定性,
            draft.处置依据,
            draft.处置措施,
            draft.责任单位,
            draft.办理时限,
        ]
    )
    titles = {d.title: d.doc_id for d in services.kb.documents()}
    checks["citations_valid"] = bool(draft.处置依据) and all(
        b.doc_title in titles
        and b.article
        and quote_is_verbatim(b.quote, services.kb.article_text(titles[b.doc_title], b.article))
        for b in draft.处置依据
    )
    expected = {(b["doc_title"], b["article"]) for b in case.get("legal_basis", [])}
    cited = {(b.doc_title, b.article) for b in draft.处置依据}
    checks["citation_relevant"] = bool(cited & expected) or bool(
        {t for t, _ in cited} & {t for t, _ in expected}
    )
    checks["tier"] = order.tier == case["tier"]
    checks["department"] = order.department == case["department"]
    entry = services.router.catalogue.by_id.get(order.event_type)
    checks["deadline"] = bool(entry) and order.deadline_hours == {
        u: float(h) for u, h in entry.deadline_hours.items()
    }
    templates = tier_steps().get(order.tier, [])
    checks["steps_fit_tier"] = len(draft.处置措施) == len(templates) and bool(templates)
    checks["pending_approval"] = order.state == "pending_approval"
    return {
        "id": case["id"],
        "checks": checks,
        "exact_basis": bool(cited & expected),
        "got": f"{order.event_type} {order.tier} {order.department} {sorted(cited)}",
        "expected": f"{case['event_type']} {case['tier']} {case['department']} {sorted(expected)}",
    }
