"""Shapes of answers, citations and streaming events."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

QUOTE_GAP = "……"


class Citation(BaseModel):
    doc_title: str
    article: str | None
    unit: str | None = Field(
        default=None, description="The 款/项 quoted inside the article, e.g. 第一款第二项."
    )
    quote: str = Field(
        description="Verbatim text of the article (checked in code); an item is quoted after "
        "its paragraph's lead-in, the two joined by ……."
    )
    chunk_id: str


def quote_is_verbatim(quote: str, article_text: str) -> bool:
    """Every ……-separated segment of ``quote`` occurs in the text, line breaks aside."""
    flat = "".join(article_text.split())
    segments = ["".join(s.split()) for s in quote.split(QUOTE_GAP)]
    return all(s and s in flat for s in segments)


class Answer(BaseModel):
    """One answer as printed by ``copilot ask --json``."""

    question: str
    answer: str
    refused: bool
    citations: list[Citation] = Field(default_factory=list)
    trace_id: str
    route: Literal["policy", "indicator", "refusal", "invalid"] = "policy"
    backend: str = "none"
    prompt: str | None = None
    flagged: bool = Field(
        default=False, description="Some model citations were removed as invalid."
    )
    fallback_reason: str | None = None
    searched: str | None = Field(default=None, description="What was searched, for refusals.")
    ignored_instructions: list[str] = Field(
        default_factory=list,
        description="Instruction-like spans of the question read as data and not obeyed.",
    )
    seconds: float = 0.0

    def public(self) -> dict[str, Any]:
        """The answer as one record (``copilot ask --json`` and ``--output``): what was
        answered, cited and by which route and backend; not the prompt or the timing."""
        return {
            "answer": self.answer,
            "refused": self.refused,
            "citations": [c.model_dump() for c in self.citations],
            "trace_id": self.trace_id,
            "route": self.route,
            "backend": self.backend,
            "fallback_reason": self.fallback_reason,
            "ignored_instructions": self.ignored_instructions,
        }


class AnswerEvent(BaseModel):
    """Streaming: ``delta`` pieces of the answer text, then one ``final`` with the full answer."""

    type: Literal["delta", "final"]
    text: str = ""
    answer: Answer | None = None


class LLMCitation(BaseModel):
    evidence_id: int = Field(ge=1, le=20)
    quote: str = Field(max_length=300)


class LLMAnswer(BaseModel):
    """The structured reply the answer prompt asks the model for.

    Length bounds are part of the schema so that grammar-constrained decoding always
    closes the JSON within the token budget.
    """

    answer: str = Field(max_length=800)
    refused: bool = False
    citations: list[LLMCitation] = Field(default_factory=list, max_length=5)
