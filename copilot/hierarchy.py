"""The administrative hierarchy 市 → 区县 → 镇街 → 村社 → 网格, plus the three functional zones.

Loaded from the bundled divisions file (1 city, 38 districts/counties, 1,031 towns/streets,
11,234 villages/communities). Two things are not in that file and are added here:

* **Functional zones** (两江新区, 重庆高新区, 万盛经开区): nodes of level ``"zone"`` under the
  city, tier 区县, with a ``covers`` tuple of the town codes they administer. The towns keep
  their administrative parent (their district); a zone is a second, functional roof over them.
  See :data:`FUNCTIONAL_ZONES` for the seed mapping and why it is only a seed.
* **Grids** (网格): no public source lists them, so by default they are generated
  deterministically for every village/community (see :func:`grid_count` and
  :meth:`Hierarchy.generate_grids`), and a real grid file can replace them village by village
  (:meth:`Hierarchy.import_grids`).

Queries are index-backed: ancestors walk at most four parent links; descendants use a
pre-order (Euler tour) index built lazily after each change, so ``descendants(code, level)``
is two binary searches plus a slice; ``lca`` compares root paths.
"""

from __future__ import annotations

import csv
import io
import logging
import zlib
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, Field

from copilot.vocabulary import LEVEL_TIER, LEVELS, Level, Tier

log = logging.getLogger(__name__)

#: Depth of each level below the city (the height of its tier counted from the top; see
#: copilot.vocabulary, whose order tests/test_vocabulary.py checks against this).
DEPTH: dict[str, int] = {"city": 0, "district": 1, "zone": 1, "town": 2, "village": 3, "grid": 4}

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DIVISIONS_CSV = REPO_ROOT / "data" / "divisions" / "chongqing_divisions.csv"

#: Default grids per village: a stable per-village count in 3..8 (mean 5.5, about 61,800 grids
#: for the 11,234 villages, the "60,000+" of the design brief). An int gives a fixed count.
DEFAULT_GRIDS_PER_VILLAGE: tuple[int, int] = (3, 8)
GridSpec = int | tuple[int, int] | None


# Longest first: 土家族苗族自治县 must be stripped before 自治县 and 县.
_SUFFIXES: dict[str, tuple[str, ...]] = {
    "district": ("土家族苗族自治县", "苗族土家族自治县", "土家族自治县", "自治县", "区", "县"),
    "town": (
        "街道办事处",
        "街道",
        "苗族土家族乡",
        "苗族仡佬族乡",
        "土家族乡",
        "镇",
        "乡",
    ),
}

# Village committee suffixes → the word that names the place itself (社区 or 村).
# Checked in order, so 社区居民委员会 wins over 居民委员会.
_VILLAGE_SUFFIXES: tuple[tuple[str, str], ...] = (
    ("社区居民委员会", "社区"),
    ("社区居民委会", "社区"),
    ("社区居委会", "社区"),
    ("社区工作站", "社区"),
    ("村民委员会", "村"),
    ("村民委会", "村"),
    ("村委会", "村"),
    ("居民委员会", "社区"),
    ("居民委会", "社区"),
    ("居委会", "社区"),
)


def village_short_name(name: str) -> str:
    """较场口社区居民委员会 → 较场口社区, 人民村村民委员会 → 人民村, 悦来村民委员会 → 悦来村.

    The committee suffix goes; the place word (社区/村) stays, and is added back when the
    committee suffix carried it (鱼田堡居委会 → 鱼田堡社区). Names without a committee suffix
    (中坝社区) are returned as they are.
    """
    for suffix, word in _VILLAGE_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            stem = name[: -len(suffix)]
            return stem if stem.endswith(("村", "社区")) else stem + word
    return name


def village_bare_name(name: str) -> str:
    """The place name without 社区/村: 较场口社区居民委员会 → 较场口 (the name itself if <2 left)."""
    short = village_short_name(name)
    for word in ("社区", "村"):
        if short.endswith(word) and len(short) - len(word) >= 2:
            return short[: -len(word)]
    return short


@dataclass(slots=True, frozen=True)
class Division:
    """One node. Slots + frozen: ~75k of them (with grids) stay around 20 MB."""

    code: str
    name: str
    level: Level
    parent_code: str | None = None
    #: Zones only: the town codes the zone administers.
    covers: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.level not in DEPTH:
            raise ValueError(f"unknown level {self.level!r} for {self.code} {self.name}")

    @property
    def tier(self) -> Tier:
        return LEVEL_TIER[self.level]

    @property
    def depth(self) -> int:
        return DEPTH[self.level]

    def short_name(self) -> str:
        """沙坪坝区 → 沙坪坝, 酉阳土家族苗族自治县 → 酉阳, 两路街道 → 两路,
        较场口社区居民委员会 → 较场口社区; the name itself when nothing sensible is left."""
        if self.level == "village":
            return village_short_name(self.name)
        for suffix in _SUFFIXES.get(self.level, ()):
            if self.name.endswith(suffix) and len(self.name) - len(suffix) >= 2:
                return self.name[: -len(suffix)]
        return self.name

    def bare_name(self) -> str:
        """Shortest usable form: a village without 社区/村 (较场口), else :meth:`short_name`."""
        if self.level == "village":
            return village_bare_name(self.name)
        return self.short_name()

    def model_dump(self, **_: object) -> dict[str, object]:
        """Dict form (kept from when Division was a pydantic model)."""
        out: dict[str, object] = {
            "code": self.code,
            "name": self.name,
            "level": self.level,
            "parent_code": self.parent_code,
        }
        if self.covers:
            out["covers"] = list(self.covers)
        return out


# --------------------------------------------------------------------------------------
# Functional zones
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ZoneSeed:
    code: str
    name: str
    #: (district name, town name) pairs, resolved against the loaded divisions.
    covers: tuple[tuple[str, str], ...]


#: Seed mapping of the functional zones to the towns/streets they administer.
#:
#: This is a **seed**, not an authoritative list: the zones' boundaries are set by city
#: decisions that change (towns are handed over or back), and no machine-readable public
#: source lists them. It records the commonly published 直管 (directly administered) units:
#:
#: * 两江新区 直管区: the streets of 渝北区 handed to it (人和, 礼嘉, 大竹林, 金山, 康美, 鸳鸯,
#:   天宫殿, 翠云, 悦来) and 龙兴镇, plus 江北区 鱼嘴镇, 复盛镇, 郭家沱街道. Its wider
#:   planning area (parts of 北碚区, other 渝北/江北 units) is left out: those stay with
#:   their districts.
#: * 重庆高新区 直管园: the nine towns/streets of 沙坪坝区 (西永, 虎溪, 香炉山, 曾家) and
#:   九龙坡区 (含谷, 金凤, 白市驿, 巴福, 石板) that it administers.
#: * 万盛经开区: the ten towns/streets of the former 万盛区, which the statistical codes now
#:   list under 綦江区 (500110004/005, 500110100–107).
#:
#: Codes 5090xx are synthetic (not NBS codes; 5090 is no county prefix), stable, and sit under
#: the city. Replace or extend the seed with :meth:`Hierarchy.add_zones`.
FUNCTIONAL_ZONES: tuple[ZoneSeed, ...] = (
    ZoneSeed(
        "509001",
        "两江新区",
        (
            ("渝北区", "人和街道"),
            ("渝北区", "礼嘉街道"),
            ("渝北区", "大竹林街道"),
            ("渝北区", "金山街道"),
            ("渝北区", "康美街道"),
            ("渝北区", "鸳鸯街道"),
            ("渝北区", "天宫殿街道"),
            ("渝北区", "翠云街道"),
            ("渝北区", "悦来街道"),
            ("渝北区", "龙兴镇"),
            ("江北区", "鱼嘴镇"),
            ("江北区", "复盛镇"),
            ("江北区", "郭家沱街道"),
        ),
    ),
    ZoneSeed(
        "509002",
        "重庆高新区",
        (
            ("沙坪坝区", "西永街道"),
            ("沙坪坝区", "虎溪街道"),
            ("沙坪坝区", "香炉山街道"),
            ("沙坪坝区", "曾家镇"),
            ("九龙坡区", "含谷镇"),
            ("九龙坡区", "金凤镇"),
            ("九龙坡区", "白市驿镇"),
            ("九龙坡区", "巴福镇"),
            ("九龙坡区", "石板镇"),
        ),
    ),
    ZoneSeed(
        "509003",
        "万盛经开区",
        (
            ("綦江区", "万盛街道"),
            ("綦江区", "东林街道"),
            ("綦江区", "万东镇"),
            ("綦江区", "南桐镇"),
            ("綦江区", "青年镇"),
            ("綦江区", "关坝镇"),
            ("綦江区", "丛林镇"),
            ("綦江区", "石林镇"),
            ("綦江区", "金桥镇"),
            ("綦江区", "黑山镇"),
        ),
    ),
)


# --------------------------------------------------------------------------------------
# Grids
# --------------------------------------------------------------------------------------


def grid_count(village_code: str, spec: GridSpec = DEFAULT_GRIDS_PER_VILLAGE) -> int:
    """How many grids a village gets: ``spec`` if an int, else ``lo + crc32(code) % (hi-lo+1)``.

    CRC-32 of the village code is stable across runs, machines and Python versions (unlike
    ``hash()``), so the same village always gets the same number of grids.
    """
    if spec is None:
        return 0
    if isinstance(spec, int):
        n = spec
    else:
        lo, hi = spec
        if lo > hi:
            raise ValueError(f"grid range {spec} has lo > hi")
        n = lo + zlib.crc32(village_code.encode("ascii", "replace")) % (hi - lo + 1)
    if not 0 <= n <= 999:
        raise ValueError(f"grid count {n} out of range 0..999 (three-digit sequence)")
    return n


def grid_code(village_code: str, seq: int) -> str:
    """500103003021 + 3 → 500103003021003."""
    return f"{village_code}{seq:03d}"


def grid_name(village: Division, seq: int) -> str:
    """较场口社区第3网格."""
    return f"{village.short_name()}第{seq}网格"


class GridImportError(BaseModel):
    line: int = Field(description="line number in the file (header is line 1)")
    grid_code: str
    village_code: str
    reason: str


class GridImportReport(BaseModel):
    rows: int = 0
    imported: int = 0
    villages: list[str] = Field(
        default_factory=list, description="villages whose grids were replaced"
    )
    removed: int = Field(0, description="grids (generated or earlier imports) replaced")
    errors: list[GridImportError] = Field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


_GRID_COLUMNS = ("grid_code", "grid_name", "village_code")


def _read_text(path: Path) -> str:
    """UTF-8 (with or without BOM), falling back to GB18030 for Excel exports."""
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("gb18030")


# --------------------------------------------------------------------------------------
# Hierarchy
# --------------------------------------------------------------------------------------


class Hierarchy:
    """All divisions with parent/child links, name lookups and index-backed tree queries.

    ``by_code`` (code → Division) and ``children`` (code → child codes, in load order) are
    plain dicts and part of the public API; change the tree only through the methods here
    so the query index is rebuilt.
    """

    def __init__(self, divisions: Iterable[Division]) -> None:
        self.by_code: dict[str, Division] = {}
        self.children: dict[str, list[str]] = {}
        self._imported_villages: set[str] = set()
        self.zone_warnings: list[str] = []
        for d in divisions:
            if d.code in self.by_code:
                raise ValueError(f"duplicate division code {d.code}")
            self.by_code[d.code] = d
        for d in self.by_code.values():
            if d.parent_code:
                self.children.setdefault(d.parent_code, []).append(d.code)
        self._invalidate()

    # ---- loading ------------------------------------------------------------------------

    @classmethod
    def from_csv(
        cls,
        path: Path | str = DEFAULT_DIVISIONS_CSV,
        *,
        grids_per_village: GridSpec = DEFAULT_GRIDS_PER_VILLAGE,
        zones: Sequence[ZoneSeed] | None = FUNCTIONAL_ZONES,
    ) -> Hierarchy:
        """Load ``code,name,level,parent_code`` rows, add the zones and generate grids.

        ``grids_per_village``: ``(lo, hi)`` for a stable per-village count (default 3..8),
        an int for a fixed count, ``None``/``0`` for no grids. ``zones=None`` skips zones.
        """
        path = Path(path)
        rows: list[Division] = []
        reader = csv.DictReader(io.StringIO(_read_text(path)))
        for line, r in enumerate(reader, start=2):
            level = (r.get("level") or "").strip()
            if level not in DEPTH:
                raise ValueError(f"{path.name}:{line}: unknown level {level!r}")
            rows.append(
                Division(
                    code=r["code"].strip(),
                    name=r["name"].strip(),
                    level=level,  # type: ignore[arg-type]
                    parent_code=(r.get("parent_code") or "").strip() or None,
                )
            )
        h = cls(rows)
        if zones:
            h.add_zones(zones)
        if grids_per_village:
            h.generate_grids(grids_per_village)
        return h

    @classmethod
    def bundled(cls, **kwargs: object) -> Hierarchy:
        """The bundled Chongqing divisions (same keyword arguments as :meth:`from_csv`)."""
        return cls.from_csv(DEFAULT_DIVISIONS_CSV, **kwargs)  # type: ignore[arg-type]

    def add_zones(self, seeds: Sequence[ZoneSeed] = FUNCTIONAL_ZONES) -> list[Division]:
        """Add (or replace) functional zones under the city. Unknown towns are skipped and
        recorded in ``zone_warnings`` (and logged), never fatal."""
        city = self.city
        by_district_name = {d.name: d.code for d in self.level("district")}
        added: list[Division] = []
        for seed in seeds:
            covers: list[str] = []
            for district_name, town_name in seed.covers:
                dcode = by_district_name.get(district_name)
                match = [
                    c
                    for c in self.children.get(dcode or "", [])
                    if self.by_code[c].level == "town" and self.by_code[c].name == town_name
                ]
                if len(match) != 1:
                    msg = f"{seed.name}: {district_name}{town_name} not found in divisions"
                    self.zone_warnings.append(msg)
                    log.warning(msg)
                    continue
                covers.append(match[0])
            zone = Division(seed.code, seed.name, "zone", city.code, tuple(covers))
            if seed.code in self.by_code:
                self._remove(seed.code)
            self._add(zone)
            added.append(zone)
        self._invalidate()
        return added

    def generate_grids(self, per_village: GridSpec = DEFAULT_GRIDS_PER_VILLAGE) -> int:
        """Generate grids for every village that has none yet; returns how many were made.

        Code = village code + 3-digit sequence from 001; name = 较场口社区第3网格.
        """
        if not per_village:
            return 0
        by_code, children = self.by_code, self.children
        made = 0
        villages = [d for d in by_code.values() if d.level == "village"]
        for v in villages:
            if any(by_code[c].level == "grid" for c in children.get(v.code, ())):
                continue
            n = grid_count(v.code, per_village)
            if not n:
                continue
            short = v.short_name()
            vcode = v.code
            kids = children.setdefault(vcode, [])
            for seq in range(1, n + 1):
                code = f"{vcode}{seq:03d}"
                if code in by_code:
                    raise ValueError(f"generated grid code {code} collides with an existing node")
                by_code[code] = Division(code, f"{short}第{seq}网格", "grid", vcode)
                kids.append(code)
            made += n
        self._invalidate()
        return made

    def import_grids(self, csv_path: Path | str) -> GridImportReport:
        """Replace the grids of the villages listed in a ``grid_code,grid_name,village_code``
        file. Bad rows (missing field, unknown village, duplicate code, code already used by
        another node) are reported in the result, not raised; villages with no good row keep
        their grids. A file without the three columns raises ValueError."""
        path = Path(csv_path)
        reader = csv.DictReader(io.StringIO(_read_text(path)))
        header = [h.strip() for h in (reader.fieldnames or [])]
        missing = [c for c in _GRID_COLUMNS if c not in header]
        if missing:
            raise ValueError(f"{path.name}: missing column(s) {missing}; need {_GRID_COLUMNS}")
        reader.fieldnames = header
        report = GridImportReport()
        seen: dict[str, int] = {}
        rows: list[tuple[int, str, str, str]] = []
        for line, r in enumerate(reader, start=2):
            report.rows += 1
            code = (r.get("grid_code") or "").strip()
            name = (r.get("grid_name") or "").strip()
            vcode = (r.get("village_code") or "").strip()

            def err(reason: str, line: int = line, code: str = code, vcode: str = vcode) -> None:
                report.errors.append(
                    GridImportError(line=line, grid_code=code, village_code=vcode, reason=reason)
                )

            village = self.by_code.get(vcode)
            if not code or not name or not vcode:
                err("missing field 缺少字段")
            elif village is None or village.level != "village":
                err(f"unknown village 未知村社 {vcode}")
            elif code in seen:
                err(f"duplicate grid_code 重复编码 (first on line {seen[code]})")
            else:
                seen[code] = line
                rows.append((line, code, name, vcode))
        # A code may reuse a grid code of a village being replaced, not of any other node.
        # Iterate: dropping a row can take its village out of the replaced set.
        while True:
            targets = {v for _, _, _, v in rows}
            keep: list[tuple[int, str, str, str]] = []
            for line, code, name, vcode in rows:
                existing = self.by_code.get(code)
                if existing is not None and not (
                    existing.level == "grid" and existing.parent_code in targets
                ):
                    report.errors.append(
                        GridImportError(
                            line=line,
                            grid_code=code,
                            village_code=vcode,
                            reason=f"code already used 编码已被占用 by {existing.level} {existing.name}",
                        )
                    )
                else:
                    keep.append((line, code, name, vcode))
            if len(keep) == len(rows):
                break
            rows = keep
        targets_ordered = list(dict.fromkeys(v for _, _, _, v in rows))
        for vcode in targets_ordered:
            for c in list(self.children.get(vcode, ())):
                if self.by_code[c].level == "grid":
                    self._remove(c)
                    report.removed += 1
        for _, code, name, vcode in rows:
            self._add(Division(code, name, "grid", vcode))
        self._imported_villages.update(targets_ordered)
        report.imported = len(rows)
        report.villages = targets_ordered
        report.errors.sort(key=lambda e: e.line)
        for e in report.errors:
            log.warning("grid import %s:%d: %s", path.name, e.line, e.reason)
        self._invalidate()
        return report

    def export_grids(self, csv_path: Path | str) -> int:
        """Write every grid as ``grid_code,grid_name,village_code`` (the import format)."""
        grids = self.level("grid")
        with Path(csv_path).open("w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(_GRID_COLUMNS)
            for g in grids:
                w.writerow((g.code, g.name, g.parent_code))
        return len(grids)

    @property
    def imported_villages(self) -> frozenset[str]:
        """Villages whose grids come from an imported file rather than generation."""
        return frozenset(self._imported_villages)

    # ---- mutation helpers ---------------------------------------------------------------

    def _add(self, d: Division) -> None:
        if d.code in self.by_code:
            raise ValueError(f"duplicate division code {d.code}")
        self.by_code[d.code] = d
        if d.parent_code:
            self.children.setdefault(d.parent_code, []).append(d.code)

    def _remove(self, code: str) -> None:
        """Remove a node and its subtree."""
        d = self.by_code.pop(code)
        for c in self.children.pop(code, []):
            if c in self.by_code:
                self._remove(c)
        if d.parent_code and d.parent_code in self.children:
            sibs = self.children[d.parent_code]
            sibs.remove(code)

    def _invalidate(self) -> None:
        self._order: list[Division] | None = None
        self._tin: dict[str, int] = {}
        self._tout: dict[str, int] = {}
        self._level_tins: dict[str, list[int]] = {}
        self._level_nodes: dict[str, list[Division]] = {}
        self._city: Division | None = None
        self._zones_of_town: dict[str, list[str]] | None = None
        self._district_names_cache: list[tuple[str, str]] | None = None

    def _ensure_index(self) -> list[Division]:
        """Pre-order (Euler tour) numbering: node X's subtree is order[tin[X]:tout[X]]."""
        if self._order is not None:
            return self._order
        by_code, children = self.by_code, self.children
        order: list[Division] = []
        tin: dict[str, int] = {}
        tout: dict[str, int] = {}
        roots = [
            d.code for d in by_code.values() if not d.parent_code or d.parent_code not in by_code
        ]
        for root in roots:
            tin[root] = 0 + len(order)
            order.append(by_code[root])
            stack = [(root, iter(children.get(root, ())))]
            while stack:
                code, it = stack[-1]
                nxt = next(it, None)
                if nxt is None:
                    tout[code] = len(order)
                    stack.pop()
                elif nxt in by_code and nxt not in tin:
                    tin[nxt] = len(order)
                    order.append(by_code[nxt])
                    stack.append((nxt, iter(children.get(nxt, ()))))
        level_tins: dict[str, list[int]] = {lv: [] for lv in LEVELS}
        level_nodes: dict[str, list[Division]] = {lv: [] for lv in LEVELS}
        for i, d in enumerate(order):
            level_tins[d.level].append(i)
            level_nodes[d.level].append(d)
        self._tin, self._tout = tin, tout
        self._level_tins, self._level_nodes = level_tins, level_nodes
        self._order = order
        return order

    # ---- basic lookups ------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.by_code)

    def __contains__(self, code: object) -> bool:
        return code in self.by_code

    def get(self, code: str | None) -> Division | None:
        return self.by_code.get(code) if code else None

    @property
    def city(self) -> Division:
        if self._city is None:
            self._city = next(d for d in self.by_code.values() if d.level == "city")
        return self._city

    def level(self, level: Level) -> list[Division]:
        """All nodes of a level, in tree (pre-)order."""
        self._ensure_index()
        return list(self._level_nodes.get(level, ()))

    def counts(self) -> dict[str, int]:
        self._ensure_index()
        return {lv: len(self._level_nodes[lv]) for lv in LEVELS}

    def grids_of(self, village_code: str) -> list[Division]:
        return [
            self.by_code[c]
            for c in self.children.get(village_code, ())
            if self.by_code[c].level == "grid"
        ]

    # ---- tree queries -------------------------------------------------------------------

    def ancestors(self, code: str) -> list[Division]:
        """From the parent up to the city ([] for the city or an unknown code)."""
        out = []
        by_code = self.by_code
        d = by_code.get(code)
        while d is not None and d.parent_code:
            d = by_code.get(d.parent_code)
            if d is not None:
                out.append(d)
        return out

    def path(self, code: str) -> list[Division]:
        """City first, the node last ([] for an unknown code)."""
        d = self.by_code.get(code)
        if d is None:
            return []
        out = self.ancestors(code)
        out.reverse()
        out.append(d)
        return out

    def ancestor_at(self, code: str, level: Level) -> Division | None:
        """The node's ancestor (or itself) at ``level``: ancestor_at(grid, "district")."""
        d = self.by_code.get(code)
        while d is not None:
            if d.level == level:
                return d
            d = self.by_code.get(d.parent_code) if d.parent_code else None
        return None

    def district_of(self, code: str) -> Division | None:
        return self.ancestor_at(code, "district")

    def town_of(self, code: str) -> Division | None:
        return self.ancestor_at(code, "town")

    def village_of(self, code: str) -> Division | None:
        return self.ancestor_at(code, "village")

    def descendants(self, code: str, level: Level | None = None) -> list[Division]:
        """Every node below ``code`` (pre-order), or only those of ``level``.

        For a zone: the covered towns and everything below them. [] for an unknown code.
        """
        d = self.by_code.get(code)
        if d is None:
            return []
        if d.level == "zone":
            out: list[Division] = []
            for t in d.covers:
                town = self.by_code.get(t)
                if town is None:
                    continue
                if level is None or level == "town":
                    out.append(town)
                out.extend(self.descendants(t, level))
            return out
        order = self._ensure_index()
        lo, hi = self._tin[code] + 1, self._tout[code]
        if level is None:
            return order[lo:hi]
        tins = self._level_tins.get(level)
        if not tins:
            return []
        i, j = bisect_left(tins, lo), bisect_left(tins, hi)
        return self._level_nodes[level][i:j]

    def count_descendants(self, code: str, level: Level | None = None) -> int:
        d = self.by_code.get(code)
        if d is None:
            return 0
        if d.level == "zone":
            return len(self.descendants(code, level))
        self._ensure_index()
        lo, hi = self._tin[code] + 1, self._tout[code]
        if level is None:
            return hi - lo
        tins = self._level_tins.get(level, [])
        return bisect_left(tins, hi) - bisect_left(tins, lo)

    def is_within(self, code: str, container: str) -> bool:
        """True when ``code`` is ``container`` or below it; a zone contains its covered towns
        and their subtrees."""
        if code == container:
            return code in self.by_code
        c = self.by_code.get(container)
        if c is None or code not in self.by_code:
            return False
        if c.level == "zone":
            town = self.town_of(code)
            return town is not None and town.code in c.covers
        self._ensure_index()
        t = self._tin.get(code)
        return t is not None and self._tin[container] < t < self._tout[container]

    def zones_of(self, code: str) -> list[Division]:
        """Functional zones administering the node's town ([] when none)."""
        if self._zones_of_town is None:
            m: dict[str, list[str]] = {}
            for z in self.level("zone"):
                for t in z.covers:
                    m.setdefault(t, []).append(z.code)
            self._zones_of_town = m
        d = self.by_code.get(code)
        if d is None:
            return []
        if d.level == "zone":
            return [d]
        town = self.town_of(code)
        if town is None:
            return []
        return [self.by_code[z] for z in self._zones_of_town.get(town.code, [])]

    def lca(self, codes: Iterable[str], *, zones: bool = False) -> Division:
        """Lowest common ancestor (a node counts as its own ancestor).

        Two towns of one district → the district; two districts → the city. With
        ``zones=True``, when the tree answer is the city but every node lies inside one
        functional zone, that zone is returned (礼嘉街道 + 鱼嘴镇 → 两江新区). A zone among
        the codes is treated as its covered area. KeyError for an unknown code, ValueError
        for no codes.
        """
        codes = list(dict.fromkeys(codes))
        if not codes:
            raise ValueError("lca of no codes")
        for c in codes:
            if c not in self.by_code:
                raise KeyError(c)
        paths = [[d.code for d in self.path(c)] for c in codes]
        common = paths[0]
        for p in paths[1:]:
            n = 0
            for a, b in zip(common, p, strict=False):
                if a != b:
                    break
                n += 1
            common = common[:n]
        if not common:
            raise ValueError(f"codes {codes} share no root")
        result = self.by_code[common[-1]]
        if zones and result.level == "city":
            candidate_zones: set[str] | None = None
            for c in codes:
                zs = {z.code for z in self.zones_of(c)}
                candidate_zones = zs if candidate_zones is None else candidate_zones & zs
            if candidate_zones:
                return self.by_code[sorted(candidate_zones)[0]]
        return result

    # ---- names --------------------------------------------------------------------------

    @property
    def _district_names(self) -> list[tuple[str, str]]:
        if self._district_names_cache is None:
            names = []
            for d in self.level("district"):
                names.append((d.name, d.code))
                if d.short_name() != d.name:
                    names.append((d.short_name(), d.code))
            self._district_names_cache = sorted(names, key=lambda x: -len(x[0]))
        return self._district_names_cache

    def find_districts(self, text: str) -> list[Division]:
        """Districts named in ``text`` (full or short name), in order of first mention."""
        found: dict[str, int] = {}
        masked = text
        for name, code in self._district_names:
            pos = masked.find(name)
            if pos >= 0 and code not in found:
                found[code] = pos
                # Mask the match so 江北 inside 江北区 is not found again as another name.
                masked = masked.replace(name, "＿" * len(name))
        return [self.by_code[c] for c, _ in sorted(found.items(), key=lambda x: x[1])]

    def display_name(self, code: str) -> str:
        """渝北区两路街道 / 渝中区解放碑街道较场口社区: the path without the city, short village
        and grid names; a zone by its name."""
        parts = [d for d in self.path(code) if d.level != "city"]
        names = [d.short_name() if d.level == "village" else d.name for d in parts]
        if len(parts) >= 2 and parts[-1].level == "grid" and names[-1].startswith(names[-2]):
            del names[-2]  # 较场口社区 + 较场口社区第3网格 → 较场口社区第3网格
        return "".join(names)
