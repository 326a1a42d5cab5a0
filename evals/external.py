"""A city's own hotline history as a routing set: a CSV of messages with a label column, and a
user-given mapping from each label to the departments that handle it.

``copilot eval routing --dataset letters.csv --text-column body --label-column label
--label-map labels.json`` scores, for every message, whether the routed department is one
the mapping allows for its label (docs/evals.md works through the Teddy Cup letters).
The mapping is JSON (``{"城乡建设": ["城市管理局", "住房城乡建设委"], …}``) or a CSV with the
columns ``label,department`` (one row per pair).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel

MAX_TEXT_CHARS = 4000


class CsvSource(BaseModel):
    """Which columns of the CSV hold what (``id_column`` optional: row numbers otherwise)."""

    text_columns: list[str]
    label_column: str
    label_map: Path
    id_column: str | None = None


def load_label_map(path: Path) -> dict[str, list[str]]:
    """label → departments; ``ValueError`` with the reason for a file that cannot be read."""
    text = path.read_text(encoding="utf-8-sig")
    if path.suffix.lower() == ".json":
        try:
            raw = json.loads(text)
        except ValueError as exc:
            raise ValueError(f"{path}: not JSON ({exc})") from None
        if not isinstance(raw, dict):
            raise ValueError(f"{path}: expected an object label → department(s)")
        return {str(k): [v] if isinstance(v, str) else [str(x) for x in v] for k, v in raw.items()}
    mapping: dict[str, list[str]] = {}
    rows = csv.DictReader(text.splitlines())
    if not rows.fieldnames or not {"label", "department"} <= set(rows.fieldnames):
        raise ValueError(f"{path}: a CSV mapping needs the columns label,department")
    for row in rows:
        mapping.setdefault(row["label"].strip(), []).append(row["department"].strip())
    return mapping


def load_csv_cases(path: Path, source: CsvSource) -> tuple[list[dict[str, Any]], int]:
    """Routing cases from the CSV (``text``, the external ``label`` and its
    ``departments``), and how many rows were left out because the mapping does not know
    their label."""
    mapping = load_label_map(source.label_map)
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        columns = set(reader.fieldnames or [])
        missing = {*source.text_columns, source.label_column} - columns
        if missing:
            raise ValueError(f"{path}: no column(s) {sorted(missing)}; it has {sorted(columns)}")
        cases, unknown = [], 0
        for n, row in enumerate(reader, 1):
            label = (row.get(source.label_column) or "").strip()
            text = "\n".join((row.get(c) or "").strip() for c in source.text_columns).strip()
            if not text:
                continue
            if label not in mapping:
                unknown += 1
                continue
            cases.append(
                {
                    "id": (row.get(source.id_column) if source.id_column else None) or f"row-{n}",
                    "text": text[:MAX_TEXT_CHARS],
                    "label": label,
                    "departments": mapping[label],
                    # The whole mapping: the routed department's label is its prediction.
                    "label_map": mapping,
                }
            )
    if not cases:
        raise ValueError(f"{path}: no row has a label in the mapping ({unknown} unknown labels)")
    return cases, unknown


def label_of(department: str | None, mapping: dict[str, list[str]]) -> str:
    """The external label a routed department falls under (the first that lists it)."""
    for label, departments in mapping.items():
        if department in departments:
            return label
    return "(未映射)"
