"""Routing: which tier and unit own an event, with the reasons an official can check.

Territorial first (属地属事, 乡镇（街道）吹哨、部门报到): the catalogue's default tier is the
lowest tier that can act first, with its one-line reason; needing enforcement powers does
not lift an event by itself, because Chongqing towns hold the delegated powers. The line
department goes in ``department`` and, when the owner is a territorial unit, among the
cooperating units, with the utilities that repair. Emergencies go to the district; an
event spanning two towns goes to their district, two districts to the city, with the
local units as cooperating units (跨镇街/跨区县协同). ``owner_unit`` is a real unit of the
hierarchy or an explicit placeholder of the right kind, never an invented name.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, Field

from copilot.answers.models import Citation
from copilot.catalogue import Catalogue, EventType, LegalBasis
from copilot.events.classifier import Classification, EventClassifier, TypeScore
from copilot.events.untrusted import strip_instructions
from copilot.gazetteer import Gazetteer, PlaceMatch, PlaceResolution
from copilot.hierarchy import Division, Hierarchy
from copilot.vocabulary import MessageType, Tier, higher_tier

# Departments that are the territorial government itself, not a line department.
_TERRITORIAL = {"街道办事处", "乡镇人民政府", "社区居委会", "村民委员会"}


class ConsultationAnswer(BaseModel):
    """The policy answer a consultation carries (12345 practice: answer and route it)."""

    answer: str
    refused: bool
    citations: list[Citation] = Field(default_factory=list)


class RouteDecision(BaseModel):
    """One routed event: the output of ``copilot route``."""

    id: str | None = None
    is_event: bool
    message_type: MessageType
    hotline_class: str | None = None
    board: str | None = None
    event_type: str | None = None
    event_name: str | None = None
    urgency: str | None = None
    tier: Tier | None = None
    department: str | None = None
    owner_unit: str | None = None
    district: str | None = None
    town: str | None = None
    village: str | None = None
    grid: str | None = None
    place_code: str | None = None
    place_confidence: float | None = None
    cooperating_units: list[str] = Field(default_factory=list)
    deadline_hours: int | None = None
    legal_basis: list[LegalBasis] = Field(default_factory=list)
    top3: list[TypeScore] = Field(default_factory=list)
    reasons: list[str] = Field(default_factory=list)
    answer: ConsultationAnswer | None = None

    # How the decision was reached, not what was decided: left out of a routed record.
    WORKINGS: ClassVar[frozenset[str]] = frozenset(
        {"top3", "legal_basis", "place_code", "place_confidence", "event_name", "deadline_hours"}
    )

    def public(self) -> dict[str, Any]:
        """The decision as one routed record (``copilot route --output``): what was decided
        and why, without the classifier's candidates and the resolver's internals."""
        return self.model_dump(exclude=set(self.WORKINGS))


def town_office(town: Division) -> str:
    return f"{town.name}办事处" if town.name.endswith("街道") else f"{town.name}人民政府"


class EventRouter:
    # Gazetteer confidence of a full name, explicit parent, landmark or alias (0.85 is a
    # bare short name).
    STRONG_PLACE = 0.9
    # Danger happening now makes an incident "large or dangerous" (DESIGN.md): the district
    # leads even when the town owns the type. A child merely at risk or a blocked exit is
    # still the town's or grid's first response.
    DANGER_NOW = (
        "有人受伤",
        "房屋或构筑物有垮塌危险",
        "房屋开裂有垮塌危险",
        "正在发生人身侵害",
        "有人被困",
        "电线断落或漏电",
        "有人落水",
        "火情",
        "燃气泄漏气味",
        "水进入居民家中",
    )

    def __init__(
        self, catalogue: Catalogue, classifier: EventClassifier, gazetteer: Gazetteer
    ) -> None:
        self.catalogue = catalogue
        self.classifier = classifier
        self.gazetteer = gazetteer
        self.hierarchy: Hierarchy = gazetteer.hierarchy

    def route(
        self, text: str, reporter_grid: str | None = None, event_id: str | None = None
    ) -> RouteDecision:
        report = strip_instructions(text)
        cls = self.classify(report.text)
        res = self.locate(report.text, reporter_grid) if cls.is_event else None
        return self.decide(event_id, cls, res, reporter_grid, removed=len(report.removed))

    # The three stages of ``route``, public so the disposition graph runs them as nodes.
    def classify(self, report_text: str) -> Classification:
        """Board, type, urgency and message type of a report already stripped of instructions."""
        return self.classifier.classify(report_text)

    def locate(self, report_text: str, reporter_grid: str | None = None) -> PlaceResolution:
        """Where the report happens (the reporter's grid settles ambiguous names)."""
        return self.gazetteer.resolve(report_text, reporter_code=reporter_grid)

    def decide(
        self,
        event_id: str | None,
        cls: Classification,
        res: PlaceResolution | None,
        reporter_grid: str | None = None,
        removed: int = 0,
    ) -> RouteDecision:
        """Owner, tier, department and reasons from the classification and the place."""
        if not cls.is_event or res is None:
            decision = RouteDecision(
                id=event_id, is_event=False, message_type=cls.message_type, reasons=cls.reasons
            )
        else:
            etype = self.catalogue.by_id[cls.event_type or ""]
            decision = self._decide(event_id, cls, etype, res, reporter_grid)
        if removed:
            decision.reasons.append(
                f"已忽略报告中{removed}处疑似指令（报告内容只作为数据处理，不作为指令执行）"
            )
        return decision

    # -- location --------------------------------------------------------------------
    def _credible(self, res: PlaceResolution) -> list[PlaceMatch]:
        """Mentions that may place the event; short-name guesses elsewhere are dropped.

        A short name (海棠, 兴龙, 后山) inside a street or landmark name matches a town in
        another district; beside a full name it would make a one-street event look like a
        cross-district one and send it to the city. Such a weak mention only counts when it
        lies in the district of a strong one.
        """
        strong = [m for m in res.mentions if m.confidence >= self.STRONG_PLACE]
        if not strong:
            return list(res.mentions)
        h = self.hierarchy
        districts = {d.code for m in strong if (d := h.district_of(m.code)) is not None}
        return [
            m
            for m in res.mentions
            if m.confidence >= self.STRONG_PLACE
            or ((d := h.district_of(m.code)) is not None and d.code in districts)
        ]

    def _place(
        self, res: PlaceResolution, reporter: str | None
    ) -> tuple[Division | None, list[Division], list[str]]:
        """(the node the event is at, the distinct towns/districts it spans, reasons)."""
        h = self.hierarchy
        reasons: list[str] = []
        rep = h.get(reporter) if reporter else None
        nodes = [h.get(m.code) for m in self._credible(res)]
        nodes = [n for n in nodes if n is not None and n.level != "city"]
        if nodes:
            towns = {t.code: t for n in nodes if (t := h.town_of(n.code)) is not None}
            districts = {d.code: d for n in nodes if (d := h.district_of(n.code)) is not None}
            if len(districts) >= 2:
                reasons.append("事发地跨" + "、".join(d.name for d in districts.values()))
                return h.city, list(districts.values()), reasons
            if len(towns) >= 2:
                district = next(iter(districts.values()), None)
                reasons.append("事发地跨" + "、".join(t.name for t in towns.values()))
                return district, list(towns.values()), reasons
            place = max(nodes, key=lambda n: n.depth)
            # The reporter's own grid is more precise when it lies inside the named place.
            if rep is not None and rep.depth > place.depth and h.is_within(rep.code, place.code):
                place = rep
            best = res.best
            conf = f"（置信度{best.confidence:.2f}）" if best else ""
            reasons.append(f"事发地：{'/'.join(d.name for d in h.path(place.code)[1:])}{conf}")
            return place, [], reasons
        if rep is not None:
            reasons.append(f"文中无地名，按上报人所在{rep.name}定位")
            return rep, [], reasons
        reasons.append(f"未能确定事发地：{res.reason or '未识别到地名'}")
        return None, [], reasons

    # -- decision --------------------------------------------------------------------
    def _decide(
        self,
        event_id: str | None,
        cls: Classification,
        etype: EventType,
        res: PlaceResolution,
        reporter: str | None,
    ) -> RouteDecision:
        h = self.hierarchy
        place, spans, reasons = self._place(res, reporter)
        reasons = [
            *cls.reasons,
            f"权责清单：{etype.name}，行业主管部门{etype.department}，属地首办层级"
            f"{etype.default_tier}（{etype.tier_reason or '按权责清单'}）",
            *reasons,
        ]
        tier: Tier = etype.default_tier
        if etype.emergency and higher_tier(tier, "区县") != tier:
            tier = "区县"
            reasons.append("突发事件类型，由区县牵头处置，镇街先期处置")
        elif cls.danger in self.DANGER_NOW and higher_tier(tier, "区县") != tier:
            tier = "区县"
            reasons.append(f"正在发生的危险（{cls.danger}），由区县牵头处置，镇街先期处置")
        if cls.settled:
            tier = "网格"
            reasons.append(f"网格员已当场处置（“{cls.settled}”），由网格留痕跟踪，无需上提")
        if spans:
            span_tier: Tier = "市级" if place is not None and place.level == "city" else "区县"
            if span_tier != tier and higher_tier(tier, span_tier) == span_tier:
                reasons.append(
                    f"跨{'区县' if span_tier == '市级' else '镇街'}事件，上提至{span_tier}统筹"
                )
            tier = higher_tier(tier, span_tier)

        district = (
            h.district_of(place.code) if place is not None and place.level != "city" else None
        )
        town = h.town_of(place.code) if place is not None and place.depth >= 2 else None
        village = h.village_of(place.code) if place is not None and place.depth >= 3 else None
        grid = place if place is not None and place.level == "grid" else None
        owner, why = self._owner(tier, etype.department, district, town, village, grid)
        if why:
            reasons.append(why)
        cooperating = self._cooperating(spans, tier, district, town, etype)
        if cooperating:
            reasons.append("协同单位：" + "、".join(cooperating))
        here = {d.code for d in h.path(place.code)} if place is not None else set()
        basis = etype.legal_basis_at(here)
        local_titles = dict.fromkeys(
            b.doc_title for b in basis[: len(basis) - len(etype.legal_basis)]
        )
        if local_titles:
            reasons.append("适用本地法规：" + "、".join(f"《{t}》" for t in local_titles))
        deadline = etype.deadline_hours[cls.urgency or "一般"]
        reasons.append(f"办理时限：{cls.urgency}，{deadline}小时")
        return RouteDecision(
            id=event_id,
            is_event=True,
            message_type=cls.message_type,
            hotline_class=etype.hotline_class,
            board=cls.board,
            event_type=etype.id,
            event_name=etype.name,
            urgency=cls.urgency,
            tier=tier,
            department=etype.department,
            owner_unit=owner,
            district=district.name if district else None,
            town=town.name if town else None,
            village=village.name if village else None,
            grid=grid.name if grid else None,
            place_code=place.code if place is not None else None,
            place_confidence=res.best.confidence if res.best else None,
            cooperating_units=cooperating,
            deadline_hours=deadline,
            legal_basis=basis,
            top3=cls.top3,
            reasons=reasons,
        )

    @staticmethod
    def _owner(
        tier: Tier,
        department: str,
        district: Division | None,
        town: Division | None,
        village: Division | None,
        grid: Division | None,
    ) -> tuple[str, str | None]:
        territorial = department in _TERRITORIAL
        if tier == "市级":
            return (f"重庆市{department}" if not territorial else "重庆市人民政府"), None
        if tier == "区县":
            if district is None:
                unit = "人民政府" if territorial else department
                return f"所在区县{unit}（待定位）", "事发区县未确定，请人工指定"
            return (
                f"{district.name}{department}" if not territorial else f"{district.name}人民政府"
            ), None
        if tier == "镇街":
            if town is None:
                where = f"{district.name}辖区" if district else "所在"
                return f"{where}镇街（待定位）", "事发镇街未确定，请人工指定"
            return town_office(town), None
        if tier == "村社":
            if village is None:
                return "所在社区居委会（待定位）", "事发村社未确定，请人工指定"
            return village.name, None
        if grid is not None:
            return grid.name, None
        if village is not None:
            return f"{village.name}（待指派网格）", "未确定具体网格，由村社指派网格员"
        return "所在网格（待定位）", "事发网格未确定，请人工指定"

    @staticmethod
    def _cooperating(
        spans: list[Division],
        tier: Tier,
        district: Division | None,
        town: Division | None,
        etype: EventType,
    ) -> list[str]:
        units: list[str] = []
        if spans:
            units += [town_office(s) if s.level == "town" else f"{s.name}人民政府" for s in spans]
        # 吹哨报到: when a territorial unit owns the event, the line department reports to it.
        if tier in ("网格", "村社", "镇街") and etype.department not in _TERRITORIAL:
            units.append(f"{district.name}{etype.department}" if district else etype.department)
        # A district department handling a local matter works with the town it happened in.
        if tier in ("区县", "市级") and town is not None and not spans:
            units.append(town_office(town))
        units += [u for u in etype.cooperating if u != etype.department]
        return list(dict.fromkeys(units))
