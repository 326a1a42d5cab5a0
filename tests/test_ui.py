"""The officials' web UI in a real browser: Debian's chromium driven by Playwright.

A real server (uvicorn, the app factory, the UI mounted at /ui) runs in a thread on the
module's scratch services; every test signs in through the login form like an official.
Screenshots of every tab land in test-artifacts/ui/.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from copilot.api.app import create_app
from copilot.users.store import NewUser, Role
from copilot.work_orders.deadlines import utcnow

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "ui"
LIANGLU = "500112016"  # 两路街道, 渝北区
NANPING = "500108003"  # 南坪街道, 南岸区
MANHOLE = "渝北区两路街道空港大道有个井盖不见了，晚上很危险"
STALL = "南岸区南坪街道南坪西路有人占道摆摊，堵住了人行道"
WAIT_MS = 30_000

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(scratch_services) -> Iterator[str]:
    import uvicorn

    app = create_app(services=scratch_services, workers=1, sweeper=False)
    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    yield base
    srv.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def tokens(scratch_services) -> dict[str, str]:
    made = {}
    for name, role, code in (
        ("市管理员", Role.ADMIN, "50"),
        ("两路街道", Role.TOWN, LIANGLU),
        ("南坪街道", Role.TOWN, NANPING),
    ):
        made[name] = scratch_services.users.add(NewUser(name=name, role=role, jurisdiction=code))[1]
    return made


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    assert CHROMIUM.exists(), "Debian's chromium is missing: apt-get install -y chromium"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    pg = context.new_page()
    pg.set_default_timeout(WAIT_MS)
    yield pg
    context.close()


def sign_in(page, server: str, token: str) -> None:
    page.goto(server + "/ui/")
    assert "/login" in page.url
    page.fill("#token", token)
    page.click("button[type=submit]")
    page.wait_for_selector("#cq-user")


def open_tab(page, name: str) -> None:
    page.get_by_role("tab", name=name).click()


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def filed_and_approved(services, text: str, who: str = "测试") -> str:
    """An order dispatched through the service layer (the board tests' fixture data)."""
    d = services.dispose(text, who)
    services.decide(d["order_id"], "approve", who)
    return d["order_id"]


def map_counts(page) -> dict[str, float]:
    """The district map's figure as the browser holds it: code → coloured value."""
    page.wait_for_function(
        "() => { const g = document.querySelector('#district-map .js-plotly-plot');"
        " return g && g.data && g.data[0] && g.data[0].z; }"
    )
    return page.evaluate(
        "() => { const d = document.querySelector('#district-map .js-plotly-plot').data[0];"
        " return Object.fromEntries(d.locations.map((c, i) => [c, d.z[i]])); }"
    )


def table_text(page) -> str:
    return page.inner_text("#orders-table")


def wait_in_table(page, text: str) -> None:
    page.wait_for_function(
        "(t) => document.querySelector('#orders-table').innerText.includes(t)", arg=text
    )


HIGHLIGHTED = (
    "() => [...document.querySelectorAll('#orders-table td, #orders-table [role=gridcell]')]"
    ".filter(el => getComputedStyle(el).backgroundColor === 'rgb(253, 236, 234)')"
    ".map(el => el.innerText).join(' ')"
)


# -- sign-in ------------------------------------------------------------------------------


def test_the_ui_needs_a_valid_token_and_shows_who_is_signed_in(server, tokens, page):
    # Without a session the page sends one to the sign-in form; the UI's own API refuses.
    resp = httpx.get(server + "/ui/", follow_redirects=False)
    assert resp.status_code == 303 and resp.headers["location"].startswith("/login")
    assert httpx.get(server + "/ui/config").status_code == 401
    page.goto(server + "/login")
    page.fill("#token", "cq_not-a-token")
    page.click("button[type=submit]")
    assert "令牌无效" in page.inner_text("main")
    sign_in(page, server, tokens["两路街道"])
    assert page.inner_text("#cq-user") == "两路街道 · 镇街工作人员 · 渝北区两路街道"
    cookie = next(c for c in page.context.cookies() if c["name"] == "copilot_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"


def test_a_revoked_token_stops_the_session_at_its_next_action(server, scratch_services, page):
    _, token = scratch_services.users.add(NewUser(name="临时", role=Role.ADMIN, jurisdiction="50"))
    sign_in(page, server, token)
    scratch_services.users.revoke("临时")
    page.fill("#question textarea", "城市道路上乱扔垃圾罚多少钱")
    page.click("#ask-button")
    time.sleep(3)
    assert "第" not in page.inner_text("#chat") and not page.locator("#citations details").count()
    page.reload()
    page.wait_for_selector("#token")
    assert "/login" in page.url


# -- 智能问答 ------------------------------------------------------------------------------


def test_an_answer_shows_a_citation_that_expands_to_the_article_with_the_quote_marked(
    server, tokens, page
):
    sign_in(page, server, tokens["市管理员"])
    page.fill("#question textarea", "燃气公司上门安检不让进屋会被罚款吗")
    page.click("#ask-button")
    summary = page.wait_for_selector("#citations details summary")
    assert "重庆市天然气管理条例" in summary.inner_text()
    article = page.locator("#citations details .cq-article").first
    assert not article.is_visible()
    summary.click()
    assert article.is_visible()
    assert "第" in article.inner_text() and article.locator("mark").count() >= 1
    assert page.locator("#chat").inner_text().strip()
    shot(page, "1-智能问答")


def test_an_unanswerable_question_looks_like_a_refusal(server, tokens, page):
    sign_in(page, server, tokens["市管理员"])
    page.fill("#question textarea", "2024年重庆市低保标准每月多少钱？")
    page.click("#ask-button")
    page.wait_for_selector("#chat >> text=未能作答")
    assert "检索范围" in page.inner_text("#chat")


def test_an_empty_question_gets_a_chinese_notice_not_a_traceback(server, tokens, page):
    sign_in(page, server, tokens["市管理员"])
    page.click("#ask-button")
    page.wait_for_selector("text=请输入问题")
    assert "Traceback" not in page.content()


# -- 事件受理 → 工单看板 ---------------------------------------------------------------------


def test_an_approved_event_appears_on_the_board_and_on_the_map_count(server, tokens, page):
    sign_in(page, server, tokens["市管理员"])
    open_tab(page, "工单看板")
    before = map_counts(page).get("500112", 0)

    open_tab(page, "事件受理")
    page.fill("#event-text textarea", MANHOLE)
    page.click("#submit-event")
    page.wait_for_selector("#disposition .cq-draft")
    assert "设施运行" in page.inner_text("#disposition")
    status = page.inner_text("#intake-status")
    order_no = next(w for w in status.replace("：", " ").split() if w.startswith("WO-"))
    shot(page, "2-事件受理")
    page.fill("#decision-comment textarea", "同意，请两路街道处置")
    page.click("#approve")
    result = page.wait_for_selector("#decision-result")
    assert order_no in result.inner_text() and "已派单" in result.inner_text()
    assert "办理时限：20" in result.inner_text()  # a real deadline, not "—"

    open_tab(page, "工单看板")
    page.click("#board-refresh")
    wait_in_table(page, order_no)
    page.wait_for_function(
        "(want) => { const d = document.querySelector('#district-map .js-plotly-plot').data[0];"
        " return d.z[d.locations.indexOf('500112')] >= want; }",
        arg=before + 1,
    )
    assert map_counts(page)["500112"] == before + 1
    shot(page, "3-工单看板")


def test_an_overdue_order_shows_as_escalated_after_a_sweep(server, tokens, scratch_services, page):
    order_no = filed_and_approved(scratch_services, "渝北区两路街道双凤桥路的路灯坏了三盏")
    swept = scratch_services.sweep(now=utcnow() + timedelta(days=30))
    assert order_no in [o.order_no for o in swept]
    sign_in(page, server, tokens["市管理员"])
    open_tab(page, "工单看板")
    wait_in_table(page, order_no)
    text = table_text(page)
    row = text[text.index(order_no) :].split("WO-", 2)[1]  # up to the next order's number
    assert "已升级" in row
    # The row is highlighted; its detail says the order has climbed a tier.
    assert order_no in page.evaluate(HIGHLIGHTED)
    page.locator("#orders-table").get_by_text(order_no, exact=True).filter(
        visible=True
    ).first.click()
    page.wait_for_selector("#order-detail >> text=已升级")


def test_a_town_user_cannot_see_another_towns_orders_on_the_board_map_or_export(
    server, tokens, scratch_services, page
):
    foreign = filed_and_approved(scratch_services, MANHOLE + "，第二次反映")
    own = filed_and_approved(scratch_services, STALL)
    sign_in(page, server, tokens["南坪街道"])
    open_tab(page, "工单看板")
    wait_in_table(page, own)
    assert foreign not in table_text(page)
    counts = map_counts(page)
    assert counts["500112"] == 0 and counts["500108"] >= 1
    assert sum(counts.values()) == counts["500108"]
    # Picking 渝北区 through the map's channel shows nothing of 渝北区.
    page.evaluate(
        "() => { const box = document.querySelector('#map-pick textarea, #map-pick input');"
        " box.value = '500112'; box.dispatchEvent(new Event('input', {bubbles: true})); }"
    )
    time.sleep(1.5)
    assert foreign not in table_text(page)
    # The export holds the same rows as the table, nothing more.
    page.click("#export-csv")
    link = page.wait_for_selector("#export-file a")
    with page.expect_download() as download:
        link.click()
    content = Path(download.value.path()).read_text(encoding="utf-8-sig")
    assert own in content and foreign not in content
    shot(page, "4-工单看板-镇街")


def test_clicking_a_district_on_the_map_filters_the_table(server, tokens, scratch_services, page):
    yubei = filed_and_approved(scratch_services, "渝北区两路街道空港大道的垃圾桶满了没人清运")
    nanan = filed_and_approved(scratch_services, "南岸区南坪街道万达广场门口下水道堵了")
    sign_in(page, server, tokens["市管理员"])
    open_tab(page, "工单看板")
    wait_in_table(page, nanan)
    map_counts(page)
    time.sleep(1)  # the map's first paint
    # A real mouse click where 南岸区 lies on the rendered map.
    point = page.evaluate(
        "() => { const g = document.querySelector('#district-map .js-plotly-plot');"
        " const m = g._fullLayout.map._subplot.map; const p = m.project([106.65, 29.50]);"
        " const r = m.getCanvas().getBoundingClientRect();"
        " return [r.left + p.x, r.top + p.y]; }"
    )
    page.mouse.click(*point)
    page.wait_for_function(
        "() => document.querySelector('#f-district input').value.includes('南岸')"
    )
    page.wait_for_function(
        "(no) => !document.querySelector('#orders-table').innerText.includes(no)", arg=yubei
    )
    assert nanan in table_text(page)


# -- 城市体征, 评测, layout -------------------------------------------------------------------


def test_every_tab_renders_at_1366_by_768_without_horizontal_scrolling(server, tokens, page):
    sign_in(page, server, tokens["市管理员"])
    expect = {
        "智能问答": "#chat",
        "事件受理": "#event-text",
        "工单看板": "#district-map .js-plotly-plot",
        "城市体征": "#vitals-map .js-plotly-plot",
        "评测": "#run-eval",
    }
    for i, (tab, selector) in enumerate(expect.items(), 5):
        open_tab(page, tab)
        page.wait_for_selector(selector)
        width = page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= 1366, f"{tab}: the page is {width}px wide"
        shot(page, f"{i}-{tab}")
    open_tab(page, "城市体征")
    summary = page.inner_text("#vitals-summary")
    assert "重庆市" in summary and "老龄化率" in summary and "工单超期率" in summary


def test_the_eval_tab_runs_a_bundled_suite_and_lists_its_failures(server, tokens, page):
    sign_in(page, server, tokens["市管理员"])
    open_tab(page, "评测")
    page.get_by_label("评测集").click()
    page.get_by_role("option", name="retrieval：政策检索（hit@k、MRR、nDCG@10）").click()
    page.click("#run-eval")
    headline = page.wait_for_selector("#eval-headline >> text=retrieval_dev.jsonl", timeout=120_000)
    assert "条" in headline.inner_text()
    assert "hit_at_5" in page.inner_text("#eval-metrics")
    shot(page, "10-评测")
