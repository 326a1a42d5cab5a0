"""Bot load: ``python -m bench.bot [--seconds S] [--senders N] [--database-url URL]``.

Starts ``copilot serve`` (embedded default: SQLite, no LLM, two in-process event workers)
on 127.0.0.1 with the WeCom channel configured, a local stand-in for WeCom's send-message
API, and N grid users linked to WeCom ids. N senders then post encrypted, signed callbacks
as WeCom does, each sending its next message when the last is answered:

1. baseline: ``GET /healthz`` at the same concurrency (the bare framework);
2. ``帮助``: a command answered in the passive reply (decrypt, look up the user, encrypt);
3. reports: each one queued under its MsgId and acknowledged — target p99 ≤ 1 s;
4. then how long the workers take to route them and push every result.

Prints a table and writes bench/results/bot.json.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
from rich.console import Console

from bench._common import RESULTS_DIR, loadavg, machine_info
from bench._load import closed_loop, load_row, rows_table, serve
from copilot.bot.wecom_crypto import WeComCrypto
from evals.datasets import DATASETS_DIR, load_jsonl
from tests.recording_server import RecordingServer

TARGET_P99_MS = 1000.0
CORP_ID, TOKEN, AGENT_ID, SECRET = "wwbench", "bench-token", 1000002, "bench-secret"
LIANGLU = "500112016"


def _add_users(env: dict[str, str], n: int) -> None:
    code = (
        "from copilot.services import build_services; from copilot.settings import Settings;"
        "from copilot.users.store import NewUser, Role;"
        "s=build_services(Settings(), with_llm=False, lazy=True);"
        f"grid=s.hierarchy.descendants('{LIANGLU}', 'grid')[0].code;"
        f"[s.users.add(NewUser(name=f'bench-{{i}}', role=Role.GRID, jurisdiction=grid,"
        f" wecom_user=f'u{{i}}')) for i in range({n})];"
        "s.close()"
    )
    subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True)


def _callback(crypto: WeComCrypto, sender: str, text: str) -> tuple[dict[str, str], bytes]:
    """A signed, encrypted callback as WeCom posts it (fresh timestamp, unique MsgId)."""
    inner = (
        f"<xml><ToUserName><![CDATA[{CORP_ID}]]></ToUserName>"
        f"<FromUserName><![CDATA[{sender}]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[{text}]]></Content><MsgId>{uuid.uuid4().int % 10**19}</MsgId>"
        f"<AgentID>{AGENT_ID}</AgentID></xml>"
    )
    encrypted, ts, nonce = crypto.encrypt(inner), str(int(time.time())), uuid.uuid4().hex[:10]
    query = {
        "msg_signature": crypto.signature(ts, nonce, encrypted),
        "timestamp": ts,
        "nonce": nonce,
    }
    body = f"<xml><ToUserName>{CORP_ID}</ToUserName><Encrypt>{encrypted}</Encrypt></xml>"
    return query, body.encode()


async def _run(
    base: str, aes_key: str, seconds: float, senders: int, sink: RecordingServer, drain: bool
):
    crypto = WeComCrypto(TOKEN, aes_key, CORP_ID)
    texts = [c["text"] for c in load_jsonl(DATASETS_DIR / "events_dev.jsonl")]
    rows: dict[str, dict] = {}
    limits = httpx.Limits(max_connections=senders * 2)
    async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as c:

        async def health(client, w, i):
            return await client.get("/healthz")

        async def help_(client, w, i):
            query, body = _callback(crypto, f"u{w}", "帮助")
            return await client.post("/bot/wecom", params=query, content=body)

        async def report(client, w, i):
            query, body = _callback(crypto, f"u{w}", texts[(w * 997 + i) % len(texts)])
            return await client.post("/bot/wecom", params=query, content=body)

        for name, fn in (
            ("GET /healthz (baseline)", health),
            ("POST /bot/wecom 帮助 (passive reply)", help_),
            ("POST /bot/wecom report (ack, queued)", report),
        ):
            lat, errors = await closed_loop(c, fn, seconds, senders)
            rows[name] = load_row(lat, errors, seconds)
    if not drain:  # no workers: nothing will be pushed
        return rows
    reports = rows["POST /bot/wecom report (ack, queued)"]
    submitted = int(reports["per_s"] * seconds)
    t0 = time.perf_counter()
    while len(sink.sent()) < submitted and time.perf_counter() - t0 < 600:
        await asyncio.sleep(0.5)
    elapsed = time.perf_counter() - t0
    rows["results pushed (send-message API)"] = {
        "per_s": round(len(sink.sent()) / max(elapsed, 1e-9), 1),
        "pushed": len(sink.sent()),
        "submitted": submitted,
    }
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--senders", type=int, default=20)
    ap.add_argument("--port", type=int, default=8766)
    ap.add_argument("--home", type=Path, default=Path(".copilot/bench"))
    ap.add_argument("--database-url", default=None, help="default: a scratch SQLite file")
    ap.add_argument("--event-workers", type=int, default=2, help="in the server process")
    args = ap.parse_args()
    sink = RecordingServer(corp_id=CORP_ID, secret=SECRET)
    api_base = sink.start()
    scratch = tempfile.TemporaryDirectory(prefix="bench-bot-")
    aes_key = base64.b64encode(os.urandom(32)).decode().rstrip("=")
    env = {
        **os.environ,
        "COPILOT_HOME": str(args.home.resolve()),
        "COPILOT_DATABASE_URL": args.database_url or f"sqlite:///{scratch.name}/orders.db",
        "COPILOT_LLM_BACKEND": "none",
        "COPILOT_WECOM_CORP_ID": CORP_ID,
        "COPILOT_WECOM_TOKEN": TOKEN,
        "COPILOT_WECOM_AES_KEY": aes_key,
        "COPILOT_WECOM_AGENT_ID": str(AGENT_ID),
        "COPILOT_WECOM_SECRET": SECRET,
        "COPILOT_WECOM_API_BASE": api_base,
    }
    server = None
    try:
        _add_users(env, args.senders)
        server = serve(env, args.port, "--event-workers", str(args.event_workers))
        base = f"http://127.0.0.1:{args.port}"
        load_before = loadavg()
        rows = asyncio.run(
            _run(base, aes_key, args.seconds, args.senders, sink, args.event_workers > 0)
        )
        load_after = loadavg()
    finally:
        if server is not None:
            server.terminate()
            server.wait(30)
        sink.stop()
        scratch.cleanup()
    table = rows_table(
        f"WeCom bot on 127.0.0.1, {args.seconds:g} s per row, {args.senders} senders",
        rows,
        lambda r: f"{r.get('pushed')} of {r.get('submitted')}",
    )
    console = Console()
    console.print(table)
    acks = rows["POST /bot/wecom report (ack, queued)"]
    ok = acks.get("p99_ms", 1e9) <= TARGET_P99_MS and acks["errors"] == 0
    console.print(
        f"passive reply p99 {acks.get('p99_ms')} ms (baseline p99 "
        f"{rows['GET /healthz (baseline)'].get('p99_ms')} ms); target ≤ {TARGET_P99_MS:g} ms: "
        f"{'OK' if ok else 'MISSED'}; load {load_before} → {load_after}"
    )
    RESULTS_DIR.mkdir(exist_ok=True)
    (RESULTS_DIR / "bot.json").write_text(
        json.dumps({"machine": machine_info(), "rows": rows}, ensure_ascii=False, indent=2),
        encoding="utf-8",
    )


if __name__ == "__main__":
    main()
