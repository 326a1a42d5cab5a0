"""Gazetteer: place names in free text → hierarchy nodes, with confidence and reasons."""

from __future__ import annotations

import csv
import random
import time
from pathlib import Path

import pytest

from copilot.gazetteer import (
    DEFAULT_LANDMARKS_CSV,
    MAX_TEXT_CHARS,
    Gazetteer,
    PlaceResolution,
)
from copilot.hierarchy import Hierarchy

LIANGLU = "500112016"  # 渝北区两路街道
YUBEI = "500112"
RENHE_YUBEI, RENHE_YUNYANG = "500112009", "500235003"  # two 人和街道
JIEFANGBEI = "500103003"
JIAOCHANGKOU = "500103003021"  # 较场口社区居民委员会


@pytest.fixture(scope="module")
def h() -> Hierarchy:
    return Hierarchy.from_csv()


@pytest.fixture(scope="module")
def gz(h: Hierarchy) -> Gazetteer:
    return Gazetteer(h)


def best_code(r: PlaceResolution) -> str | None:
    return r.best.code if r.best else None


# ---- the four kinds of names -------------------------------------------------------------


def test_full_name(gz: Gazetteer) -> None:
    text = "两路街道的路灯坏了三天"
    r = gz.resolve(text)
    b = r.best
    assert b is not None and b.code == LIANGLU
    assert (b.level, b.tier, b.match_kind, b.basis) == ("town", "镇街", "full", "unique")
    assert b.confidence >= 0.9
    assert text[b.start : b.end] == b.matched_text == "两路街道"
    assert (b.district_code, b.district_name, b.town_code) == (YUBEI, "渝北区", LIANGLU)
    assert r.reason is None and r.candidates[0] == b and len(r.mentions) == 1


def test_village_full_name(gz: Gazetteer) -> None:
    b = gz.resolve("较场口社区居民委员会通知").best
    assert b is not None and b.code == JIAOCHANGKOU and b.tier == "村社"
    assert (b.town_name, b.village_name) == ("解放碑街道", "较场口社区居民委员会")


def test_short_names(gz: Gazetteer) -> None:
    # 沙坪坝 names the district and its 沙坪坝街道: nested, so the (safe) district, no doubt.
    r = gz.resolve("沙坪坝堵车了")
    assert best_code(r) == "500106" and r.best.match_kind == "short"
    assert r.best.confidence >= 0.8
    assert best_code(gz.resolve("磁器口人太多")) == "500106004"
    assert best_code(gz.resolve("去两路办事")) == LIANGLU
    assert best_code(gz.resolve("两路口堵车")) == "500103004"  # longest match wins


def test_landmarks(gz: Gazetteer, h: Hierarchy) -> None:
    r = gz.resolve("洪崖洞附近井盖破损")
    assert best_code(r) == JIEFANGBEI and r.best.match_kind == "landmark"
    assert r.best.matched_text == "洪崖洞"
    assert best_code(gz.resolve("观音桥步行街有人乱扔垃圾")) == "500105006"
    assert best_code(gz.resolve("朝天门来福士")) == "500103010"
    assert best_code(gz.resolve("南坪")) == "500108003"  # landmark over 南坪镇's short name
    assert best_code(gz.resolve("杨家坪步行街")) == "500107001"


def test_landmark_file_is_valid(gz: Gazetteer, h: Hierarchy) -> None:
    assert not gz.landmark_errors
    with DEFAULT_LANDMARKS_CSV.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) >= 80
    assert len({r["name"] for r in rows}) == len(rows)
    for r in rows:
        assert h.by_code[r["code"]].level == "town", r
        assert r["kind"]


def test_landmark_with_bad_code_is_reported(h: Hierarchy, tmp_path: Path) -> None:
    f = tmp_path / "lm.csv"
    f.write_text("name,code,kind\n好地方,500103003,片区\n无处,999,片区\n", encoding="utf-8")
    g = Gazetteer(h, f)
    assert len(g.landmarks) == 1 and len(g.landmark_errors) == 1
    assert best_code(g.resolve("好地方")) == JIEFANGBEI


# ---- combos, context, ambiguity ----------------------------------------------------------


@pytest.mark.parametrize("text", ["渝北区两路街道井盖坏了", "渝北两路有人占道", "渝北区的两路街道"])
def test_district_town_combo(gz: Gazetteer, text: str) -> None:
    r = gz.resolve(text)
    assert best_code(r) == LIANGLU
    assert r.best.basis == "parent" and r.best.confidence >= 0.9
    assert r.best.matched_text.startswith("渝北") and r.best.start == 0
    assert len(r.mentions) == 1  # 渝北区 is folded into the finer place


def test_stop_listed_short_name_after_its_district(gz: Gazetteer) -> None:
    assert gz.resolve("复兴").best is None  # a common word alone
    r = gz.resolve("北碚复兴路口积水")
    assert best_code(r) == "500109009" and r.best.basis == "parent"
    assert best_code(gz.resolve("渝北王家有人占道")) == "500112018"


def test_child_name_settles_ambiguous_parent(gz: Gazetteer, h: Hierarchy) -> None:
    # Two 新民镇 (垫江, 奉节); only 垫江's has 石仙村.
    r = gz.resolve("新民镇石仙村第1网格小区电梯困人")
    assert r.best is not None and r.best.level == "grid"
    assert (r.best.district_name, r.best.town_name) == ("垫江县", "新民镇")
    assert r.best.village_name.startswith("石仙村")


def test_ambiguous_town_settled_by_reporter(gz: Gazetteer, h: Hierarchy) -> None:
    yunyang_village = h.children[RENHE_YUNYANG][0]
    yubei_grid = h.grids_of(h.children[RENHE_YUBEI][0])[0].code
    r = gz.resolve("人和街道有噪音扰民", reporter_code=yunyang_village)
    assert best_code(r) == RENHE_YUNYANG
    assert r.best.basis == "reporter" and 0.6 <= r.best.confidence <= 0.8
    assert [c.code for c in r.candidates] == [RENHE_YUNYANG, RENHE_YUBEI]
    assert r.candidates[1].confidence < r.best.confidence
    assert best_code(gz.resolve("人和街道有噪音扰民", reporter_code=yubei_grid)) == RENHE_YUBEI
    # A district-level reporter settles it as well.
    r = gz.resolve("兴隆镇停水", reporter_code="500119")
    assert best_code(r) == "500119105" and r.best.basis == "reporter"


def test_ambiguous_settled_by_district_named_elsewhere(gz: Gazetteer) -> None:
    r = gz.resolve("渝北区有个兴隆镇停水了")
    assert best_code(r) == "500112138" and r.best.basis == "context"
    assert r.best.confidence >= 0.85


def test_ambiguous_without_context(gz: Gazetteer) -> None:
    r = gz.resolve("人和街道有噪音扰民")
    assert r.best is None
    assert r.reason and "人和街道" in r.reason and "2" in r.reason and "ambiguous" in r.reason
    assert {c.code for c in r.candidates} == {RENHE_YUBEI, RENHE_YUNYANG}
    assert all(c.confidence <= 0.4 for c in r.candidates)
    r = gz.resolve("兴隆镇停水")
    assert r.best is None and "4" in r.reason and len(r.candidates) == 4


def test_unknown_place(gz: Gazetteer) -> None:
    r = gz.resolve("今天天气不错，大家注意防暑")
    assert r.best is None and r.candidates == [] and r.mentions == []
    assert r.reason == "未识别到地名 no place name found"
    r = gz.resolve("成都来的游客投诉")
    assert r.best is None and "outside Chongqing" in r.reason
    assert gz.resolve("").reason == gz.resolve("   ").reason == "文本为空 empty text"
    assert gz.resolve(None).best is None  # type: ignore[arg-type]


def test_two_towns_give_two_mentions_and_lca(gz: Gazetteer, h: Hierarchy) -> None:
    r = gz.resolve("两路街道和龙溪街道交界处的排水沟堵了")
    assert [m.code for m in r.mentions] == [LIANGLU, "500112011"]
    assert r.mentions[0].start < r.mentions[1].start
    assert h.lca(m.code for m in r.mentions).code == YUBEI
    assert gz.scope(r).code == YUBEI
    r = gz.resolve("九龙坡区杨家坪和沙坪坝区磁器口都有积水")
    assert [m.code for m in r.mentions] == ["500107001", "500106004"]
    assert gz.scope(r).code == "50"
    r = gz.resolve("礼嘉街道和鱼嘴镇之间的道路")
    assert gz.scope(r, zones=True).name == "两江新区"


def test_same_place_twice_is_one_mention(gz: Gazetteer) -> None:
    r = gz.resolve("解放碑洪崖洞一带，解放碑人很多")
    assert [m.code for m in r.mentions] == [JIEFANGBEI]


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Flooding reported in Yubei District", YUBEI),
        ("Nan'an district road closed", "500108"),
        ("NAN’AN", "500108"),
        ("near Jiefangbei", JIEFANGBEI),
        ("Lianglu street", LIANGLU),
        ("Guanyinqiao", "500105006"),
        ("ｙｕｂｅｉ", YUBEI),  # full-width letters
        ("shapingba", "500106"),
    ],
)
def test_pinyin_aliases(gz: Gazetteer, text: str, code: str) -> None:
    r = gz.resolve(text)
    assert best_code(r) == code and r.best.match_kind == "alias"


def test_alias_needs_word_boundary(gz: Gazetteer) -> None:
    assert gz.resolve("bananas are cheap").best is None
    assert gz.resolve("Yubeixyz").best is None


# ---- villages, grids, stop-list ----------------------------------------------------------


def test_village_short_name_needs_context(gz: Gazetteer, h: Hierarchy) -> None:
    # 螺蛳包社区居民委员会 (万州区双河口街道): bare "螺蛳包" alone is not trusted.
    assert gz.resolve("螺蛳包有人摆摊").best is None
    r = gz.resolve("双河口街道螺蛳包有人摆摊")
    assert best_code(r) == "500101019001" and r.best.basis == "parent"
    r = gz.resolve("螺蛳包有人摆摊", reporter_code="500101019002")
    assert best_code(r) == "500101019001"
    # 社区 names are distinctive enough alone.
    assert best_code(gz.resolve("螺蛳包社区有人摆摊")) == "500101019001"


def test_common_words_are_not_places(gz: Gazetteer) -> None:
    for text in ("中心", "提高村民收入", "加强村务管理", "个人和单位都要遵守", "做好水土保持"):
        assert gz.resolve(text).best is None, text
    r = gz.resolve("中心村道路塌方")
    assert r.best is None and "中心村" in r.reason  # explains: needs town/district
    r = gz.resolve("涪陵区百胜镇中心村道路塌方")
    assert r.best is not None and r.best.level == "village" and r.best.town_name == "百胜镇"


def test_grids(gz: Gazetteer, h: Hierarchy) -> None:
    r = gz.resolve("较场口社区第3网格有人占道")
    assert best_code(r) == JIAOCHANGKOU + "003" and r.best.tier == "网格"
    assert r.best.matched_text == "较场口社区第3网格"
    assert best_code(gz.resolve("较场口社区3号网格")) == JIAOCHANGKOU + "003"
    r = gz.resolve("第二网格有人吵架", reporter_code=JIAOCHANGKOU + "005")
    assert best_code(r) == JIAOCHANGKOU + "002" and r.best.basis == "reporter"
    assert gz.resolve("第二网格有人吵架").best is None


def test_imported_grid_names_are_indexed(tmp_path: Path) -> None:
    hh = Hierarchy.from_csv(grids_per_village=2)
    f = tmp_path / "g.csv"
    f.write_text(
        f"grid_code,grid_name,village_code\n{JIAOCHANGKOU}901,十八梯片区网格,{JIAOCHANGKOU}\n",
        encoding="utf-8",
    )
    assert hh.import_grids(f).imported == 1
    r = Gazetteer(hh).resolve("十八梯片区网格有人摆摊")
    assert best_code(r) == JIAOCHANGKOU + "901" and r.best.level == "grid"


def test_zones(gz: Gazetteer) -> None:
    r = gz.resolve("两江新区礼嘉街道")
    assert best_code(r) == "500112019" and r.best.zone_name == "两江新区"
    assert gz.resolve("高新区的企业").best.level == "zone"
    assert gz.resolve("万盛经开区黑山谷").best.code == "500110107"


def test_candidates_are_bounded_and_valid(gz: Gazetteer) -> None:
    r = gz.resolve("新农村建设")  # 5 villages named 新农村, weak without context
    assert len(r.candidates) <= 5
    for text in ("人和街道", "兴隆镇", "跃进村", "江北"):
        r = gz.resolve(text)
        assert len(r.candidates) <= 5
        assert all(0.0 <= c.confidence <= 1.0 for c in r.candidates)
        if r.best:
            assert r.candidates[0].code == r.best.code


# ---- robustness --------------------------------------------------------------------------


def test_arbitrary_unicode_does_not_crash(gz: Gazetteer) -> None:
    rng = random.Random(3)
    samples = [
        "😀🔥解放碑💥",
        "\x00\x01解放碑\ud800\udfff",
        "".join(chr(rng.randint(0x20, 0x2FFFF)) for _ in range(3000)),
        "".join(chr(rng.randint(0x4E00, 0x9FFF)) for _ in range(3000)),
        "🏳️‍🌈" * 500,
    ]
    for s in samples:
        assert isinstance(gz.resolve(s, reporter_code="not-a-code"), PlaceResolution)
    assert best_code(gz.resolve(samples[0])) == JIEFANGBEI


def test_very_long_text_is_bounded(gz: Gazetteer) -> None:
    long_text = "渝北区两路街道井盖坏了。" * 50_000  # 600k chars
    t0 = time.perf_counter()
    r = gz.resolve(long_text)
    assert time.perf_counter() - t0 < 1.0
    assert r.truncated and best_code(r) == LIANGLU
    r = gz.resolve("无关文字" * 5000 + "解放碑")
    assert r.best is None and r.truncated and str(MAX_TEXT_CHARS) in r.reason


def test_mojibake_does_not_crash(gz: Gazetteer) -> None:
    s = "渝北区两路街道井盖坏了"
    garbled = [
        s.encode("utf-8").decode("gbk", errors="replace"),
        s.encode("gbk").decode("utf-8", errors="replace"),
        s.encode("utf-8").decode("latin-1"),
        "锟斤拷烫烫烫",
    ]
    for g in garbled:
        r = gz.resolve(g)
        assert isinstance(r, PlaceResolution)
        assert r.best is None or 0 <= r.best.confidence <= 1


def test_resolve_latency(gz: Gazetteer) -> None:
    texts = [
        "渝北区两路街道的路灯坏了",
        "洪崖洞附近井盖破损",
        "人和街道有噪音",
        "今天天气不错",
    ] * 100
    t0 = time.perf_counter()
    for t in texts:
        gz.resolve(t)
    assert (time.perf_counter() - t0) / len(texts) < 0.005
