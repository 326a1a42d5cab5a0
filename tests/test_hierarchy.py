"""The division hierarchy: counts, generated and imported grids, zones, tree queries."""

from __future__ import annotations

import random
import re
import time
from pathlib import Path

import pytest

from copilot.hierarchy import (
    DEFAULT_DIVISIONS_CSV,
    FUNCTIONAL_ZONES,
    Division,
    Hierarchy,
    grid_count,
    village_short_name,
)
from copilot.vocabulary import LEVEL_TIER, tier_of

VILLAGES = 11234


@pytest.fixture(scope="module")
def h() -> Hierarchy:
    return Hierarchy.from_csv()


# ---- counts and load ---------------------------------------------------------------------


def test_counts(h: Hierarchy) -> None:
    c = h.counts()
    assert (c["city"], c["district"], c["town"], c["village"]) == (1, 38, 1031, VILLAGES)
    assert c["zone"] == 3
    # Default 3..8 grids per village: "60,000+".
    assert 3 * VILLAGES <= c["grid"] <= 8 * VILLAGES
    assert c["grid"] >= 60_000
    assert len(h) == sum(c.values())
    assert h.city.code == "50" and h.city.tier == "市级"
    assert len(h.level("district")) == 38  # zones are not districts


def test_load_is_fast() -> None:
    t0 = time.perf_counter()
    h5 = Hierarchy.from_csv(DEFAULT_DIVISIONS_CSV, grids_per_village=5)
    h5.descendants("50", "grid")  # builds the query index too
    elapsed = time.perf_counter() - t0
    assert h5.counts()["grid"] == 5 * VILLAGES
    assert elapsed < 4.0  # target < 2 s (see bench.hierarchy); loose for slow CI


def test_no_grids_and_no_zones() -> None:
    bare = Hierarchy.from_csv(grids_per_village=None, zones=None)
    assert bare.counts()["grid"] == 0 and bare.counts()["zone"] == 0


# ---- tiers and names ---------------------------------------------------------------------


def test_tiers() -> None:
    assert [tier_of(lv) for lv in ("city", "district", "town", "village", "grid")] == [
        "市级",
        "区县",
        "镇街",
        "村社",
        "网格",
    ]
    assert tier_of("zone") == "区县"
    assert set(LEVEL_TIER) == {"city", "district", "zone", "town", "village", "grid"}
    with pytest.raises(ValueError):
        tier_of("province")
    with pytest.raises(ValueError):
        Division("1", "x", "province", None)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("name", "short"),
    [
        ("较场口社区居民委员会", "较场口社区"),
        ("人民村村民委员会", "人民村"),
        ("悦来村民委员会", "悦来村"),
        ("鱼田堡居委会", "鱼田堡社区"),
        ("塔山社区居委会", "塔山社区"),
        ("化龙桥社区工作站", "化龙桥社区"),
        ("盐河村村民委会", "盐河村"),
        ("中坝社区", "中坝社区"),
    ],
)
def test_village_short_names(name: str, short: str) -> None:
    assert village_short_name(name) == short
    assert Division("500000000000", name, "village", "500000000").short_name() == short


def test_short_names_keep_old_behaviour(h: Hierarchy) -> None:
    assert h.by_code["500106"].short_name() == "沙坪坝"
    assert h.by_code["500242"].short_name() == "酉阳"
    assert h.by_code["500233"].short_name() == "忠县"
    assert h.by_code["500112016"].short_name() == "两路"
    town = next(d for d in h.level("town") if d.name == "地宝土家族乡")
    assert town.short_name() == "地宝"
    v = h.by_code["500103003021"]
    assert v.name == "较场口社区居民委员会"
    assert (v.short_name(), v.bare_name()) == ("较场口社区", "较场口")


def test_find_districts_compat(h: Hierarchy) -> None:
    assert [d.name for d in h.find_districts("沙坪坝区和江北的人口")] == ["沙坪坝区", "江北区"]
    assert h.by_code["500106"].model_dump()["parent_code"] == "50"


# ---- grids -------------------------------------------------------------------------------


def test_every_grid_sits_under_a_village(h: Hierarchy) -> None:
    grids = h.level("grid")
    pattern = re.compile(r"第(\d+)网格$")
    for g in grids:
        parent = h.by_code[g.parent_code]
        assert parent.level == "village"
        assert g.code.startswith(parent.code) and len(g.code) == len(parent.code) + 3
        seq = int(g.code[-3:])
        assert g.name == f"{parent.short_name()}第{seq}网格"
        assert pattern.search(g.name)
        assert g.tier == "网格"
    v = h.by_code["500103003021"]
    kids = h.grids_of(v.code)
    assert len(kids) == grid_count(v.code) == 8  # pinned: crc32-based, stable everywhere
    assert kids[2].code == "500103003021003" and kids[2].name == "较场口社区第3网格"


def test_grid_ids_stable_across_loads(h: Hierarchy) -> None:
    again = Hierarchy.from_csv()
    assert [(g.code, g.name) for g in again.level("grid")] == [
        (g.code, g.name) for g in h.level("grid")
    ]
    counts = [grid_count(v.code) for v in h.level("village")]
    assert min(counts) == 3 and max(counts) == 8
    assert 5.3 < sum(counts) / len(counts) < 5.7


def test_import_grids(tmp_path: Path) -> None:
    hh = Hierarchy.from_csv(grids_per_village=(3, 8))
    a, b = "500103003021", "500112016001"
    old_a = [g.code for g in hh.grids_of(a)]
    untouched = "500103003020"
    before_untouched = [g.code for g in hh.grids_of(untouched)]
    f = tmp_path / "grids.csv"
    f.write_text(
        "grid_code,grid_name,village_code\n"
        f"{a}101,较场口一网格,{a}\n"  # line 2
        f"{a}102,较场口二网格,{a}\n"  # line 3
        f"{b}001,两路网格A,{b}\n"  # line 4: reuses B's generated code, allowed
        "500103999999001,无主网格,500103999999\n"  # line 5: unknown village
        f"{a}101,重复网格,{a}\n"  # line 6: duplicate code
        f",缺编码,{a}\n"  # line 7: missing field
        f"500112016,占用镇街编码,{b}\n",  # line 8: code of a town
        encoding="utf-8",
    )
    report = hh.import_grids(f)
    assert report.rows == 7 and report.imported == 3
    assert report.villages == [a, b]
    assert [e.line for e in report.errors] == [5, 6, 7, 8]
    assert "unknown village" in report.errors[0].reason
    assert "duplicate" in report.errors[1].reason
    assert "missing" in report.errors[2].reason
    assert "already used" in report.errors[3].reason
    assert not report.ok
    assert [g.code for g in hh.grids_of(a)] == [f"{a}101", f"{a}102"]
    assert [g.name for g in hh.grids_of(b)] == ["两路网格A"]
    assert all(c not in hh.by_code for c in old_a)
    assert [g.code for g in hh.grids_of(untouched)] == before_untouched
    assert hh.imported_villages == {a, b}
    # The query index follows the change.
    town_grids = {g.code for g in hh.descendants("500103003", "grid")}
    assert f"{a}101" in town_grids and old_a[0] not in town_grids
    assert hh.ancestors(f"{a}102")[0].code == a
    # GBK files (Excel exports) are read too; missing columns are a hard error.
    g = tmp_path / "gbk.csv"
    g.write_bytes(f"grid_code,grid_name,village_code\n{a}201,较场口甲网格,{a}\n".encode("gbk"))
    assert hh.import_grids(g).imported == 1
    bad = tmp_path / "bad.csv"
    bad.write_text("code,name\n1,2\n", encoding="utf-8")
    with pytest.raises(ValueError):
        hh.import_grids(bad)


def test_export_import_round_trip(tmp_path: Path) -> None:
    hh = Hierarchy.from_csv(grids_per_village=2)
    out = tmp_path / "all.csv"
    assert hh.export_grids(out) == 2 * VILLAGES
    report = hh.import_grids(out)
    assert report.ok and report.imported == 2 * VILLAGES
    assert hh.counts()["grid"] == 2 * VILLAGES


# ---- tree queries ------------------------------------------------------------------------


def test_ancestors_and_path(h: Hierarchy) -> None:
    grid = "500103003021003"
    assert [d.code for d in h.ancestors(grid)] == [
        "500103003021",
        "500103003",
        "500103",
        "50",
    ]
    assert [d.level for d in h.path(grid)] == ["city", "district", "town", "village", "grid"]
    assert h.ancestors("50") == [] and h.ancestors("nope") == [] and h.path("nope") == []
    assert h.ancestor_at(grid, "district").name == "渝中区"
    assert h.town_of(grid).name == "解放碑街道"
    assert h.village_of(grid).code == "500103003021"
    assert h.display_name(grid) == "渝中区解放碑街道较场口社区第3网格"


def test_descendants_match_brute_force(h: Hierarchy) -> None:
    def brute(code: str, level: str | None) -> list[str]:
        out: list[str] = []
        stack = list(reversed(h.children.get(code, [])))
        while stack:
            c = stack.pop()
            if level is None or h.by_code[c].level == level:
                out.append(c)
            stack.extend(reversed(h.children.get(c, [])))
        return out

    rng = random.Random(7)
    nodes = rng.sample(h.level("district"), 3) + rng.sample(h.level("town"), 5)
    nodes += rng.sample(h.level("village"), 5)
    for d in nodes:
        for level in (None, "town", "village", "grid"):
            got = [x.code for x in h.descendants(d.code, level)]
            assert got == brute(d.code, level), (d.code, level)
            assert h.count_descendants(d.code, level) == len(got)
    assert len(h.descendants("50", "town")) == 1031
    assert len(h.descendants("50", "district")) == 38
    assert h.descendants("500103003021003") == [] and h.descendants("nope") == []
    assert h.is_within("500103003021003", "500103") and not h.is_within("500103", "500106")


def test_lca(h: Hierarchy) -> None:
    assert h.lca(["500112016", "500112011"]).code == "500112"  # two towns → district
    assert h.lca(["500112", "500106"]).code == "50"  # two districts → city
    assert h.lca(["500103003021003", "500103003"]).code == "500103003"
    assert h.lca(["500103003021003", "500103003021001"]).code == "500103003021"
    assert h.lca(["500106004"]).code == "500106004"
    # 礼嘉街道 (渝北) + 鱼嘴镇 (江北): the city in the tree, 两江新区 when zones count.
    assert h.lca(["500112019", "500105100"]).code == "50"
    assert h.lca(["500112019", "500105100"], zones=True).name == "两江新区"
    assert h.lca(["500112019", "500106004"], zones=True).code == "50"
    with pytest.raises(KeyError):
        h.lca(["500112019", "nope"])
    with pytest.raises(ValueError):
        h.lca([])


def test_query_latency(h: Hierarchy) -> None:
    grids = [g.code for g in h.level("grid")[:2000]]
    t0 = time.perf_counter()
    for g in grids:
        h.ancestors(g)
        h.lca([g, "500112016"])
    assert (time.perf_counter() - t0) / len(grids) < 0.001


# ---- zones -------------------------------------------------------------------------------


def test_zones(h: Hierarchy) -> None:
    assert not h.zone_warnings
    zones = {z.name: z for z in h.level("zone")}
    assert set(zones) == {"两江新区", "重庆高新区", "万盛经开区"}
    for seed in FUNCTIONAL_ZONES:
        z = zones[seed.name]
        assert z.parent_code == "50" and z.tier == "区县"
        assert len(z.covers) == len(seed.covers)
        for code, (district_name, town_name) in zip(z.covers, seed.covers, strict=True):
            town = h.by_code[code]
            assert town.level == "town" and town.name == town_name
            assert h.by_code[town.parent_code].name == district_name
    wansheng = zones["万盛经开区"]
    assert all(c.startswith("500110") for c in wansheng.covers)
    assert {h.by_code[c].name for c in zones["两江新区"].covers} >= {"礼嘉街道", "鱼嘴镇"}
    lj = zones["两江新区"]
    assert [z.name for z in h.zones_of("500112019001")] == ["两江新区"]
    assert h.zones_of("500112016") == []
    assert h.is_within("500112019001", lj.code) and not h.is_within("500112016", lj.code)
    towns = h.descendants(lj.code, "town")
    assert [t.code for t in towns] == list(lj.covers)
    assert h.count_descendants(lj.code, "village") == sum(
        h.count_descendants(t, "village") for t in lj.covers
    )
