"""Loading the bundled development sets, and writing a run's report."""

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


def load_cases(path: Path, required: set[str]) -> list[dict]:
    """A suite's JSONL cases; ``ValueError`` naming the line of a case without ``required``."""
    cases = load_jsonl(path)
    for n, case in enumerate(cases, 1):
        if not required <= case.keys():
            raise ValueError(f"{path}:{n}: needs {', '.join(sorted(required))}")
    return cases


def load_retrieval_cases(path: Path | None = None) -> list[RetrievalCase]:
    return [RetrievalCase(**r) for r in load_jsonl(path or DATASETS_DIR / "retrieval_dev.jsonl")]


def print_report(report: dict, out: Path | None = None) -> None:
    """Print a report without its failures; with ``out``, write all of it as JSON."""
    summary = {k: v for k, v in report.items() if k != "failures"}
    print(json.dumps(summary, ensure_ascii=False, indent=1))
    if out is not None:
        out.write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
