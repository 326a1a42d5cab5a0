"""Shared fixtures: isolated settings per test, one bundled-corpus index per session."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from copilot.knowledge import build_knowledge_base, ensure_bundled_index
from copilot.settings import Settings
from retrievers.knowledge_base import KnowledgeBase

REPO = Path(__file__).resolve().parent.parent
POLICY = REPO / "data" / "policy"


@pytest.fixture
def make_settings(tmp_path: Path) -> Callable[..., Settings]:
    def make(**overrides) -> Settings:
        overrides.setdefault("home", tmp_path / "home")
        return Settings(**overrides)

    return make


@pytest.fixture
def make_kb(make_settings) -> Callable[..., KnowledgeBase]:
    opened: list[KnowledgeBase] = []

    def make(**overrides) -> KnowledgeBase:
        kb = build_knowledge_base(make_settings(**overrides))
        opened.append(kb)
        return kb

    yield make
    for kb in opened:
        kb.close()


@pytest.fixture(scope="session")
def bundled_settings(tmp_path_factory) -> Settings:
    return Settings(home=tmp_path_factory.mktemp("bundled-home"))


@pytest.fixture(scope="session")
def bundled_kb(bundled_settings: Settings) -> KnowledgeBase:
    """The 108 bundled regulations, indexed once for the whole session."""
    kb = build_knowledge_base(bundled_settings)
    ensure_bundled_index(kb, bundled_settings)
    yield kb
    kb.close()
