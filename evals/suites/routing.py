"""Routing: accuracy and macro-F1 for message type, board, event type, urgency, tier, owning
unit and department, with confusion matrices — on a labelled JSONL set, or on a city's own
CSV of hotline messages through a label → department mapping (``evals.external``)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from evals.classification import accuracy, confusion, macro_f1, per_class
from evals.datasets import load_cases
from evals.external import label_of
from evals.results import ItemResult, SuiteResult
from evals.suites import BACKENDS

if TYPE_CHECKING:
    from copilot.services import Services

# Gold field → the decision's attribute.
FIELDS = {
    "is_event": "is_event",
    "message_type": "message_type",
    "board": "board",
    "event_type": "event_type",
    "urgency": "urgency",
    "tier": "tier",
    "owner": "owner_unit",
    "department": "department",
}
GOLD_KEYS = {"owner": "owner_unit"}
CONFUSIONS = ("message_type", "board", "tier", "urgency", "department", "event_type")
PER_CLASS = ("board", "tier", "message_type", "urgency")


class RoutingSuite:
    name = "routing"
    title_zh = "事件分拨（板块、类型、紧急程度、层级、承办单位、部门）"
    default_datasets = ("events_dev.jsonl",)
    configs = BACKENDS
    default_configs = ("none",)

    def load(self, path: Path) -> list[dict[str, Any]]:
        return load_cases(path, {"id", "text"})

    def score(self, services: Services, case: dict[str, Any], config: str) -> ItemResult:
        from evals.suites import timed

        decision, ms = timed(
            lambda: services.route(
                case["text"], case.get("reporter_grid"), str(case["id"]), answer_consultations=False
            )
        )
        got = {f: _str(getattr(decision, attr)) for f, attr in FIELDS.items()}
        if "label_map" in case:  # an external CSV row
            got["label"] = label_of(decision.department, case["label_map"])
            ok = decision.department in case["departments"]
            return ItemResult(
                id=str(case["id"]),
                input=case["text"][:500],
                expected={"label": case["label"], "department": case["departments"]},
                got=got,
                ok=ok,
                scores={"label": float(ok)},
                latency_ms={"route": round(ms, 1)},
            )
        expected = {f: _str(case.get(GOLD_KEYS.get(f, f))) for f in FIELDS}
        # A non-event is scored on is_event only; a field the case leaves empty is not scored.
        scored = [
            f
            for f in FIELDS
            if expected[f] is not None and (case.get("is_event", True) or f == "is_event")
        ]
        scores = {f: float(got[f] == expected[f]) for f in scored}
        return ItemResult(
            id=str(case["id"]),
            input=case["text"][:500],
            expected={f: expected[f] for f in scored},
            got={f: got[f] for f in scored},
            ok=all(scores.values()),
            scores=scores,
            latency_ms={"route": round(ms, 1)},
        )

    def summarise(self, items: list[ItemResult], config: str, dataset: str) -> SuiteResult:
        from evals.suites import latency

        external = any("label" in i.got for i in items)
        fields = (
            ["label"] if external else [f for f in FIELDS if any(f in i.expected for i in items)]
        )
        metrics: dict[str, float] = {}
        classes: dict[str, dict[str, dict[str, float]]] = {}
        matrices = []
        for f in fields:
            gold = [_str(i.expected.get(f)) for i in items]
            pred = [_str(i.got.get(f)) for i in items]
            metrics[f"{f}_accuracy"] = (
                round(sum(i.ok for i in items) / len(items), 4)
                if external and items
                else accuracy(gold, pred)
            )
            per = per_class(gold, pred)
            metrics[f"{f}_macro_f1"] = macro_f1(per)
            if f in PER_CLASS or external:
                classes[f] = per
            if f in CONFUSIONS or external:
                matrices.append(confusion(f, gold, pred))
        notes = (
            [
                "External CSV: a message counts as right when the routed department is one the "
                "mapping allows for its label; the confusion matrix is label × routed label."
            ]
            if external
            else ["A non-event is scored on is_event only; owner is the owning unit (责任单位)."]
        )
        return SuiteResult(
            suite=self.name,
            config=config,
            dataset=dataset,
            n=len(items),
            metrics=metrics,
            per_class=classes,
            confusion=matrices,
            latency=latency(items),
            failures=[i for i in items if not i.ok],
            notes=notes,
        )


def _str(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):  # external gold: the departments allowed
        return "|".join(value)
    return str(value)
