"""The knowledge base in Chroma server mode, against a real ``chroma run`` on localhost
(the session's ``chroma_server``; the vector-store contract in tests/contracts covers the
store itself)."""

from __future__ import annotations

import pytest

from tests.file_factory import ARTICLES

pytestmark = pytest.mark.integration


def test_server_mode_ingests_searches_and_survives_a_client_restart(
    tmp_path, chroma_server, make_kb
):
    doc = tmp_path / "办法.md"
    doc.write_text("# 社区网格管理办法\n\n" + "\n".join(ARTICLES), encoding="utf-8")
    kb = make_kb(vector_store="chroma-http", chroma_port=chroma_server)
    report = kb.ingest([doc])
    assert len(report.added) == 1
    assert kb.search("网格员发现占道经营怎么办", 1, "dense")[0].article == "第二条"
    for channel in kb.dense:
        assert channel.store.count() == 3
    kb.close()

    # A second client process (here: a new KnowledgeBase) sees the same vectors.
    again = make_kb(vector_store="chroma-http", chroma_port=chroma_server)
    assert again.search("乱倒建筑垃圾罚多少", 1, "dense")[0].article == "第三条"
    # Vectors live on the server only; nothing was written to a local Chroma folder.
    assert not (again.index_dir / "chroma").exists()
