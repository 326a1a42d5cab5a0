"""Loading the bundled development sets."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel

DATASETS_DIR = Path(__file__).resolve().parent / "datasets"


class RetrievalCase(BaseModel):
    id: str
    question: str
    doc_title: str
    article: str
    type: str = "direct"


def load_jsonl(path: Path) -> list[dict]:
    rows = []
    with path.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    raise ValueError(f"{path}:{n}: malformed JSON: {exc.msg}") from exc
    return rows


def load_retrieval_cases(path: Path | None = None) -> list[RetrievalCase]:
    return [RetrievalCase(**r) for r in load_jsonl(path or DATASETS_DIR / "retrieval_dev.jsonl")]
