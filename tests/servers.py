"""Starting real servers on localhost for integration tests."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(url: str, proc: subprocess.Popen, timeout_s: float, what: str) -> None:
    """Poll ``url`` until it answers; fail the test if the process dies or time runs out."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"{what} did not start")
            time.sleep(0.3)


def stop(proc: subprocess.Popen, timeout_s: float = 20) -> None:
    """Terminate a server started here; kill it if it does not exit in time."""
    proc.terminate()
    try:
        proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=timeout_s)


def chroma_cli() -> str:
    exe = Path(sys.executable).parent / "chroma"
    return str(exe) if exe.exists() else (shutil.which("chroma") or "chroma")


@contextmanager
def running_chroma(workdir: Path) -> Iterator[int]:
    """A ``chroma run`` server on 127.0.0.1 storing under ``workdir``; yields its port."""
    port = free_port()
    with (workdir / "chroma.log").open("w") as log:
        proc = subprocess.Popen(
            [
                chroma_cli(),
                "run",
                "--path",
                str(workdir / "chroma-data"),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        wait_until_up(f"http://127.0.0.1:{port}/api/v2/heartbeat", proc, 60, "chroma server")
        try:
            yield port
        finally:
            stop(proc)


@contextmanager
def running_llama_server(model: Path, workdir: Path, alias: str = "smollm2") -> Iterator[str]:
    """llama.cpp's OpenAI-compatible server over ``model`` on 127.0.0.1; yields its base URL."""
    port = free_port()
    with (workdir / "llama-server.log").open("w") as log:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "copilot.llm.llamacpp_server",
                "--model",
                str(model),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--n_ctx",
                "4096",
                "--model_alias",
                alias,
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        wait_until_up(f"http://127.0.0.1:{port}/v1/models", proc, 120, "llama_cpp.server")
        try:
            yield f"http://127.0.0.1:{port}/v1"
        finally:
            stop(proc, 30)
