"""The answer engine needs only the Retriever protocol, not a KnowledgeBase's insides."""

from __future__ import annotations

from copilot.answers.engine import AnswerEngine
from copilot.hierarchy import DEFAULT_DIVISIONS_CSV, Hierarchy
from copilot.indicators.factory import build_indicator_store
from retrievers.retriever import Retriever

PROTOCOL = (
    "generation",
    "embedder",
    "search",
    "documents",
    "article_text",
    "has_article",
    "rewrite",
    "tokenize",
    "index_token_rows",
)


class ProtocolOnly:
    """Forwards the protocol's members to a knowledge base and nothing else."""

    def __init__(self, kb) -> None:
        self._kb = kb

    def __getattr__(self, name: str):
        if name not in PROTOCOL:
            raise AttributeError(f"{name} is not part of the Retriever protocol")
        return getattr(self._kb, name)


def test_the_knowledge_base_is_a_retriever(bundled_kb):
    assert isinstance(bundled_kb, Retriever)


def test_answers_and_refusals_work_through_the_protocol_alone(bundled_kb, bundled_settings):
    indicators = build_indicator_store(bundled_settings, Hierarchy.from_csv(DEFAULT_DIVISIONS_CSV))
    real = AnswerEngine(bundled_kb, indicators, bundled_settings, None)
    narrow = AnswerEngine(ProtocolOnly(bundled_kb), indicators, bundled_settings, None)
    for question in (
        "燃气公司上门安检不让进屋会被罚款吗",
        "《物业管理条例》第九百条怎么规定的？",
        "2024年重庆市低保标准每月多少钱？",
    ):
        a, b = real.ask(question), narrow.ask(question)
        assert (a.answer, a.refused, [c.chunk_id for c in a.citations]) == (
            b.answer,
            b.refused,
            [c.chunk_id for c in b.citations],
        )
