"""The domain vocabulary: tiers, hierarchy levels, boards, urgencies and message types.

This module is the one place these value sets are written down; every other module imports
them from here (tests/test_vocabulary.py fails if a Literal of them appears anywhere else).
Only the Alembic migrations spell them out again, on purpose: a migration must keep creating
the schema of its own day.

Orders are part of the vocabulary and are documented with each tuple:

* :data:`TIERS` runs **lowest first** (网格 → 村社 → 镇街 → 区县 → 市级), so a larger
  :func:`tier_index` is a higher tier and escalation moves to the right;
* :data:`LEVELS` (the division levels of the hierarchy) runs **top first**, like the
  divisions file (city → district/zone → town → village → grid): reversed tiers.
"""

from __future__ import annotations

from typing import Literal

# --------------------------------------------------------------------------------------
# Tiers (层级): who owns and escalates a work order
# --------------------------------------------------------------------------------------

#: The five tiers of Chongqing governance an event moves through:
#: 网格 grid (a grid worker settles it on the spot), 村社 village/community (residents'
#: disputes, community services, the property company), 镇街 town/street (its 综合行政执法
#: team and governance centre), 区县 district/county (powers not delegated, large or dangerous
#: incidents, what a town returns), 市级 city (cross-district matters, city-wide systems).
Tier = Literal["网格", "村社", "镇街", "区县", "市级"]
#: The tiers lowest first: escalation goes one step to the right (网格→村社→镇街→区县→市级).
TIERS: tuple[Tier, ...] = ("网格", "村社", "镇街", "区县", "市级")
#: The three tiers with a digital city operation and governance centre (the "3" of 1361).
CENTRE_TIERS: tuple[Tier, ...] = ("镇街", "区县", "市级")


def tier_index(tier: Tier) -> int:
    """Height of a tier: 0 for 网格 … 4 for 市级 (ValueError for anything else)."""
    return TIERS.index(tier)


def higher_tier(a: Tier, b: Tier) -> Tier:
    """The higher of two tiers (``a`` when they are the same)."""
    return a if tier_index(a) >= tier_index(b) else b


def tier_up(tier: Tier, steps: int = 1) -> tuple[Tier, bool]:
    """The tier ``steps`` above ``tier`` and whether the top (市级) was already reached.

    The flag is what marks an order for 市级督办 when there is nowhere higher to go.
    """
    i = tier_index(tier)
    top = len(TIERS) - 1
    return TIERS[min(i + steps, top)], i + steps > top


def tier_down(tier: Tier, steps: int = 1) -> tuple[Tier, bool]:
    """The tier ``steps`` below ``tier`` and whether the bottom (网格) was already reached."""
    i = tier_index(tier)
    return TIERS[max(i - steps, 0)], i - steps < 0


# --------------------------------------------------------------------------------------
# Hierarchy levels (行政区划层级) and their tiers
# --------------------------------------------------------------------------------------

#: Division levels of the hierarchy (the divisions file's ``level`` column, plus zone and grid):
#: city 重庆市, district 区/县, zone 功能区 (两江新区, 重庆高新区, 万盛经开区), town 镇/乡/街道,
#: village 村/社区, grid 网格.
Level = Literal["city", "district", "zone", "town", "village", "grid"]
#: The levels top first (a zone sits beside the districts).
LEVELS: tuple[Level, ...] = ("city", "district", "zone", "town", "village", "grid")

#: Chinese tier of each level. Zones are district-level bodies, so they sit in the 区县 tier.
LEVEL_TIER: dict[Level, Tier] = {
    "city": "市级",
    "district": "区县",
    "zone": "区县",
    "town": "镇街",
    "village": "村社",
    "grid": "网格",
}
#: The levels of each tier (区县 holds districts/counties and the functional zones).
TIER_LEVELS: dict[Tier, tuple[Level, ...]] = {
    t: tuple(lv for lv in LEVELS if LEVEL_TIER[lv] == t) for t in TIERS
}
#: English label of each tier: the name of its ordinary level (indicator values use these).
TIER_EN: dict[Tier, Level] = {t: TIER_LEVELS[t][0] for t in TIERS}
#: The English labels of the centre tiers: the ``tier`` of an indicator value. Not a second
#: set of tiers — it is ``TIER_EN`` of :data:`CENTRE_TIERS` (tests/test_vocabulary.py checks).
IndicatorTier = Literal["city", "district", "town"]


def tier_of(level: str) -> Tier:
    """市级 / 区县 / 镇街 / 村社 / 网格 for a level name; ValueError for an unknown level."""
    try:
        return LEVEL_TIER[level]  # type: ignore[index]
    except KeyError:
        raise ValueError(f"unknown level {level!r}; expected one of {LEVELS}") from None


def levels_of(tier: Tier) -> tuple[Level, ...]:
    """The division levels in a tier: ``("district", "zone")`` for 区县, one level otherwise."""
    return TIER_LEVELS[tier]


# --------------------------------------------------------------------------------------
# Boards (板块): the first classification of every event
# --------------------------------------------------------------------------------------

#: The six boards (六大板块) the governance centres work in: 设施运行 roads, bridges, pipes,
#: lights, elevators; 生产生活服务 utilities, prices, jobs, social security, health and school
#: services; 生态景观 pollution, noise, rubbish, greenery, rivers; 社会治理 disputes, illegal
#: building, vendors, parking, rentals, petitions; 应急动员 fire, flood, landslide, chemicals,
#: public-health emergencies, accidents; 文明创建 civic behaviour, volunteers, civility.
Board = Literal["设施运行", "生产生活服务", "生态景观", "社会治理", "应急动员", "文明创建"]
#: The six boards in the city's order.
BOARDS: tuple[Board, ...] = (
    "设施运行",
    "生产生活服务",
    "生态景观",
    "社会治理",
    "应急动员",
    "文明创建",
)

#: The four boards of the town "141" (1 command centre, 4 boards, the grids): 党的建设 party
#: building, 经济发展 economic development, 民生服务 livelihood services, 平安法治 safety and
#: rule of law.
TownBoard = Literal["党的建设", "经济发展", "民生服务", "平安法治"]
#: The four town boards in the 141 order.
TOWN_BOARDS: tuple[TownBoard, ...] = ("党的建设", "经济发展", "民生服务", "平安法治")

# --------------------------------------------------------------------------------------
# Urgency (紧急程度): which deadline of the responsibility catalogue applies
# --------------------------------------------------------------------------------------

#: How pressing an event is: 紧急 urgent (emergencies, danger now), 较急 pressing (an active
#: nuisance or hazard, harm spreading), 一般 ordinary; deadlines satisfy 紧急 ≤ 较急 ≤ 一般.
Urgency = Literal["紧急", "较急", "一般"]
#: The urgencies most urgent first.
URGENCIES: tuple[Urgency, ...] = ("紧急", "较急", "一般")

# --------------------------------------------------------------------------------------
# Message types (诉求类型): 12345 practice
# --------------------------------------------------------------------------------------

#: What a citizen's message is (12345 practice: every message is routed, consultations and
#: suggestions go to a department too): 投诉求助 complaint or request for help, 咨询
#: consultation, 建议 suggestion, 表扬 praise, 非事件 non-event (greetings, thanks alone,
#: spam, tests, ads), the only type that stops before a department.
MessageType = Literal["投诉求助", "咨询", "建议", "表扬", "非事件"]
#: The message types in the 12345 order, 非事件 last.
MESSAGE_TYPES: tuple[MessageType, ...] = ("投诉求助", "咨询", "建议", "表扬", "非事件")

__all__ = [
    "BOARDS",
    "CENTRE_TIERS",
    "LEVELS",
    "LEVEL_TIER",
    "MESSAGE_TYPES",
    "TIERS",
    "TIER_EN",
    "TIER_LEVELS",
    "TOWN_BOARDS",
    "URGENCIES",
    "Board",
    "IndicatorTier",
    "Level",
    "MessageType",
    "Tier",
    "TownBoard",
    "Urgency",
    "higher_tier",
    "levels_of",
    "tier_down",
    "tier_index",
    "tier_of",
    "tier_up",
]
