"""Every example in the README's "Using it" block runs as pasted, and cites what it says.

A line annotated ``# → 《标题》第X条`` must quote that article first; ``# → 指标`` must
be answered by the indicator tool. Each line runs in a shell, in one scratch folder, in
order (later lines may use files earlier ones wrote), in a fresh home.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
_EXPECT = re.compile(r"→\s*(?:《([^》]+)》(第[^\s，,；;]+条)|(指标))")


def _examples() -> list[str]:
    text = README.read_text(encoding="utf-8")
    section = text.split("## Using it", 1)[1]
    block = section.split("```bash", 1)[1].split("```", 1)[0]
    return [ln.strip() for ln in block.splitlines() if ln.strip() and not ln.startswith("#")]


EXAMPLES = _examples()


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    # A fresh home, as after the README's first command: the first example builds the
    # index, and the ingest/remove examples touch no other test's index.
    env = dict(os.environ)
    env["COPILOT_HOME"] = str(tmp_path_factory.mktemp("readme-home"))
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return tmp_path_factory.mktemp("readme"), env


def test_the_readme_has_annotated_examples():
    annotated = [ln for ln in EXAMPLES if _EXPECT.search(ln)]
    assert len(annotated) >= 4, "annotate the ask examples with → 《标题》第X条"


@pytest.mark.slow
@pytest.mark.parametrize("line", EXAMPLES, ids=[f"line{i}" for i in range(len(EXAMPLES))])
def test_readme_example_runs_and_cites_what_it_says(scratch, line):
    cwd, env = scratch
    command = line.split("  #", 1)[0].strip()
    expect = _EXPECT.search(line)
    if expect and " --json" not in command:
        command += " --json"
    done = subprocess.run(
        ["bash", "-c", command], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, f"{command}\n{done.stdout[-800:]}\n{done.stderr[-800:]}"
    if not expect:
        return
    payload = json.loads(done.stdout)
    title, article, indicator = expect.groups()
    if indicator:
        assert payload["citations"] and payload["citations"][0]["chunk_id"].startswith(
            "indicator:"
        ), payload["answer"]
        return
    if isinstance(payload, list):  # search prints hits
        first = payload[0]
    else:
        answer = payload.get("answer")
        if isinstance(answer, dict):  # route carries the consultation's answer
            payload = answer
        assert not payload["refused"], payload["answer"]
        first = payload["citations"][0]
    assert (first["doc_title"], first["article"]) == (title, article), payload
