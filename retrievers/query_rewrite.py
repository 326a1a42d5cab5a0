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
        return cls(read_pairs(path))

    def rewrite(self, query: str) -> str:
        """The query in statute vocabulary (unchanged when nothing matches)."""
        query = re.sub(r"\s+", " ", query).strip()
        if self._pattern is None:
            return query
        return self._pattern.sub(lambda m: self._map[m.group(0)], query)


def read_pairs(path: Path) -> dict[str, str]:
    """``key<TAB>value`` lines of a lexicon file; ``#`` starts a comment, blanks are skipped."""
    pairs: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].rstrip()
        if "\t" in line:
            key, value = line.split("\t", 1)
            pairs[key.strip()] = value.strip()
    return pairs
