"""The domain vocabulary is defined once (copilot/vocabulary.py) and its orders agree."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import get_args

import pytest

from copilot.hierarchy import DEPTH, Hierarchy
from copilot.indicators.store import IndicatorValue
from copilot.vocabulary import (
    BOARDS,
    CENTRE_TIERS,
    LEVEL_TIER,
    LEVELS,
    MESSAGE_TYPES,
    TIER_EN,
    TIER_LEVELS,
    TIERS,
    TOWN_BOARDS,
    URGENCIES,
    Board,
    IndicatorTier,
    Level,
    MessageType,
    Tier,
    TownBoard,
    Urgency,
    higher_tier,
    levels_of,
    tier_down,
    tier_index,
    tier_of,
    tier_up,
)
from copilot.work_orders.models import Base

REPO = Path(__file__).resolve().parent.parent
VOCABULARY = REPO / "copilot" / "vocabulary.py"
#: The packages whose source must not spell the vocabulary out again. Migrations are left out
#: on purpose (they freeze the schema of their day); tests may state expected values.
SCANNED = ("copilot", "tools", "evals", "ui", "bench")

#: Each value set by name; a Literal drawn from one of them, or a tuple/list/set holding a
#: whole one, outside copilot/vocabulary.py is a second definition.
VALUE_SETS: dict[str, frozenset[str]] = {
    "tiers": frozenset(TIERS),
    "levels (English tiers)": frozenset(LEVELS),
    "boards": frozenset(BOARDS),
    "town boards": frozenset(TOWN_BOARDS),
    "urgencies": frozenset(URGENCIES),
    "message types": frozenset(MESSAGE_TYPES),
}


def _strings(nodes: list[ast.expr]) -> list[str] | None:
    """The values when every node is a string constant, else None."""
    if not nodes or not all(
        isinstance(n, ast.Constant) and isinstance(n.value, str) for n in nodes
    ):
        return None
    return [n.value for n in nodes]  # type: ignore[attr-defined]


def _is_literal(node: ast.expr) -> bool:
    return (isinstance(node, ast.Name) and node.id == "Literal") or (
        isinstance(node, ast.Attribute) and node.attr == "Literal"
    )


def redefinitions(source: str, filename: str = "<source>") -> list[str]:
    """Places in ``source`` that define vocabulary values again, as ``file:line what``."""
    found: list[str] = []
    literal_args: set[int] = set()  # the tuple inside Literal[...] is reported as the Literal
    for node in ast.walk(ast.parse(source, filename)):
        if isinstance(node, ast.Subscript) and _is_literal(node.value):
            literal_args.add(id(node.slice))
            elts = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
            values = _strings(elts)
            if values and len(set(values)) >= 2:
                for name, full in VALUE_SETS.items():
                    if set(values) <= full:
                        found.append(f"{filename}:{node.lineno} Literal of {name} {values}")
        elif isinstance(node, ast.Tuple | ast.List | ast.Set) and id(node) not in literal_args:
            values = _strings(node.elts)
            if values:
                for name, full in VALUE_SETS.items():
                    if full <= set(values):
                        found.append(f"{filename}:{node.lineno} all the {name} {values}")
    return found


def test_the_scanner_finds_a_second_definition() -> None:
    src = (
        "from typing import Literal\n"
        'Tier = Literal["网格", "村社", "镇街", "区县", "市级"]\n'
        'Lower = typing.Literal["网格", "村社"]\n'
        'Centre = Literal["city", "district", "town"]\n'
        'URGENT = ("紧急", "较急", "一般")\n'
        'BOARDS = {"设施运行", "生产生活服务", "生态景观", "社会治理", "应急动员", "文明创建"}\n'
        'TYPES = ["投诉求助", "咨询", "建议", "表扬", "非事件"]\n'
        'TOWN = ("党的建设", "经济发展", "民生服务", "平安法治")\n'
    )
    assert [f.split()[0] for f in redefinitions(src, "x.py")] == [f"x.py:{n}" for n in range(2, 9)]


def test_the_scanner_leaves_ordinary_uses_alone() -> None:
    src = (
        'Kind = Literal["empty", "exit"]\n'
        'Region = Literal["district", "county"]\n'
        'if tier in ("网格", "村社", "镇街"): pass\n'
        'MODEL = ("投诉求助", "咨询", "建议")\n'
        'hours = {"紧急": 1, "较急": 8, "一般": 24}\n'
        'only = Literal["非事件"]\n'
    )
    assert redefinitions(src) == []


def test_no_module_outside_the_vocabulary_defines_its_values_again() -> None:
    found: list[str] = []
    for package in SCANNED:
        for path in sorted((REPO / package).rglob("*.py")):
            if path == VOCABULARY or ".venv" in path.parts:
                continue
            rel = path.relative_to(REPO).as_posix()
            found += redefinitions(path.read_text(encoding="utf-8"), rel)
    assert found == [], "import these from copilot.vocabulary instead:\n" + "\n".join(found)


def test_literals_and_tuples_hold_the_same_values_in_the_same_order() -> None:
    assert get_args(Tier) == TIERS
    assert get_args(Level) == LEVELS
    assert get_args(Board) == BOARDS
    assert get_args(TownBoard) == TOWN_BOARDS
    assert get_args(Urgency) == URGENCIES
    assert get_args(MessageType) == MESSAGE_TYPES
    assert len(BOARDS) == 6 and len(TOWN_BOARDS) == 4 and MESSAGE_TYPES[-1] == "非事件"


# ---- tiers and levels ----------------------------------------------------------------------


def test_tiers_run_lowest_first_and_levels_top_first_in_agreement() -> None:
    assert TIERS == ("网格", "村社", "镇街", "区县", "市级")
    tiers_of_levels = list(dict.fromkeys(LEVEL_TIER[lv] for lv in LEVELS))
    assert tiers_of_levels == list(reversed(TIERS))
    assert set(LEVEL_TIER) == set(LEVELS)
    # The hierarchy's depth of a level is its tier's distance from the top.
    top = len(TIERS) - 1
    assert {lv: top - tier_index(LEVEL_TIER[lv]) for lv in LEVELS} == DEPTH


def test_every_division_sits_one_tier_below_its_parent() -> None:
    h = Hierarchy.from_csv()
    seen = set()
    for d in h.by_code.values():
        assert d.tier == tier_of(d.level)
        seen.add(d.level)
        if d.parent_code is not None:
            assert tier_index(h.by_code[d.parent_code].tier) == tier_index(d.tier) + 1, d
    assert seen == set(LEVELS)


def test_level_and_tier_mappings_go_both_ways() -> None:
    assert [tier_of(lv) for lv in ("city", "district", "zone", "town", "village", "grid")] == [
        "市级",
        "区县",
        "区县",
        "镇街",
        "村社",
        "网格",
    ]
    with pytest.raises(ValueError):
        tier_of("province")
    assert levels_of("区县") == ("district", "zone")
    assert all(levels_of(t) == (TIER_EN[t],) for t in TIERS if t != "区县")
    for t in TIERS:
        assert all(tier_of(lv) == t for lv in TIER_LEVELS[t])
    assert TIER_EN == {
        "网格": "grid",
        "村社": "village",
        "镇街": "town",
        "区县": "district",
        "市级": "city",
    }


def test_indicator_tiers_are_the_english_labels_of_the_centre_tiers() -> None:
    assert CENTRE_TIERS == ("镇街", "区县", "市级")
    assert set(get_args(IndicatorTier)) == {TIER_EN[t] for t in CENTRE_TIERS}
    row = {"indicator": "x", "region_code": "50", "region_name": "重庆市", "value": 1.0}
    row |= {"year": 2020, "source_id": "s"}
    assert IndicatorValue(**row, tier="city").tier == "city"
    with pytest.raises(ValueError):
        IndicatorValue(**row, tier="village")


def test_tier_up_moves_one_tier_and_flags_the_top() -> None:
    assert tier_up("网格") == ("村社", False)
    assert tier_up("区县") == ("市级", False)
    assert tier_up("市级") == ("市级", True)
    assert tier_up("镇街", 5) == ("市级", True)


def test_tier_down_and_comparison() -> None:
    assert tier_down("市级") == ("区县", False)
    assert tier_down("村社") == ("网格", False)
    assert tier_down("网格") == ("网格", True)
    assert tier_down("镇街", 3) == ("网格", True)
    assert higher_tier("网格", "区县") == "区县"
    assert higher_tier("市级", "镇街") == "市级"
    assert higher_tier("镇街", "镇街") == "镇街"
    assert [tier_index(t) for t in TIERS] == [0, 1, 2, 3, 4]


def test_the_work_order_tier_check_matches_the_migration() -> None:
    """The CHECK constraint is built from TIERS; the migration spells the same tuple out."""
    tree = ast.parse((REPO / "migrations" / "versions" / "0001_work_orders.py").read_text())
    migration_tiers = next(
        ast.literal_eval(n.value)
        for n in tree.body
        if isinstance(n, ast.Assign) and getattr(n.targets[0], "id", "") == "TIERS"
    )
    assert tuple(migration_tiers) == TIERS
    checks = {
        c.name: str(c.sqltext)
        for c in Base.metadata.tables["work_orders"].constraints
        if c.name and c.name.startswith("ck_")
    }
    assert checks["ck_work_orders_tier"] == "tier IN ('网格', '村社', '镇街', '区县', '市级')"
