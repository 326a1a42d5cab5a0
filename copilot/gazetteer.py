"""Gazetteer: resolve place names in free text to nodes of the hierarchy.

``Gazetteer(hierarchy).resolve("渝北两路街道的井盖坏了", reporter_code=...)`` returns a
:class:`PlaceResolution`: the best match (or ``None`` with a reason), up to five ranked
candidates, and one match per distinct place mentioned in the text.

How it works
------------
* **Index** (built once, 0.1–0.5 s, ~13 MB): every name form of every node, keyed by its normalised
  text — full names (沙坪坝区, 两路街道, 较场口社区居民委员会), short names (沙坪坝, 两路,
  较场口社区), village bare names (较场口, *weak*: see below), the landmarks of
  ``data/gazetteer/landmarks.csv`` (name,code,kind → a town/street code), pinyin/English
  aliases (Yubei, Shapingba, Nan'an, Jiefangbei …), zone aliases (两江, 高新区, 万盛经开区)
  and imported grid names. Generated grid names are not indexed: "较场口社区第3网格" or
  "第3网格" (with the reporter's village) resolve through the village.
* **Scan**: at every position whose character starts some name, every indexed length is
  tried (a dict lookup per length), so the scan is O(len(text) × name lengths) and bounded:
  text beyond :data:`MAX_TEXT_CHARS` is not scanned (``truncated`` says so). Overlaps are
  settled longest-first (沙坪坝区 beats 沙坪坝, 两路口 beats 两路).
* **Stop-list**: short names of fewer than 2 characters are never indexed, nor short/bare
  names in :data:`STOP_WORDS` (中心, 胜利, 复兴, 长沙 …) or 2-character "X家" forms (王家,
  李家: surnames). The full names (复兴街道, 王家街道) still match, and so does such a
  short name right after its own district (北碚复兴, 奉节永乐: kind ``guarded``).
* **Weak names**: a village bare name (较场口 from 较场口社区居民委员会) only counts when
  the text also names the town containing it, or it lies in the reporter's town. A 村 name
  on a short or common stem (人民村, 建设村, 高村: also phrases such as 城市和农村) is weak
  too, but a district/zone named in the text or the reporter's district is enough for it.
  "X村" followed by 民/务/委/级/集/干/规/组 (提高村民, 加强村务) never matches.
* **Chains**: adjacent names that nest (渝北区两路街道, 渝北两路, 重庆市渝北区, 两江新区礼嘉)
  merge into one mention of the innermost place, settled by the explicit parent. A name
  right after an ambiguous parent settles both: 新民镇石仙村 is the 石仙村 of whichever
  新民镇 has one. Up to two of " 的·-—/" may sit between the names.
* **Ranking** of a mention's candidates, lexicographic: (an ancestor is named elsewhere in
  the text) > (inside the reporter's town 2 / district or zone 1) > (name kind: full >
  landmark/alias/district short name > town short/village common > bare) > (level: coarser
  first, the safe routing choice).
  Candidates that all nest (沙坪坝 = 沙坪坝区 ⊃ 沙坪坝街道) are not ambiguous: the coarsest
  one is taken. Confidence: 0.95 unique full name or explicit parent, 0.9 unique
  landmark/alias or settled by a parent named elsewhere, 0.85 unique short name, 0.8 settled
  by name kind, 0.75/0.7 settled by the reporter's town/district, 0.6 settled by level; when
  the top two are tied the mention is ambiguous (candidates at 0.4) and yields no best match.
* **Output**: ``mentions`` keeps one match per distinct place in text order; a mention that
  is only an ancestor of another (渝北区 … 两路街道) or the city when something finer is named
  is folded away, so ``hierarchy.lca(m.code for m in mentions)`` is the event's scope.
  ``best`` is the most confident mention (ties: the more specific, then the first).
  No place → ``best=None`` and a Chinese+English ``reason``; never a silent guess.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, Field

from copilot.hierarchy import REPO_ROOT, Division, Hierarchy
from copilot.vocabulary import tier_of

DEFAULT_LANDMARKS_CSV = REPO_ROOT / "data" / "gazetteer" / "landmarks.csv"
DEFAULT_OTHER_PLACES = REPO_ROOT / "data" / "lexicon" / "other_places.txt"
#: Only this much of a text is scanned (keeps resolve bounded on pasted documents).
MAX_TEXT_CHARS = 5000

#: Common words that are also short names of towns/villages; never matched as short names.
STOP_WORDS: frozenset[str] = frozenset(
    """
    中心 人民 胜利 团结 民主 和平 新华 建设 红旗 光明 幸福 先锋 前进 东风 友谊 解放 发展 文化
    工业 农业 新村 花园 广场 公园 学校 医院 车站 码头 市场 新街 老街 正街 大街 中街 东街 西街
    南街 北街 上街 下街 河街 新城 老城 城南 城北 城东 城西 东城 西城 南城 北城 城中 城关 城厢
    永安 长安 平安 太平 复兴 青年 和谐 繁荣 民生 光荣 新建 新生 新民 新立 新乡 新市 联合 群力
    公平 三角 温泉 海洋 土地 江南 江东 河边 小河 大河 大路 高楼 火炉 黄金 荔枝 朝阳 宜居 惠民
    礼让 太极 长生 高峰 向阳 红光 金星 共和 永红 和顺 大同 西湖 天府 长沙 桂林 同乐 康乐 五福
    三星 三合 中和 中平 大兴 大安 大德 天和 新桥 高桥 板桥 平桥 白云 白马 凤凰 龙门 龙凤 清泉
    清流 天生 田坝 石门 江口 溪口 水口 双河 三江 三河 新田 中山 中山路 胜利路 花园路 南大街
    高升 永兴 永乐 永平 正安 正阳 正兴 普安 福田 福寿 福禄 庆元 鹿鸣 鸡鸣 广兴 维新 修齐 里仁
    明中 大有 大树 车田 石子 双路 牌楼 竹园 长坝 金鸡 响水 马鞍 龙华 龙田 长龙 龙潭 石龙 石安
    石堰 河嘴 路阳 文峰 白石 中塘 康坪 石岗 菩提 高观 高阳 四屏 天元 紫照 铁门 砚台 坪坝 沙坝
    沙河 新胜 新盛 新妙 新津 兴隆 双龙 一品 大观 大石 大溪 红土 清平 建平 天星 水土
    人和 和林 和谦 高安 沿河 九龙 桥头 河嘴 石堤
    """.split()
)

_KIND_RANK = {
    "full": 4,
    "grid": 4,
    "landmark": 3,
    "alias": 3,
    "common": 2,
    "short": 2,
    "bare": 1,
    "guarded": 1,
}
_KIND_CONF = {
    "full": 0.95,
    "grid": 0.95,
    "landmark": 0.9,
    "alias": 0.9,
    "common": 0.85,
    "short": 0.85,
    "bare": 0.75,
    "guarded": 0.75,
}
_AFTER_CUN = frozenset("民务委级集干规组")
_CHAIN_GAP = frozenset(" \t\u3000的·-—/")
_CONTEXT_LEVELS = frozenset({"district", "zone", "town"})

#: Pinyin/English names of the 38 districts/counties (lower case; matched on word boundaries).
DISTRICT_ALIASES: dict[str, tuple[str, ...]] = {
    "万州区": ("wanzhou",),
    "涪陵区": ("fuling",),
    "渝中区": ("yuzhong",),
    "大渡口区": ("dadukou",),
    "江北区": ("jiangbei",),
    "沙坪坝区": ("shapingba",),
    "九龙坡区": ("jiulongpo",),
    "南岸区": ("nan'an", "nanan", "nan an"),
    "北碚区": ("beibei",),
    "綦江区": ("qijiang",),
    "大足区": ("dazu",),
    "渝北区": ("yubei",),
    "巴南区": ("banan",),
    "黔江区": ("qianjiang",),
    "长寿区": ("changshou",),
    "江津区": ("jiangjin",),
    "合川区": ("hechuan",),
    "永川区": ("yongchuan",),
    "南川区": ("nanchuan",),
    "璧山区": ("bishan",),
    "铜梁区": ("tongliang",),
    "潼南区": ("tongnan",),
    "荣昌区": ("rongchang",),
    "开州区": ("kaizhou",),
    "梁平区": ("liangping",),
    "武隆区": ("wulong",),
    "城口县": ("chengkou",),
    "丰都县": ("fengdu",),
    "垫江县": ("dianjiang",),
    "忠县": ("zhongxian", "zhong county"),
    "云阳县": ("yunyang",),
    "奉节县": ("fengjie",),
    "巫山县": ("wushan",),
    "巫溪县": ("wuxi county",),  # bare "wuxi" is 无锡 in English text
    "石柱土家族自治县": ("shizhu",),
    "秀山土家族苗族自治县": ("xiushan",),
    "酉阳土家族苗族自治县": ("youyang",),
    "彭水苗族土家族自治县": ("pengshui",),
}

#: Aliases of towns/streets, keyed by (district name, town name).
TOWN_ALIASES: dict[tuple[str, str], tuple[str, ...]] = {
    ("渝北区", "两路街道"): ("lianglu",),
    ("渝中区", "解放碑街道"): ("jiefangbei",),
    ("江北区", "观音桥街道"): ("guanyinqiao",),
    ("沙坪坝区", "磁器口街道"): ("ciqikou",),
    ("渝中区", "朝天门街道"): ("chaotianmen",),
    ("南岸区", "南坪街道"): ("nanping",),
    ("九龙坡区", "杨家坪街道"): ("yangjiaping",),
    ("渝中区", "上清寺街道"): ("shangqingsi",),
    ("南岸区", "弹子石街道"): ("danzishi",),
}

#: Aliases of the functional zones (Chinese and English), keyed by zone name.
ZONE_ALIASES: dict[str, tuple[str, ...]] = {
    "两江新区": ("两江", "liangjiang new area", "liangjiang"),
    "重庆高新区": (
        "高新区",
        "重庆高新技术产业开发区",
        "西部科学城重庆高新区",
        "chongqing high-tech zone",
        "gaoxin",
    ),
    "万盛经开区": ("万盛经济技术开发区", "万盛区", "wansheng"),
}

CITY_ALIASES: tuple[str, ...] = ("重庆", "chongqing")


# --------------------------------------------------------------------------------------
# Public models
# --------------------------------------------------------------------------------------


class PlaceMatch(BaseModel):
    code: str
    name: str
    level: str
    tier: str
    display_name: str = Field(description="path without the city: 渝北区两路街道")
    matched_text: str
    start: int = Field(description="character offset in the input text")
    end: int
    confidence: float = Field(ge=0.0, le=1.0)
    match_kind: str = Field(description="full|short|common|bare|landmark|alias|grid")
    basis: str = Field(
        description="unique|parent|context|reporter|name_kind|level|ambiguous|candidate"
    )
    district_code: str | None = None
    district_name: str | None = None
    town_code: str | None = None
    town_name: str | None = None
    village_code: str | None = None
    village_name: str | None = None
    zone_code: str | None = None
    zone_name: str | None = None


class PlaceResolution(BaseModel):
    best: PlaceMatch | None = None
    candidates: list[PlaceMatch] = Field(default_factory=list, description="≤5, best first")
    mentions: list[PlaceMatch] = Field(default_factory=list, description="text order")
    reason: str | None = None
    truncated: bool = False


# --------------------------------------------------------------------------------------
# Internals
# --------------------------------------------------------------------------------------


@lru_cache(maxsize=65536)
def _norm_char(ch: str) -> str:
    if ch in "’‘`´":
        return "'"
    n = unicodedata.normalize("NFKC", ch)
    if len(n) != 1:
        n = ch
    low = n.lower()
    return low if len(low) == 1 else n


def normalize(text: str) -> str:
    """Per-character NFKC + lower case; the result has the same length as ``text``."""
    return "".join(map(_norm_char, text))


def _is_word_char(ch: str) -> bool:
    return ch.isascii() and (ch.isalnum() or ch == "'")


_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5}
_CN_DIGITS |= {"六": 6, "七": 7, "八": 8, "九": 9}


def _cn_number(s: str) -> int | None:
    if s.isdigit():
        return int(s)
    if "百" in s:
        return None
    if "十" in s:
        head, _, tail = s.partition("十")
        tens = _CN_DIGITS.get(head, -1) if head else 1
        ones = _CN_DIGITS.get(tail, -1) if tail else 0
        return None if tens < 0 or ones < 0 else tens * 10 + ones
    if len(s) == 1:
        return _CN_DIGITS.get(s)
    return None


_GRID_RE = re.compile(r"(第)?([0-9]{1,3}|[一二两三四五六七八九十]{1,3})(号)?网格")


@dataclass
class _Mention:
    start: int
    end: int
    cands: dict[str, str]  # code → match kind
    chained: bool = False
    # filled by resolution
    ranked: list[tuple[str, float]] = field(default_factory=list)
    winner: str | None = None
    conf: float = 0.0
    basis: str = ""


class Gazetteer:
    """Place-name index over a :class:`Hierarchy` (build once, share; resolve is read-only)."""

    def __init__(
        self,
        hierarchy: Hierarchy,
        landmarks_csv: Path | str | None = DEFAULT_LANDMARKS_CSV,
        *,
        other_places: Path | str | None = DEFAULT_OTHER_PLACES,
    ) -> None:
        self.hierarchy = hierarchy
        self.landmark_errors: list[str] = []
        self.landmarks: list[tuple[str, str, str]] = []
        acc: dict[str, dict[str, str]] = {}
        self._acc = acc
        self._index_divisions()
        if landmarks_csv is not None:
            self._index_landmarks(Path(landmarks_csv))
        self._index_aliases()
        self._index: dict[str, tuple[tuple[str, str], ...]] = {
            k: tuple(v.items()) for k, v in acc.items()
        }
        del self._acc
        lens: dict[str, set[int]] = {}
        for k in self._index:
            lens.setdefault(k[0], set()).add(len(k))
        self._lens = {c: tuple(sorted(s, reverse=True)) for c, s in lens.items()}
        self._other_places: tuple[str, ...] = ()
        if other_places is not None and Path(other_places).exists():
            words = []
            for line in Path(other_places).read_text(encoding="utf-8").splitlines():
                if not line.lstrip().startswith("#"):
                    words.extend(line.split())
            self._other_places = tuple(sorted(set(words), key=len, reverse=True))

    # ---- index building -----------------------------------------------------------------

    def _add(self, name: str, code: str, kind: str) -> None:
        name = name.strip()
        if len(name) < 2:
            return
        slot = self._acc.setdefault(normalize(name), {})
        old = slot.get(code)
        if old is None or _KIND_RANK[kind] > _KIND_RANK[old]:
            slot[code] = kind

    @staticmethod
    def _short_ok(s: str) -> bool:
        return len(s) >= 2 and s not in STOP_WORDS and not (len(s) == 2 and s.endswith("家"))

    def _index_divisions(self) -> None:
        h = self.hierarchy
        imported = h.imported_villages
        for d in h.by_code.values():
            lv = d.level
            if lv == "grid":
                if d.parent_code in imported:
                    self._add(d.name, d.code, "grid")
                continue
            self._add(d.name, d.code, "full")
            if lv == "city":
                for a in CITY_ALIASES:
                    self._add(a, d.code, "alias")
            elif lv == "district":
                s = d.short_name()
                if s != d.name:
                    self._add(s, d.code, "short")
                if d.name.endswith("自治县"):
                    self._add(s + "县", d.code, "alias")  # 石柱县, 酉阳县
            elif lv == "zone":
                for a in ZONE_ALIASES.get(d.name, ()):
                    self._add(a, d.code, "alias")
            elif lv == "town":
                s = d.short_name()
                if s != d.name and len(s) >= 2:
                    # A stop-listed short name (奉节永乐, 北碚复兴) only right after its parent.
                    self._add(s, d.code, "short" if self._short_ok(s) else "guarded")
            elif lv == "village":
                s = d.short_name()
                b = d.bare_name()
                if s != d.name:
                    # 较场口社区 / 角帮寨村 are safe names; 建设村, 新农村, 高村 are also phrases
                    # (城市和农村, 提高村民): a 村 name on a short or common stem is weak.
                    strong = self._short_ok(b) and (s.endswith("社区") or len(b) >= 3)
                    self._add(s, d.code, "common" if strong else "bare")
                if b != s and self._short_ok(b):
                    self._add(b, d.code, "bare")

    def _index_landmarks(self, path: Path) -> None:
        h = self.hierarchy
        text = path.read_text(encoding="utf-8-sig")
        for line, r in enumerate(csv.DictReader(io.StringIO(text)), start=2):
            name = (r.get("name") or "").strip()
            code = (r.get("code") or "").strip()
            kind = (r.get("kind") or "").strip()
            d = h.by_code.get(code)
            if not name or d is None:
                self.landmark_errors.append(f"{path.name}:{line}: {name!r} → unknown code {code!r}")
                continue
            self.landmarks.append((name, code, kind))
            self._add(name, code, "landmark")

    def _index_aliases(self) -> None:
        h = self.hierarchy
        by_name = {d.name: d for d in h.level("district")}
        for dname, aliases in DISTRICT_ALIASES.items():
            d = by_name.get(dname)
            if d is not None:
                for a in aliases:
                    self._add(a, d.code, "alias")
        for (dname, tname), aliases in TOWN_ALIASES.items():
            d = by_name.get(dname)
            if d is None:
                continue
            for c in h.children.get(d.code, ()):
                if h.by_code[c].name == tname:
                    for a in aliases:
                        self._add(a, c, "alias")

    # ---- helpers ------------------------------------------------------------------------

    def _scan(self, norm: str) -> list[tuple[int, int, tuple[tuple[str, str], ...]]]:
        out = []
        index, lens_by_first = self._index, self._lens
        n = len(norm)
        for i, ch in enumerate(norm):
            lens = lens_by_first.get(ch)
            if not lens:
                continue
            for length in lens:
                j = i + length
                if j > n:
                    continue
                entries = index.get(norm[i:j])
                if entries is None:
                    continue
                if j < n and norm[j - 1] == "村" and norm[j] in _AFTER_CUN:
                    continue  # 提高村民, 加强村务, 促进村集体: 村 starts another word
                if ch.isascii() and (
                    (i > 0 and _is_word_char(norm[i - 1])) or (j < n and _is_word_char(norm[j]))
                ):
                    continue
                out.append((i, j, entries))
        return out

    def _rank_of(self, code: str, kind: str) -> int:
        """Kind rank; a district/zone short name (沙坪坝, 江北) ranks with landmarks, above a
        town's short name that happens to be the same (涪陵区江北街道)."""
        r = _KIND_RANK[kind]
        if kind == "short" and self.hierarchy.by_code[code].level in ("district", "zone"):
            r += 1
        return r

    def _within_any(self, code: str, containers: Iterable[str]) -> bool:
        return any(self.hierarchy.is_within(code, c) for c in containers)

    def _collapse(self, cands: dict[str, str]) -> dict[str, str]:
        """Candidates that all nest on one chain → the coarsest of the best-ranked kind."""
        if len(cands) <= 1 or len(cands) > 6:
            return cands
        h = self.hierarchy
        codes = sorted(cands, key=lambda c: h.by_code[c].depth)
        for a, b in zip(codes, codes[1:], strict=False):
            if not (h.is_within(b, a) or h.is_within(a, b)):
                return cands
        best_rank = max(self._rank_of(c, k) for c, k in cands.items())
        top = next(c for c in codes if self._rank_of(c, cands[c]) == best_rank)
        return {top: cands[top]}

    def _place(
        self,
        code: str,
        text: str,
        start: int,
        end: int,
        conf: float,
        kind: str,
        basis: str,
    ) -> PlaceMatch:
        h = self.hierarchy
        d = h.by_code[code]
        at: dict[str, Division] = {p.level: p for p in h.path(code)}
        zones = h.zones_of(code)
        dist, town, vil = at.get("district"), at.get("town"), at.get("village")
        return PlaceMatch(
            code=code,
            name=d.name,
            level=d.level,
            tier=tier_of(d.level),
            display_name=h.display_name(code),
            matched_text=text[start:end],
            start=start,
            end=end,
            confidence=round(conf, 3),
            match_kind=kind,
            basis=basis,
            district_code=dist.code if dist else None,
            district_name=dist.name if dist else None,
            town_code=town.code if town else None,
            town_name=town.name if town else None,
            village_code=vil.code if vil else None,
            village_name=vil.name if vil else None,
            zone_code=zones[0].code if zones else None,
            zone_name=zones[0].name if zones else None,
        )

    # ---- resolution ---------------------------------------------------------------------

    def resolve(self, text: str | None, reporter_code: str | None = None) -> PlaceResolution:
        """Place names in ``text`` → best match, ranked candidates and per-place mentions.

        ``reporter_code``: the reporter's own grid/village/town/district/zone code (unknown
        codes are ignored); it settles ambiguous names and admits village short names.
        """
        if not isinstance(text, str):
            text = "" if text is None else str(text)
        if not text.strip():
            return PlaceResolution(reason="文本为空 empty text")
        h = self.hierarchy
        truncated = len(text) > MAX_TEXT_CHARS
        text = text[:MAX_TEXT_CHARS]
        norm = normalize(text)

        rep = h.get(reporter_code)
        rep_town = rep_wide = rep_village = None
        if rep is not None:
            rep_village = h.village_of(rep.code)
            t = h.town_of(rep.code)
            rep_town = t.code if t else None
            wide = h.district_of(rep.code) or (rep if rep.level == "zone" else None)
            rep_wide = wide.code if wide else None
        # Where a weak (bare village) name may be accepted from the reporter's side.
        rep_gate = rep_town or rep_wide

        raw = self._scan(norm)
        # Strong context: unambiguous district/zone/town names anywhere in the text.
        ctx: set[str] = set()
        for _, _, entries in raw:
            strong = {c: k for c, k in entries if k not in ("bare", "guarded")}
            strong = self._collapse(strong)
            if len(strong) == 1:
                (c,) = strong
                if h.by_code[c].level in _CONTEXT_LEVELS:
                    ctx.add(c)
        # A weak 村/社区 name (人民村) may be settled by a district; a bare stem (较场口) needs
        # a town: the text's own, or the reporter's.
        gates_wide = list(ctx) + ([rep_gate] if rep_gate else [])
        gates_town = [c for c in ctx if h.by_code[c].level == "town"]
        gates_town += [rep_town] if rep_town else []
        # Any name directly after a name of a containing place is admitted (新民镇石仙村 picks
        # the 石仙村 of one of the two 新民镇; 奉节永乐 admits the guarded short name 永乐).
        ends: dict[int, list[str]] = {}
        for _, j, entries in raw:
            ends.setdefault(j, []).extend(c for c, k in entries if k not in ("bare", "guarded"))

        def after_parent(i: int, code: str) -> bool:
            p = i
            while p >= 0 and i - p <= 2:
                if any(c != code and h.is_within(code, c) for c in ends.get(p, ())):
                    return True
                p -= 1
                if p < 0 or norm[p] not in _CHAIN_GAP:
                    break
            return False

        gated_out: list[tuple[int, int, list[str]]] = []
        kept: list[tuple[int, int, dict[str, str]]] = []
        for i, j, entries in raw:
            cands: dict[str, str] = {}
            weak: list[str] = []
            gates = gates_wide if norm[j - 1] in "村区" else gates_town
            for c, k in entries:
                if k == "guarded":
                    if not after_parent(i, c):
                        continue
                elif k == "bare" and not (self._within_any(c, gates) or after_parent(i, c)):
                    weak.append(c)
                    continue
                cands[c] = k
            if cands:
                kept.append((i, j, cands))
            elif weak and norm[j - 1] in "村区":
                gated_out.append((i, j, weak))  # 人民村 / XX社区: worth explaining

        # Overlaps: longest first, then strongest kind, then leftmost.
        kept.sort(key=lambda m: (-(m[1] - m[0]), -max(_KIND_RANK[k] for k in m[2].values()), m[0]))
        taken = bytearray(len(norm))
        mentions: list[_Mention] = []
        for i, j, cands in kept:
            if any(taken[i:j]):
                continue
            taken[i:j] = b"\x01" * (j - i)
            mentions.append(_Mention(i, j, dict(cands)))
        mentions.sort(key=lambda m: m.start)
        mentions = self._chain(mentions, text)

        # Context for ranking: each mention's unique place (after collapse).
        uniques: list[str | None] = []
        for m in mentions:
            col = self._collapse(m.cands)
            uniques.append(next(iter(col)) if len(col) == 1 else None)
        for idx, m in enumerate(mentions):
            others = [u for k, u in enumerate(uniques) if k != idx and u is not None]
            others = [u for u in others if h.by_code[u].level in _CONTEXT_LEVELS | {"village"}]
            self._rank(m, others, rep_town, rep_wide)

        resolved = [m for m in mentions if m.winner is not None]
        self._grids(resolved, mentions, norm, rep_village)
        resolved = [m for m in mentions if m.winner is not None]

        out_mentions = self._fold(resolved)
        places = [
            self._place(m.winner, text, m.start, m.end, m.conf, m.cands[m.winner], m.basis)
            for m in out_mentions
        ]
        if places:
            order = sorted(
                range(len(places)),
                key=lambda k: (-places[k].confidence, -h.by_code[places[k].code].depth, k),
            )
            best_m, best = out_mentions[order[0]], places[order[0]]
            cands_out = [best] + [
                self._place(c, text, best_m.start, best_m.end, conf, best_m.cands[c], "candidate")
                for c, conf in best_m.ranked
                if c != best_m.winner
            ][:4]
            return PlaceResolution(
                best=best, candidates=cands_out, mentions=places, truncated=truncated
            )

        # No resolved place: explain why.
        ambiguous = [m for m in mentions if m.winner is None]
        if ambiguous:
            m = ambiguous[0]
            cands_out = [
                self._place(c, text, m.start, m.end, conf, m.cands[c], "ambiguous")
                for c, conf in m.ranked[:5]
            ]
            n = len(m.ranked)
            names = "、".join(p.display_name for p in cands_out)
            more = "等" if n > len(cands_out) else ""
            reason = (
                f"“{text[m.start : m.end]}”有{n}处同名（{names}{more}），无法确定"
                f" ambiguous: {n} candidates"
            )
            return PlaceResolution(candidates=cands_out, reason=reason, truncated=truncated)
        if gated_out:
            i, j, codes = gated_out[0]
            cands_out = [
                self._place(c, text, i, j, 0.3, "bare", "candidate") for c in sorted(codes)[:5]
            ]
            reason = (
                f"“{text[i:j]}”可能是村社简称（{len(codes)}处），需注明镇街或区县"
                " village short name needs a town/district"
            )
            return PlaceResolution(candidates=cands_out, reason=reason, truncated=truncated)
        for w in self._other_places:
            if w in text:
                return PlaceResolution(
                    reason=f"“{w}”不在重庆市范围 outside Chongqing", truncated=truncated
                )
        reason = "未识别到地名 no place name found"
        if truncated:
            reason += f"（仅检查前{MAX_TEXT_CHARS}字 first {MAX_TEXT_CHARS} chars scanned）"
        return PlaceResolution(reason=reason, truncated=truncated)

    def _chain(self, mentions: list[_Mention], text: str) -> list[_Mention]:
        """Merge adjacent nesting names (渝北区两路街道) into one mention of the inner place."""
        h = self.hierarchy
        out: list[_Mention] = []
        for m in mentions:
            if out:
                prev = out[-1]
                gap = text[prev.end : m.start]
                if len(gap) <= 2 and all(ch in _CHAIN_GAP for ch in gap):
                    sub = {
                        c: k
                        for c, k in m.cands.items()
                        if any(p != c and h.is_within(c, p) for p in prev.cands)
                    }
                    if sub:
                        out[-1] = _Mention(prev.start, m.end, sub, chained=True)
                        continue
            out.append(m)
        return out

    def _rank(
        self, m: _Mention, context: list[str], rep_town: str | None, rep_wide: str | None
    ) -> None:
        h = self.hierarchy
        cands = self._collapse(m.cands)
        if len(cands) == 1:
            (code,) = cands
            m.winner, m.ranked = code, [(code, 0.0)]
            m.conf = 0.95 if m.chained else _KIND_CONF[cands[code]]
            # A bare village name only got here through a town in the text or the reporter.
            m.basis = "parent" if m.chained else ("context" if cands[code] == "bare" else "unique")
            m.ranked = [(code, m.conf)]
            return

        def key(c: str) -> tuple[int, int, int, int]:
            ctx = 1 if any(u != c and h.is_within(c, u) for u in context) else 0
            rep = 0
            if rep_town and h.is_within(c, rep_town):
                rep = 2
            elif rep_wide and h.is_within(c, rep_wide):
                rep = 1
            return (ctx, rep, self._rank_of(c, cands[c]), 5 - h.by_code[c].depth)

        keyed = sorted(((key(c), c) for c in cands), key=lambda x: (tuple(-v for v in x[0]), x[1]))
        (k1, c1), (k2, _) = keyed[0], keyed[1]
        diff = next((i for i in range(4) if k1[i] != k2[i]), None)
        if diff is None:
            top = [c for k, c in keyed if k == k1]
            m.winner = None
            m.basis = "ambiguous"
            m.ranked = [(c, 0.4) for c in top]
            return
        if diff == 0:
            conf, basis = 0.9, "context"
        elif diff == 1:
            conf, basis = (0.75 if k1[1] == 2 else 0.7), "reporter"
        elif diff == 2:
            conf, basis = 0.8, "name_kind"
        else:
            conf, basis = 0.6, "level"
        if m.chained:
            conf = max(conf, 0.9)
        rest = max(0.05, round(min(0.4, 1.0 - conf), 2))
        m.winner, m.conf, m.basis = c1, conf, basis
        m.ranked = [(c1, conf)] + [(c, rest) for _, c in keyed[1:]]

    def _grids(
        self,
        resolved: list[_Mention],
        mentions: list[_Mention],
        norm: str,
        rep_village: Division | None,
    ) -> None:
        """第3网格 / 3号网格: the grid of the village named just before, else of the reporter's
        village. Generated grids are found by code, imported ones by name."""
        h = self.hierarchy
        for g in _GRID_RE.finditer(norm):
            n = _cn_number(g.group(2))
            if not n:
                continue
            s, e = g.span()
            if any(m.start < e and s < m.end for m in mentions):
                continue
            prev = next(
                (
                    m
                    for m in resolved
                    if 0 <= s - m.end <= 1 and h.by_code[m.winner].level == "village"
                ),
                None,
            )
            village = h.by_code[prev.winner] if prev else rep_village
            if village is None:
                continue
            grid = self._find_grid(village, n)
            if grid is None:
                continue
            if prev is not None:
                prev.end = e
                prev.cands = {grid.code: "grid"}
                prev.winner = grid.code
                prev.ranked = [(grid.code, prev.conf)]
            else:
                m = _Mention(
                    s, e, {grid.code: "grid"}, winner=grid.code, conf=0.7, basis="reporter"
                )
                m.ranked = [(grid.code, 0.7)]
                mentions.append(m)
        mentions.sort(key=lambda m: m.start)

    def _find_grid(self, village: Division, n: int) -> Division | None:
        h = self.hierarchy
        g = h.by_code.get(f"{village.code}{n:03d}")
        if g is not None and g.level == "grid" and g.parent_code == village.code:
            return g
        want = (f"第{n}网格", f"{n}网格", f"{n}号网格")
        for g in h.grids_of(village.code):
            if g.name.endswith(want):
                return g
        return None

    def _fold(self, resolved: list[_Mention]) -> list[_Mention]:
        """One mention per place; drop ancestors of other mentions and a lone-city backdrop."""
        h = self.hierarchy
        seen: set[str] = set()
        uniq: list[_Mention] = []
        for m in sorted(resolved, key=lambda m: m.start):
            if m.winner in seen:
                continue
            seen.add(m.winner)
            uniq.append(m)
        codes = [m.winner for m in uniq]
        out = []
        for m in uniq:
            if any(c != m.winner and h.is_within(c, m.winner) for c in codes):
                continue
            out.append(m)
        return out

    # ---- convenience --------------------------------------------------------------------

    def scope(self, resolution: PlaceResolution, *, zones: bool = False) -> Division | None:
        """The lowest node containing every mentioned place (None when nothing was found)."""
        codes = [m.code for m in resolution.mentions]
        return self.hierarchy.lca(codes, zones=zones) if codes else None
