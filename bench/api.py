"""API load: ``python -m bench.api [--seconds S] [--concurrency C] [--database-url URL]``.

Starts ``copilot serve`` in its own process on 127.0.0.1 (PostgreSQL by default: a scratch
database created and dropped here; SQLite with ``--database-url sqlite:///…``), then from
this process with an async httpx client:

1. baseline: ``GET /healthz`` (the bare framework and auth-free path), same concurrency;
2. acknowledged submissions: ``POST /v1/events`` (stored in the inbox, 202) — target
   ≥ 300/s with p99 ≤ 200 ms on PostgreSQL;
3. routed events/s: how fast the in-process workers drain what was submitted;
4. ask: ``POST /v1/ask`` p50/p99 at concurrency 4.

Prints a table and writes bench/results/api.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
from rich.console import Console

from bench._common import RESULTS_DIR, loadavg, machine_info
from bench._load import closed_loop, load_row, rows_table, serve
from evals.datasets import DATASETS_DIR, load_jsonl

PG_ADMIN = os.environ.get("COPILOT_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
TARGET_ACKS = 300.0
TARGET_P99_MS = 200.0


def _scratch_pg() -> tuple[str, str]:
    import psycopg

    name = f"copilot_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN.rsplit("/", 1)[0]
    return name, f"postgresql+psycopg://{base.split('://', 1)[1]}/{name}"


def _drop_pg(name: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _admin_token(env: dict[str, str]) -> str:
    code = (
        "from copilot.services import build_services; from copilot.settings import Settings;"
        "from copilot.users.store import NewUser, Role;"
        "s=build_services(Settings(), with_llm=False);"
        "print(s.users.add(NewUser(name='bench', role=Role.ADMIN, jurisdiction='50'))[1]);"
        "s.close()"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    return out.stdout.strip().splitlines()[-1]


async def _run(base: str, token: str, seconds: float, concurrency: int) -> dict:
    headers = {"Authorization": f"Bearer {token}"}
    texts = [c["text"] for c in load_jsonl(DATASETS_DIR / "events_dev.jsonl")]
    questions = [c["question"] for c in load_jsonl(DATASETS_DIR / "policy_dev2.jsonl")][:40]
    rows = {}
    limits = httpx.Limits(max_connections=concurrency * 2)
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60, limits=limits) as c:

        async def health(client, w, i):
            return await client.get("/healthz")

        async def submit(client, w, i):
            body = {"text": texts[(w * 997 + i) % len(texts)], "idempotency_key": f"b-{w}-{i}"}
            return await client.post("/v1/events", json=body)

        async def ask(client, w, i):
            return await client.post("/v1/ask", json={"question": questions[(w + i) % 40]})

        for name, fn, conc in (
            ("GET /healthz (baseline)", health, concurrency),
            ("POST /v1/events (ack)", submit, concurrency),
        ):
            lat, errors = await closed_loop(c, fn, seconds, conc)
            rows[name] = load_row(lat, errors, seconds)
        submitted = rows["POST /v1/events (ack)"]["per_s"] * seconds
        # Routed events/s: the workers drain the inbox; read its depth from /metrics.
        t0 = time.perf_counter()
        start_depth = None
        while time.perf_counter() - t0 < seconds * 6:
            text = (await c.get("/metrics")).text
            depth = int(
                next(
                    line.split()[-1]
                    for line in text.splitlines()
                    if line.startswith("copilot_event_queue_depth")
                )
            )
            start_depth = depth if start_depth is None else start_depth
            if depth == 0:
                break
            await asyncio.sleep(1.0)
        drained = (start_depth or 0) - depth
        elapsed = time.perf_counter() - t0
        rows["events routed + drafted by the workers"] = {
            "per_s": round(drained / elapsed, 1) if elapsed > 0 else 0.0,
            "submitted": int(submitted),
            "left_in_queue": depth,
        }
        lat, errors = await closed_loop(c, ask, seconds, 4)
        rows["POST /v1/ask (concurrency 4)"] = load_row(lat, errors, seconds)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--port", type=int, default=8765)
    ap.add_argument("--home", type=Path, default=Path(".copilot/bench"))
    ap.add_argument("--database-url", default=None, help="default: a scratch PostgreSQL database")
    ap.add_argument(
        "--worker-processes",
        type=int,
        default=1,
        help="`copilot worker` processes; the server then runs no in-process workers "
        "(0 with --in-process-workers N: the embedded default)",
    )
    ap.add_argument("--in-process-workers", type=int, default=0)
    ap.add_argument("--server-processes", type=int, default=1)
    args = ap.parse_args()
    pg_name = None
    url = args.database_url
    if url is None:
        pg_name, url = _scratch_pg()
    env = {
        **os.environ,
        "COPILOT_HOME": str(args.home.resolve()),
        "COPILOT_DATABASE_URL": url,
        "COPILOT_LLM_BACKEND": "none",
        "COPILOT_RATE_LIMIT_PER_MINUTE": "100000000",
    }
    server = None
    workers: list[subprocess.Popen] = []
    try:
        token = _admin_token(env)
        copilot = str(Path(sys.executable).parent / "copilot")
        server = serve(
            env,
            args.port,
            *("--event-workers", str(args.in_process_workers)),
            *("--processes", str(args.server_processes)),
        )
        workers = [
            subprocess.Popen(
                [copilot, "worker", "--threads", "2"],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for _ in range(args.worker_processes)
        ]
        base = f"http://127.0.0.1:{args.port}"
        load_before = loadavg()
        rows = asyncio.run(_run(base, token, args.seconds, args.concurrency))
        load_after = loadavg()
    finally:
        for proc in [p for p in (server, *workers) if p is not None]:
            proc.terminate()
            proc.wait(30)
        if pg_name:
            _drop_pg(pg_name)
    table = rows_table(
        f"API on 127.0.0.1, {args.seconds:g} s per row, concurrency {args.concurrency}",
        rows,
        lambda r: f"{r.get('left_in_queue')} left of {r.get('submitted')}",
    )
    console = Console()
    console.print(table)
    ack = rows["POST /v1/events (ack)"]
    ok = ack["per_s"] >= TARGET_ACKS and ack.get("p99_ms", 1e9) <= TARGET_P99_MS
    console.print(
        f"acks {ack['per_s']}/s p99 {ack.get('p99_ms')} ms; target ≥ {TARGET_ACKS:g}/s, "
        f"p99 ≤ {TARGET_P99_MS:g} ms: {'OK' if ok else 'MISSED'}; load {load_before} → {load_after}"
    )
    RESULTS_DIR.mkdir(exist_ok=True)
    (RESULTS_DIR / "api.json").write_text(
        json.dumps(
            {"machine": machine_info(), "database": "postgresql" if pg_name else url, "rows": rows},
            ensure_ascii=False,
            indent=2,
        ),
        encoding="utf-8",
    )


if __name__ == "__main__":
    main()
