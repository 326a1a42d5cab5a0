"""Start-up cost of the command line: ``python -m bench.cli [--runs N] [--home DIR]``.

Times whole processes, as a user waits for them: ``python -c pass`` (the interpreter
alone, the baseline measured in the same run), ``copilot --help``, a usage error
(``copilot ask`` without a question) and a real ``copilot ask`` without an LLM over the
bundled index (built first when --home has none). Each command runs once untimed (disk
cache), then --runs times; the table shows the median, min and max wall time and the
median minus the baseline, and flags the ≤ 1 s target of ``--help`` and usage errors.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bench._common import REPO_ROOT, RESULTS_DIR, loadavg, machine_info

QUESTION = "居民在楼道堆放杂物，物业能罚款吗？"
TARGET_S = 1.0


def copilot_command() -> list[str]:
    """The installed ``copilot`` script beside this interpreter, else ``python -m copilot.cli``."""
    script = Path(sys.executable).with_name("copilot")
    if script.is_file():
        return [str(script)]
    found = shutil.which("copilot")
    return [found] if found else [sys.executable, "-m", "copilot.cli"]


def cases() -> list[tuple[str, list[str], int, float | None]]:
    """(label, argv, expected exit code, target seconds or None)."""
    copilot = copilot_command()
    return [
        ("python -c pass (baseline)", [sys.executable, "-c", "pass"], 0, None),
        ("copilot --help", [*copilot, "--help"], 0, TARGET_S),
        ("copilot ask (usage error)", [*copilot, "ask"], 2, TARGET_S),
        ("copilot ask QUESTION", [*copilot, "ask", QUESTION], 0, None),
    ]


def ensure_index(home: Path) -> None:
    """Build the bundled index under ``home`` when it is empty (not timed)."""
    from copilot.knowledge import build_knowledge_base, ensure_bundled_index
    from copilot.settings import Settings

    settings = Settings(home=home)
    kb = build_knowledge_base(settings)
    try:
        if kb.is_empty():
            print(f"building the bundled index under {home} …", file=sys.stderr)
            ensure_bundled_index(kb, settings)
    finally:
        kb.close()


def time_command(argv: list[str], expected_rc: int, runs: int, env: dict[str, str]) -> list[float]:
    """One untimed run, then ``runs`` timed ones; an unexpected exit code stops the bench."""
    seconds = []
    for i in range(runs + 1):
        t0 = time.perf_counter()
        proc = subprocess.run(argv, env=env, cwd=REPO_ROOT, capture_output=True, check=False)
        elapsed = time.perf_counter() - t0
        if proc.returncode != expected_rc:
            tail = proc.stderr.decode("utf-8", "replace")[-2000:]
            raise SystemExit(
                f"{' '.join(argv)} exited {proc.returncode}, expected {expected_rc}:\n{tail}"
            )
        if i:
            seconds.append(elapsed)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="timed runs per command (median)")
    parser.add_argument("--home", type=Path, default=Path(".copilot/bench"))
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    home = args.home.resolve()
    ensure_index(home)
    env = {**os.environ, "COPILOT_HOME": str(home), "COPILOT_LLM_BACKEND": "none"}
    env.setdefault("PYTHONIOENCODING", "utf-8")

    load_before = loadavg()
    rows = []
    for label, argv, rc, target in cases():
        s = time_command(argv, rc, args.runs, env)
        rows.append({"command": label, "argv": argv, "seconds": s, "target_s": target})
    baseline = statistics.median(rows[0]["seconds"])

    table = Table(title=f"copilot wall time, median of {args.runs} runs (s)")
    for col in ("command", "median", "min", "max", "vs baseline", "target"):
        table.add_column(col, no_wrap=True)
    for r in rows:
        median = statistics.median(r["seconds"])
        r["median_s"] = round(median, 3)
        r["over_baseline_s"] = round(median - baseline, 3)
        target = r["target_s"]
        if target is None:
            flag = "–"
        else:
            r["ok"] = median <= target
            flag = f"≤ {target:g} s: {'OK' if r['ok'] else 'MISSED'}"
        table.add_row(
            r["command"],
            f"{median:.3f}",
            f"{min(r['seconds']):.3f}",
            f"{max(r['seconds']):.3f}",
            "–" if r is rows[0] else f"+{median - baseline:.3f}",
            flag,
        )
    console = Console()
    console.print(table)
    console.print(f"QUESTION = {QUESTION} (no LLM)")
    console.print(
        f"{machine_info()['nproc']} cores, load average {load_before} before, {loadavg()} after"
    )
    RESULTS_DIR.mkdir(exist_ok=True)
    (RESULTS_DIR / "cli.json").write_text(
        json.dumps(
            {"machine": machine_info(), "runs": args.runs, "baseline_s": baseline, "rows": rows},
            ensure_ascii=False,
            indent=2,
        ),
        encoding="utf-8",
    )


if __name__ == "__main__":
    main()
