"""BM25 keyword index (bm25s) over pre-tokenised chunks, with metadata masks for filters."""

from __future__ import annotations

import json
import shutil
import uuid
from array import array
from pathlib import Path

import bm25s
import numpy as np

from retrievers.models import SearchFilters


class KeywordIndex:
    """BM25 scores for every chunk; ``search`` applies filters as a mask before ranking."""

    def __init__(
        self,
        bm25: bm25s.BM25 | None,
        chunk_ids: list[str],
        fields: dict[str, np.ndarray],
        generation: int,
    ) -> None:
        self._bm25 = bm25
        self.chunk_ids = chunk_ids
        self._fields = fields
        self.generation = generation

    # b=0.5 (instead of 0.75) penalises long articles less: the answer to a question on
    # fines often sits in a long "法律责任" article listing many offences.
    K1 = 1.5
    B = 0.5

    @classmethod
    def build(cls, rows, generation: int) -> KeywordIndex:
        """Build from ``(chunk_id, doc_id, title, chapter, system, tokens)`` rows (any iterable).

        Tokens become integer ids as the rows stream in (4 bytes each in an ``array``):
        lists of token strings for a large table (30 M tokens for a million-row CSV) took
        over a gigabyte before bm25s had counted anything.
        """
        ids: list[str] = []
        cols: dict[str, list] = {"doc_id": [], "doc_title": [], "chapter": [], "system": []}
        vocab: dict[str, int] = {}
        corpus: list[array] = []
        for chunk_id, doc_id, title, chapter, system, tokens in rows:
            ids.append(chunk_id)
            cols["doc_id"].append(doc_id)
            cols["doc_title"].append(title)
            cols["chapter"].append(chapter or "")
            cols["system"].append(system or "")
            # An empty token list breaks bm25s; a placeholder keeps row positions aligned.
            words = tokens.split() or ["\x00"]
            corpus.append(array("i", [vocab.setdefault(w, len(vocab)) for w in words]))
        bm25 = None
        if corpus:
            bm25 = bm25s.BM25(k1=cls.K1, b=cls.B)
            bm25.index((corpus, vocab), show_progress=False)
        fields = {k: np.array(v, dtype=object) for k, v in cols.items()}
        return cls(bm25, ids, fields, generation)

    def __len__(self) -> int:
        return len(self.chunk_ids)

    def mask(self, filters: SearchFilters | None) -> np.ndarray | None:
        if filters is None or filters.is_empty():
            return None
        m = np.ones(len(self.chunk_ids), dtype=bool)
        for name in ("doc_id", "doc_title", "chapter", "system"):
            value = getattr(filters, name)
            if value:
                m &= self._fields[name] == value
        return m

    def search(
        self, tokens: list[str], top_k: int, filters: SearchFilters | None = None
    ) -> list[tuple[str, float]]:
        """``(chunk_id, bm25 score)`` best first; only chunks with a positive score."""
        if self._bm25 is None or not tokens:
            return []
        scores = self._bm25.get_scores(tokens)
        m = self.mask(filters)
        if m is not None:
            scores = np.where(m, scores, 0.0)
        k = min(top_k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(self.chunk_ids[i], float(scores[i])) for i in top if scores[i] > 0]

    # Each save goes to a folder of its own; ``CURRENT`` names the live one and is replaced
    # in one rename, so a kill mid-save leaves the previous index whole (a matrix of one
    # save beside the chunk ids of another would rank the wrong chunks).
    POINTER = "CURRENT"
    KEEP = 2

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        name = f"g{self.generation:012d}-{uuid.uuid4().hex[:8]}"
        target = directory / name
        target.mkdir()
        if self._bm25 is not None:
            self._bm25.save(str(target / "bm25"), show_progress=False)
        fields = {k: v.tolist() for k, v in self._fields.items()}
        payload = {"generation": self.generation, "chunk_ids": self.chunk_ids, "fields": fields}
        (target / "ids.json").write_text(json.dumps(payload, ensure_ascii=False), encoding="utf-8")
        tmp = directory / f"{self.POINTER}.{name}.tmp"
        tmp.write_text(name, encoding="utf-8")
        tmp.replace(directory / self.POINTER)
        # Older saves go, but the one before stays for a reader in another process that
        # is loading it right now.
        saves = sorted((d for d in directory.glob("g*-*") if d.is_dir()), key=lambda d: d.name)
        for old in [d for d in saves if d.name != name][: -(self.KEEP - 1) or None]:
            shutil.rmtree(old, ignore_errors=True)
        for stray in directory.glob(f"{self.POINTER}.*.tmp"):
            stray.unlink(missing_ok=True)

    @classmethod
    def saved_generation(cls, directory: Path) -> int | None:
        """The generation of the saved index, read from its pointer alone (cheap)."""
        try:
            name = (directory / cls.POINTER).read_text(encoding="utf-8").strip()
            return int(name[1:].split("-", 1)[0])
        except (OSError, ValueError):
            return None

    @classmethod
    def load(cls, directory: Path) -> KeywordIndex | None:
        """The saved index, or ``None`` when there is none or it cannot be read."""
        try:
            name = (directory / cls.POINTER).read_text(encoding="utf-8").strip()
        except OSError:
            return None
        folder = directory / name
        meta = folder / "ids.json"
        if not name or not meta.is_file():
            return None
        try:
            payload = json.loads(meta.read_text(encoding="utf-8"))
            ids = payload["chunk_ids"]
            bm25 = None
            if ids:
                bm25 = bm25s.BM25.load(str(folder / "bm25"), show_progress=False)
            fields = {k: np.array(v, dtype=object) for k, v in payload["fields"].items()}
        except (OSError, ValueError, KeyError):
            return None
        return cls(bm25, ids, fields, int(payload["generation"]))
