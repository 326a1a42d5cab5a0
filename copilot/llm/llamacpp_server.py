"""``python -m llama_cpp.server`` with ggml's CPU extra buffer types off.

Usage: ``python -m copilot.llm.llamacpp_server <the arguments of python -m llama_cpp.server>``.

The server loads its models with the same parameter patch as the in-process backend
(:func:`copilot.llm.llamacpp_backend.model_params_patch`), for the same reason: the AMX and
weight-repacking buffers crash on some CPUs/VMs. Set ``COPILOT_LLM_CPU_EXTRA_BUFFERS=1`` to
leave them on.
"""

from __future__ import annotations

import runpy
import sys

from copilot.llm.llamacpp_backend import model_params_patch
from copilot.settings import Settings


def main(argv: list[str] | None = None) -> None:
    extra_buffers = Settings().llm_cpu_extra_buffers
    if argv is not None:
        sys.argv = [sys.argv[0], *argv]
    # The patch stays active for the server's whole life: it may load models per request.
    with model_params_patch(extra_buffers):
        runpy.run_module("llama_cpp.server", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
