"""UI first render: ``python -m bench.ui [--runs N]``.

Serves the app (embedded default: SQLite, bundled index, no LLM) in this process with a
bare Gradio page (one textbox) mounted beside it as the baseline, seeds a few dispatched
orders, then drives Debian's chromium headless with Playwright at 1366×768. Per run, in a
fresh browser context: the bare page until its textbox shows; the UI from sign-in until
the header shows; each tab from its click until its main content has rendered (the plots
of 工单看板 and 城市体征 included). Target: every tab ≤ 2 s. Prints a table and writes
bench/results/ui.json.
"""

from __future__ import annotations

import argparse
import json
import socket
import tempfile
import threading
import time
from pathlib import Path

import httpx
from rich.console import Console
from rich.table import Table

from bench._common import RESULTS_DIR, loadavg, machine_info, percentiles

TARGET_MS = 2000.0
TABS = {
    "智能问答": "#chat",
    "事件受理": "#event-text",
    "工单看板": "#district-map .js-plotly-plot .main-svg",
    "城市体征": "#vitals-map .js-plotly-plot .main-svg",
    "评测": "#run-eval",
}
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SEED_EVENTS = [
    "渝北区两路街道空港大道有个井盖不见了，晚上很危险",
    "南岸区南坪街道南坪西路有人占道摆摊，堵住了人行道",
    "渝中区解放碑街道八一路有人乱扔垃圾",
]


def _serve(home: Path) -> tuple[str, object, str]:
    import gradio as gr
    import uvicorn

    from copilot.api.app import create_app
    from copilot.services import build_services
    from copilot.settings import Settings
    from copilot.users.store import NewUser, Role

    services = build_services(Settings(home=home), with_llm=False)
    services.ensure_ready()
    _, token = services.users.add(NewUser(name="bench", role=Role.ADMIN, jurisdiction="50"))
    for text in SEED_EVENTS:
        d = services.dispose(text, "bench")
        if d["order_id"]:
            services.decide(d["order_id"], "approve", "bench")
    app = create_app(services=services, workers=0, sweeper=False)
    with gr.Blocks(analytics_enabled=False) as bare:
        gr.Textbox(label="bare", elem_id="bare")
    app = gr.mount_gradio_app(app, bare, path="/bare", ssr_mode=False)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    return base, server, token


def _ms(since: float) -> float:
    return (time.perf_counter() - since) * 1000


def main() -> None:
    from playwright.sync_api import sync_playwright

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="copilot-bench-ui-"))
    base, server, token = _serve(home)
    times: dict[str, list[float]] = {"bare Gradio page": [], "sign-in → header": []}
    times |= {tab: [] for tab in TABS}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=FLAGS)
        for _ in range(args.runs):
            ctx = browser.new_context(viewport={"width": 1366, "height": 768})
            page = ctx.new_page()
            t = time.perf_counter()
            page.goto(base + "/bare/")
            page.wait_for_selector("#bare textarea")
            times["bare Gradio page"].append(_ms(t))
            page.goto(base + "/login")
            page.fill("#token", token)
            t = time.perf_counter()
            page.click("button[type=submit]")
            page.wait_for_selector("#cq-user")
            times["sign-in → header"].append(_ms(t))
            for tab, selector in TABS.items():
                t = time.perf_counter()
                page.get_by_role("tab", name=tab).click()
                page.wait_for_selector(selector)
                times[tab].append(_ms(t))
            ctx.close()
        browser.close()
    server.should_exit = True  # type: ignore[attr-defined]

    rows = {name: percentiles(ms) for name, ms in times.items()}
    table = Table(title=f"UI first render, {args.runs} runs (chromium headless, 1366×768)")
    for col in ("what", "p50 ms", "p95 ms", "max ms", f"≤ {TARGET_MS:.0f} ms"):
        table.add_column(col)
    for name, r in rows.items():
        ok = (
            "baseline"
            if name == "bare Gradio page"
            else ("yes" if r["max_ms"] <= TARGET_MS else "NO")
        )
        table.add_row(name, f"{r['p50_ms']:.0f}", f"{r['p95_ms']:.0f}", f"{r['max_ms']:.0f}", ok)
    Console().print(table)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    out = {"machine": machine_info(), "loadavg": loadavg(), "runs": args.runs, "times": rows}
    (RESULTS_DIR / "ui.json").write_text(json.dumps(out, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
