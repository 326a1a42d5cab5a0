"""Work-order store throughput on SQLite (WAL) and PostgreSQL.

    python -m bench.work_orders [-n 2000] [--batch 100] [--processes 4] [--pg-url URL]

For each backend, on a fresh database: N single-order ``create`` transactions (what a bot
or the API does per event), the same N through ``create_many`` in batches, N single
transitions (draft → pending_approval), one sweep escalating N overdue orders, and N
single creates split over several processes at once (what several API workers do).
PostgreSQL runs in a database created for the run and dropped after it; it is skipped with
a note when no server answers. Prints a table and writes ``bench/results/work_orders.json``
and ``.md``. Run it from the repository root.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from rich.console import Console
from rich.table import Table
from sqlalchemy import make_url

from bench._common import RESULTS_DIR, loadavg, machine_info, percentiles
from copilot.vocabulary import TIERS, URGENCIES
from copilot.work_orders import NewWorkOrder, SqlWorkOrderStore, State, make_engine
from copilot.work_orders.db import normalize_url

DEFAULT_PG = os.environ.get("COPILOT_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
console = Console()


def submission(i: int, run: str) -> NewWorkOrder:
    """A realistic routed event; codes vary so the jurisdiction indexes do real work."""
    return NewWorkOrder(
        idempotency_key=f"{run}-{i}",
        title="井盖缺失",
        text=f"第{i}号事件：观音桥步行街东侧有个井盖莫得了，井口敞起，晚上很容易掉下去。",
        board="设施运行",
        event_type="FAC-MANHOLE-COVER",
        urgency=URGENCIES[i % 3],
        tier=TIERS[i % 4],  # 网格 … 区县
        department="城市管理局",
        owner_unit="观音桥街道办事处",
        district_code=f"5001{i % 38:02d}",
        town_code=f"5001{i % 38:02d}{i % 30:03d}",
        village_code=f"5001{i % 38:02d}{i % 30:03d}{i % 11:03d}",
        grid_code=f"g{i % 60000}",
        cooperating_units=["观音桥社区居委会"],
        deadline_hours={"紧急": 1, "较急": 8, "一般": 24},
        grace_hours=4,
    )


def _timed(items: Sequence[Any], fn: Callable[[Any], Any]) -> tuple[float, list[float]]:
    lat: list[float] = []
    start = time.perf_counter()
    for item in items:
        t = time.perf_counter()
        fn(item)
        lat.append((time.perf_counter() - t) * 1000)
    return time.perf_counter() - start, lat


def _row(backend: str, mode: str, n: int, seconds: float, lat: list[float] | None) -> dict:
    row = {"backend": backend, "mode": mode, "orders": n, "seconds": round(seconds, 3)}
    row["orders_per_s"] = round(n / seconds, 1)
    if lat:
        p = percentiles(lat)
        row.update(p50_ms=p["p50_ms"], p95_ms=p["p95_ms"])
    return row


def _insert_worker(url: str, start: int, count: int, run: str, barrier: Any, out: Any) -> None:
    store = SqlWorkOrderStore(make_engine(url), owns_engine=True)
    subs = [submission(i, run) for i in range(start, start + count)]
    barrier.wait(timeout=120)
    seconds, lat = _timed(subs, lambda s: store.create(s, "bench", now=T0))
    store.close()
    out.put((seconds, lat))


def measure(url: str, backend: str, n: int, batch: int, processes: int) -> list[dict]:
    """All modes on the (empty, migrated on open) database at ``url``."""
    rows: list[dict] = []
    store = SqlWorkOrderStore.from_url(url)
    try:
        subs = [submission(i, "single") for i in range(n)]
        store.create(submission(-1, "warmup"), "bench", now=T0)
        seconds, lat = _timed(subs, lambda s: store.create(s, "bench", now=T0))
        rows.append(_row(backend, "create, 1 order/transaction", n, seconds, lat))

        subs = [submission(i, "batch") for i in range(n)]
        chunks = [subs[i : i + batch] for i in range(0, n, batch)]
        seconds, lat = _timed(chunks, lambda c: store.create_many(c, "bench", now=T0))
        rows.append(_row(backend, f"create_many, {batch}/transaction", n, seconds, None))

        orders = store.create_many([submission(i, "flow") for i in range(n)], "bench", now=T0)
        seconds, lat = _timed(
            orders, lambda o: store.transition(o.id, State.PENDING_APPROVAL, "bench", o.version)
        )
        rows.append(_row(backend, "transition, 1/transaction", n, seconds, lat))

        for o in orders:  # pending_approval → dispatched at T0, so all are overdue later
            store.transition(o.id, State.DISPATCHED, "bench", o.version + 1, now=T0)
        start = time.perf_counter()
        escalated = store.sweep_overdue(T0 + timedelta(days=3), batch_size=200)
        rows.append(_row(backend, "sweep (escalate), 200/transaction", len(escalated),
                         time.perf_counter() - start, None))  # fmt: skip
    finally:
        store.close()

    if processes > 1:
        ctx = mp.get_context("spawn")
        barrier, out = ctx.Barrier(processes), ctx.Queue()
        share = n // processes
        procs = [
            ctx.Process(target=_insert_worker, args=(url, k * share, share, "par", barrier, out))
            for k in range(processes)
        ]
        for p in procs:
            p.start()
        results = [out.get(timeout=600) for _ in procs]
        for p in procs:
            p.join()
        wall = max(s for s, _ in results)
        lat = [x for _, lats in results for x in lats]
        mode = f"create, 1/transaction, {processes} processes"
        rows.append(_row(backend, mode, share * processes, wall, lat))
    return rows


def _pg_database(admin_url: str) -> tuple[str, Callable[[], None]] | None:
    try:
        admin = psycopg.connect(admin_url, autocommit=True, connect_timeout=3)
    except psycopg.Error as exc:
        console.print(f"[yellow]PostgreSQL skipped:[/yellow] {exc}")
        return None
    name = f"copilot_bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()

    url = make_url(normalize_url(admin_url)).set(database=name)
    return url.render_as_string(hide_password=False), drop


def _markdown(rows: list[dict]) -> str:
    lines = [
        "| backend | mode | orders | seconds | orders/s | p50 ms | p95 ms |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['backend']} | {r['mode']} | {r['orders']} | {r['seconds']} | "
            f"{r['orders_per_s']:,.0f} | {r.get('p50_ms', '—')} | {r.get('p95_ms', '—')} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-n", type=int, default=2000, help="orders per mode")
    ap.add_argument("--batch", type=int, default=100, help="orders per create_many call")
    ap.add_argument("--processes", type=int, default=4, help="writers in the parallel mode")
    ap.add_argument("--pg-url", default=DEFAULT_PG, help="admin URL; a scratch DB is made")
    ap.add_argument("--skip-postgres", action="store_true")
    ap.add_argument("--out", type=Path, default=RESULTS_DIR / "work_orders.json")
    args = ap.parse_args(argv)

    rows: list[dict] = []
    load_before = loadavg()  # shared machines are noisy: record how busy this one was
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        console.print(f"SQLite (WAL, synchronous=NORMAL): {url}")
        rows += measure(url, "SQLite", args.n, args.batch, args.processes)
    if not args.skip_postgres and (pg := _pg_database(args.pg_url)):
        url, drop = pg
        console.print(f"PostgreSQL: {make_url(url).render_as_string()}")
        try:
            rows += measure(url, "PostgreSQL", args.n, args.batch, args.processes)
        finally:
            drop()

    table = Table(title=f"Work-order store throughput (N={args.n})")
    for col in ("backend", "mode", "orders", "seconds", "orders/s", "p50 ms", "p95 ms"):
        table.add_column(col, justify="left" if col in ("backend", "mode") else "right")
    for r in rows:
        table.add_row(
            r["backend"],
            r["mode"],
            str(r["orders"]),
            f"{r['seconds']:.2f}",
            f"{r['orders_per_s']:,.0f}",
            str(r.get("p50_ms", "—")),
            str(r.get("p95_ms", "—")),
        )
    console.print(table)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    load = {"before": load_before, "after": loadavg()}
    console.print(f"load average (1/5/15 min) before {load['before']}, after {load['after']}")
    payload = {"machine": machine_info(), "loadavg": load, "n": args.n, "batch": args.batch}
    payload["rows"] = rows
    args.out.write_text(json.dumps(payload, ensure_ascii=False, indent=2) + "\n", "utf-8")
    args.out.with_suffix(".md").write_text(_markdown(rows), "utf-8")
    console.print(f"wrote {args.out} and {args.out.with_suffix('.md')}")


if __name__ == "__main__":
    main()
