"""Query normalisation: colloquial and dialect phrasings mapped to the words statutes use."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path


class QueryRewriter:
    """Replaces phrases longest-first; the original query is kept beside the rewrite."""

    def __init__(self, replacements: Mapping[str, str]):
        self._map = {k: v for k, v in replacements.items() if k}
        keys = sorted(self._map, key=len, reverse=True)
        self._pattern = re.compile("|".join(re.escape(k) for k in keys)) if keys else None

    @classmethod
    def from_tsv(cls, path: Path) -> QueryRewriter:
        """Load ``phrase<TAB>replacement`` lines; ``#`` starts a comment."""
        pairs: dict[str, str] = {}
        for line in path.read_text(encoding="utf-8").splitlines():
            line = line.split("#", 1)[0].rstrip()
            if "\t" in line:
                src, dst = line.split("\t", 1)
                pairs[src.strip()] = dst.strip()
        return cls(pairs)

    def rewrite(self, query: str) -> str:
        """The query in statute vocabulary (unchanged when nothing matches)."""
        query = re.sub(r"\s+", " ", query).strip()
        if self._pattern is None:
            return query
        return self._pattern.sub(lambda m: self._map[m.group(0)], query)
