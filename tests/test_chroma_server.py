"""The vector store in Chroma server mode, against a real ``chroma run`` on localhost."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.file_factory import ARTICLES
from tests.servers import free_port, wait_until_up

pytestmark = pytest.mark.integration


def _chroma_cli() -> str:
    exe = Path(sys.executable).parent / "chroma"
    return str(exe) if exe.exists() else (shutil.which("chroma") or "chroma")


@pytest.fixture
def chroma_server(tmp_path: Path):
    port = free_port()
    log = (tmp_path / "chroma.log").open("w")
    proc = subprocess.Popen(
        [
            _chroma_cli(),
            "run",
            "--path",
            str(tmp_path / "chroma-data"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    wait_until_up(f"http://127.0.0.1:{port}/api/v2/heartbeat", proc, 60, "chroma server")
    yield port
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


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
