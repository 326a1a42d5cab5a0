"""The responsibility catalogue (权责清单): event types with board, department, tier, deadlines."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, Field

from copilot.vocabulary import Board, Tier, TownBoard, Urgency


class LegalBasis(BaseModel):
    doc_title: str
    article: str


class LocalLegalBasis(LegalBasis):
    """An article of a county's own regulation, cited only for events inside ``applies_in``.

    Autonomous counties (酉阳, 彭水, 石柱…) have regulations of their own that govern the same
    matters as the citywide texts there, often with the exact prohibition and penalty; they
    come first in that county and never elsewhere (``local_legal_basis.json``).
    """

    applies_in: list[str] = Field(description="Division codes (district or town) it covers.")


class Escalation(BaseModel):
    after_hours_overdue: int
    to_tier: Tier


class EventType(BaseModel):
    id: str
    name: str
    board: Board
    town_board: TownBoard
    keywords: list[str]
    examples: list[str] = Field(min_length=1)
    extra_examples: list[str] = Field(
        default_factory=list,
        description="More example reports in other styles (catalogue/extra_examples/*.json).",
    )
    department: str = Field(description="The line department or regulator (never a utility).")
    default_tier: Tier
    tier_reason: str = Field(default="", description="Why this tier owns first response.")
    cooperating: list[str] = Field(
        default_factory=list, description="Units that usually cooperate (utilities, others)."
    )
    hotline_class: str | None = Field(
        default=None, description="12345 first-level class (data/complaints/taxonomy.csv)."
    )
    needs_enforcement: bool = False
    emergency: bool = False
    pressing_by_nature: bool = Field(
        default=False,
        description="A complaint of this type describes an active nuisance or hazard (较急).",
    )
    deadline_hours: dict[Urgency, int]
    escalation: Escalation
    urgent_keywords: list[str] = Field(default_factory=list)
    legal_basis: list[LegalBasis] = Field(default_factory=list)
    local_legal_basis: list[LocalLegalBasis] = Field(
        default_factory=list,
        description="County regulations for the type (catalogue/local_legal_basis.json).",
    )

    def legal_basis_at(self, division_codes: set[str]) -> list[LegalBasis]:
        """The articles for an event placed under ``division_codes`` (the place's path):
        the local regulation's first where one applies, then the citywide ones."""
        local = [
            LegalBasis(doc_title=b.doc_title, article=b.article)
            for b in self.local_legal_basis
            if division_codes & set(b.applies_in)
        ]
        return [*local, *self.legal_basis]


class Catalogue:
    """All event types, by id; loaded once per process from ``data/catalogue``."""

    def __init__(self, types: list[EventType]) -> None:
        self.types = types
        self.by_id = {t.id: t for t in types}
        if len(self.by_id) != len(types):
            raise ValueError("duplicate event type ids in the catalogue")

    @classmethod
    def load(cls, path: Path) -> Catalogue:
        """The catalogue file, with the extra examples kept beside it, one file per board."""
        raw = json.loads(path.read_text(encoding="utf-8"))
        extra: dict[str, list[str]] = {}
        for file in sorted((path.parent / "extra_examples").glob("*.json")):
            for type_id, texts in json.loads(file.read_text(encoding="utf-8")).items():
                extra.setdefault(type_id, []).extend(texts)
        types = [EventType.model_validate(t) for t in raw]
        unknown = set(extra) - {t.id for t in types}
        if unknown:
            raise ValueError(f"extra examples for unknown event types: {sorted(unknown)}")
        for t in types:
            t.extra_examples = extra.get(t.id, [])
        local = path.parent / "local_legal_basis.json"
        if local.is_file():
            by_id = {t.id: t for t in types}
            for reg in json.loads(local.read_text(encoding="utf-8")):
                for type_id, articles in reg["types"].items():
                    if type_id not in by_id:
                        raise ValueError(f"local legal basis for unknown event type: {type_id}")
                    by_id[type_id].local_legal_basis += [
                        LocalLegalBasis(
                            doc_title=reg["doc_title"], article=a, applies_in=reg["applies_in"]
                        )
                        for a in articles
                    ]
        return cls(types)

    def __len__(self) -> int:
        return len(self.types)
