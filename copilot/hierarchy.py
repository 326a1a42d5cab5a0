"""The administrative hierarchy 市 → 区县 → 镇街 → 村社, loaded from the bundled divisions file."""

from __future__ import annotations

import csv
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

Level = Literal["city", "district", "town", "village"]

# Longest first: 土家族苗族自治县 must be stripped before 自治县 and 县.
_SUFFIXES: dict[str, tuple[str, ...]] = {
    "district": ("土家族苗族自治县", "苗族土家族自治县", "土家族自治县", "自治县", "区", "县"),
    "town": ("街道办事处", "街道", "镇", "乡"),
    "village": (
        "社区居民委员会",
        "村民委员会",
        "居民委员会",
        "社区居委会",
        "社区工作站",
        "社区",
        "村",
    ),
}


class Division(BaseModel):
    code: str
    name: str
    level: Level
    parent_code: str | None

    def short_name(self) -> str:
        """沙坪坝区 → 沙坪坝, 酉阳土家族苗族自治县 → 酉阳; the name itself when nothing is left."""
        for suffix in _SUFFIXES.get(self.level, ()):
            if self.name.endswith(suffix) and len(self.name) - len(suffix) >= 2:
                return self.name[: -len(suffix)]
        return self.name


class Hierarchy:
    """All divisions with parent/child links and name lookups."""

    def __init__(self, divisions: list[Division]) -> None:
        self.by_code = {d.code: d for d in divisions}
        self.children: dict[str, list[str]] = {}
        for d in divisions:
            if d.parent_code:
                self.children.setdefault(d.parent_code, []).append(d.code)

    @classmethod
    def from_csv(cls, path: Path) -> Hierarchy:
        with path.open(encoding="utf-8") as fh:
            rows = [
                Division(
                    code=r["code"],
                    name=r["name"],
                    level=r["level"],
                    parent_code=r["parent_code"] or None,
                )
                for r in csv.DictReader(fh)
            ]
        return cls(rows)

    @property
    def city(self) -> Division:
        return next(d for d in self.by_code.values() if d.level == "city")

    def level(self, level: Level) -> list[Division]:
        return [d for d in self.by_code.values() if d.level == level]

    def ancestors(self, code: str) -> list[Division]:
        """From the parent up to the city."""
        out = []
        d = self.by_code.get(code)
        while d is not None and d.parent_code:
            d = self.by_code.get(d.parent_code)
            if d is not None:
                out.append(d)
        return out

    @cached_property
    def _district_names(self) -> list[tuple[str, str]]:
        names = []
        for d in self.level("district"):
            names.append((d.name, d.code))
            if d.short_name() != d.name:
                names.append((d.short_name(), d.code))
        return sorted(names, key=lambda x: -len(x[0]))

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
