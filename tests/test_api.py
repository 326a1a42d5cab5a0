"""The HTTP API: auth, one error shape, durable event submission, scoped work orders."""

from __future__ import annotations

import csv
import io
import time

import pytest
from fastapi.testclient import TestClient

from copilot.api.app import create_app
from copilot.users.store import NewUser, Role

LIANGLU = "500112016"  # 两路街道, 渝北区
NANPING_TOWN = "500108001"  # a town of 南岸区
MANHOLE = "渝北区两路街道空港大道有个井盖不见了，晚上很危险"
STALL = "南岸区南坪街道有人占道摆摊，堵住了人行道"


@pytest.fixture(scope="module")
def client(scratch_services):
    app = create_app(services=scratch_services, workers=1, sweeper=False)
    with TestClient(app) as c:
        yield c


@pytest.fixture(scope="module")
def tokens(scratch_services) -> dict[str, str]:
    users = scratch_services.users
    made = {}
    for name, role, code in (
        ("admin", Role.ADMIN, "50"),
        ("evaluator", Role.EVALUATOR, "50"),
        ("yubei", Role.DISTRICT, "500112"),
        ("lianglu", Role.TOWN, LIANGLU),
        ("nanan-town", Role.TOWN, NANPING_TOWN),
        ("grid", Role.GRID, _a_grid_of(scratch_services, LIANGLU)),
    ):
        made[name] = users.add(NewUser(name=name, role=role, jurisdiction=code))[1]
    return made


def _a_grid_of(services, town: str) -> str:
    return services.hierarchy.descendants(town, "grid")[0].code


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _error(resp) -> dict:
    body = resp.json()
    assert set(body) == {"error"} and {"code", "message", "message_en"} <= set(body["error"])
    return body["error"]


def test_health_needs_no_token_and_readiness_checks_the_database(client):
    assert client.get("/healthz").json()["status"] == "ok"
    ready = client.get("/readyz").json()
    assert ready["checks"]["database"] == "ok" and int(ready["checks"]["documents"]) >= 100


@pytest.mark.parametrize("header", [None, "Bearer nope", "Bearer cq_wrong", "Basic abc"])
def test_requests_without_a_valid_token_get_401_in_the_one_error_shape(client, header):
    resp = client.get("/v1/work-orders", headers={"Authorization": header} if header else {})
    assert resp.status_code == 401 and _error(resp)["code"] == "unauthorized"


def test_a_revoked_token_stops_working(client, scratch_services):
    _, token = scratch_services.users.add(NewUser(name="temp", role=Role.ADMIN, jurisdiction="50"))
    assert client.get("/v1/work-orders", headers=_auth(token)).status_code == 200
    scratch_services.users.revoke("temp")
    assert client.get("/v1/work-orders", headers=_auth(token)).status_code == 401


def test_malformed_json_and_invalid_fields_get_422_with_a_chinese_message(client, tokens):
    resp = client.post(
        "/v1/route",
        content=b"{not json",
        headers={**_auth(tokens["admin"]), "content-type": "application/json"},
    )
    assert resp.status_code == 422 and _error(resp)["message"]
    resp = client.post(
        "/v1/events", json={"text": "", "idempotency_key": "k"}, headers=_auth(tokens["grid"])
    )
    assert resp.status_code == 422


def test_ask_answers_with_a_citation_and_streams_as_server_sent_events(client, tokens):
    q = {"question": "燃气公司上门安检不让进屋会被罚款吗"}
    answer = client.post("/v1/ask", json=q, headers=_auth(tokens["lianglu"])).json()
    assert answer["citations"] and not answer["refused"]
    with client.stream(
        "POST",
        "/v1/ask",
        json=q,
        headers={**_auth(tokens["lianglu"]), "accept": "text/event-stream"},
    ) as resp:
        body = "".join(resp.iter_text())
    assert resp.headers["content-type"].startswith("text/event-stream")
    assert "event: final" in body


def test_search_and_route(client, tokens):
    hits = client.get(
        "/v1/search", params={"q": "占道经营", "top_k": 3}, headers=_auth(tokens["grid"])
    )
    assert hits.status_code == 200 and len(hits.json()) == 3
    routed = client.post("/v1/route", json={"text": MANHOLE}, headers=_auth(tokens["grid"])).json()
    assert routed["event_type"] and routed["tier"]


def test_an_event_is_acknowledged_at_once_then_routed_and_drafted_by_a_worker(client, tokens):
    body = {"text": MANHOLE, "idempotency_key": "api-manhole"}
    ack = client.post("/v1/events", json=body, headers=_auth(tokens["grid"]))
    assert (
        ack.status_code in (200, 202)
        and ack.headers["location"] == f"/v1/events/{ack.json()['id']}"
    )
    event_id = ack.json()["id"]
    for _ in range(300):
        got = client.get(f"/v1/events/{event_id}", headers=_auth(tokens["grid"])).json()
        if got["status"] in ("done", "failed"):
            break
        time.sleep(0.1)
    assert got["status"] == "done", got
    assert got["result"]["state"] == "pending_approval" and got["result"]["order_id"]
    again = client.post("/v1/events", json=body, headers=_auth(tokens["grid"]))
    assert again.json()["id"] == event_id  # a retry is the same event
    clash = client.post("/v1/events", json={**body, "text": STALL}, headers=_auth(tokens["grid"]))
    assert clash.status_code == 409 and _error(clash)["code"] == "idempotency_conflict"


def test_wait_true_returns_the_result_and_approval_dispatches(client, tokens):
    done = client.post(
        "/v1/events?wait=true",
        json={"text": MANHOLE + "。", "idempotency_key": "api-wait"},
        headers=_auth(tokens["grid"]),
    )
    assert done.status_code == 200 and done.json()["status"] == "done"
    order_no = done.json()["result"]["order_id"]
    # Grid staff report, they do not approve; a town in another district cannot see it.
    assert (
        client.post(
            f"/v1/dispositions/{order_no}/approve", json={}, headers=_auth(tokens["grid"])
        ).status_code
        == 403
    )
    foreign = client.post(
        f"/v1/dispositions/{order_no}/approve", json={}, headers=_auth(tokens["nanan-town"])
    )
    assert foreign.status_code == 404
    ok = client.post(
        f"/v1/dispositions/{order_no}/approve",
        json={"comment": "同意", "draft": {"处置措施": ["1. 设置围挡", "2. 补装井盖"]}},
        headers=_auth(tokens["lianglu"]),
    )
    assert ok.status_code == 200 and ok.json()["state"] == "dispatched"
    twice = client.post(
        f"/v1/dispositions/{order_no}/approve", json={}, headers=_auth(tokens["lianglu"])
    )
    assert twice.json()["version"] == ok.json()["version"]
    reject = client.post(
        f"/v1/dispositions/{order_no}/reject", json={}, headers=_auth(tokens["lianglu"])
    )
    assert reject.status_code == 409 and _error(reject)["code"] == "not_pending"
    detail = client.get(f"/v1/work-orders/{order_no}", headers=_auth(tokens["yubei"])).json()
    assert [a["to_state"] for a in detail["audit"]][-1] == "dispatched"


def _orders(client, token: str, **params) -> list[dict]:
    resp = client.get("/v1/work-orders", params=params, headers=_auth(token))
    assert resp.status_code == 200, resp.text
    return resp.json()


def test_each_user_sees_only_its_jurisdictions_orders_even_through_filters_and_export(
    client, tokens, scratch_services
):
    scratch_services.submit_event(STALL, reporter="seed", idempotency_key="api-nanan")
    scratch_services.submit_event(MANHOLE, reporter="seed", idempotency_key="api-yubei")
    everything = _orders(client, tokens["admin"], limit=1000)
    assert {o["district_code"] for o in everything} >= {"500108", "500112"}
    for name in ("lianglu", "yubei"):
        mine = _orders(client, tokens[name], limit=1000)
        assert mine and all(o["district_code"] == "500112" for o in mine)
        assert _orders(client, tokens[name], district="500108") == []  # asking wider is no help
        export = client.get("/v1/work-orders/export", headers=_auth(tokens[name])).content
        rows = list(csv.DictReader(io.StringIO(export.decode("utf-8-sig"))))
        assert rows and all(r["district_code"] == "500112" for r in rows)
    foreign = next(o for o in everything if o["district_code"] == "500108")
    resp = client.get(f"/v1/work-orders/{foreign['order_no']}", headers=_auth(tokens["lianglu"]))
    assert resp.status_code == 404
    xlsx = client.get("/v1/work-orders/export?format=xlsx", headers=_auth(tokens["admin"]))
    assert xlsx.content[:2] == b"PK"


def test_indicators_are_scoped_and_divisions_listed(client, tokens):
    own = client.get("/v1/indicators", params={"region": "500112"}, headers=_auth(tokens["yubei"]))
    assert own.status_code == 200 and own.json()
    other = client.get(
        "/v1/indicators", params={"region": "500108"}, headers=_auth(tokens["yubei"])
    )
    assert other.status_code == 404
    city = client.get("/v1/divisions/50", headers=_auth(tokens["grid"])).json()
    assert len(city["children"]) >= 38


def test_evaluators_read_but_do_not_change(client, tokens):
    assert client.get("/v1/work-orders", headers=_auth(tokens["evaluator"])).status_code == 200
    sub = client.post(
        "/v1/events",
        json={"text": MANHOLE, "idempotency_key": "ev"},
        headers=_auth(tokens["evaluator"]),
    )
    assert sub.status_code == 403


def test_metrics_count_requests_and_orders_by_state(client, tokens):
    client.get("/v1/work-orders", headers=_auth(tokens["admin"]))
    text = client.get("/metrics").text
    assert 'copilot_requests_total{method="GET",route="/v1/work-orders",status="200"}' in text
    assert "copilot_work_orders{state=" in text and "copilot_event_queue_depth" in text
    assert 'copilot_llm_fallbacks_total{where="draft"}' in text
    assert "cq_" not in text


def test_the_openapi_spec_lists_every_route_with_the_error_shape(client):
    spec = client.get("/openapi.json").json()
    paths = set(spec["paths"])
    assert {
        "/v1/ask",
        "/v1/search",
        "/v1/route",
        "/v1/events",
        "/v1/events/{event_id}",
        "/v1/dispositions/{order}/approve",
        "/v1/work-orders",
        "/v1/work-orders/{ref}",
        "/v1/work-orders/{ref}/transitions",
        "/v1/work-orders/export",
        "/v1/indicators",
        "/v1/divisions/{code}",
    } <= paths


FOREIGN_ROUTES = (
    ("GET", "/v1/work-orders/{order}", None),
    (
        "POST",
        "/v1/work-orders/{order}/transitions",
        {"to_state": "accepted", "expected_version": 1},
    ),
    ("POST", "/v1/dispositions/{order}/approve", {}),
    ("POST", "/v1/dispositions/{order}/return", {"comment": "x"}),
    ("POST", "/v1/dispositions/{order}/reject", {}),
    ("GET", "/v1/indicators?region=500108", None),
    ("GET", "/v1/indicators?region=500108&children=true", None),
    ("GET", "/v1/events/{event}", None),
)


@pytest.fixture(scope="module")
def foreign(client, scratch_services, tokens):
    """An order and an event of 南岸区, submitted by a 南岸 town user."""
    done = client.post(
        "/v1/events?wait=true",
        json={"text": STALL + "！", "idempotency_key": "rbac-foreign"},
        headers=_auth(tokens["nanan-town"]),
    ).json()
    assert done["status"] == "done", done
    return {"order": done["result"]["order_id"], "event": str(done["id"])}


@pytest.mark.parametrize("user", ["yubei", "lianglu", "grid", "village"])
@pytest.mark.parametrize(("method", "path", "body"), FOREIGN_ROUTES)
def test_rbac_matrix_no_role_reaches_a_foreign_jurisdiction(
    client, tokens, scratch_services, foreign, user, method, path, body
):
    if user == "village" and "village" not in tokens:
        village = scratch_services.hierarchy.descendants(LIANGLU, "village")[0].code
        tokens["village"] = scratch_services.users.add(
            NewUser(name="village", role=Role.VILLAGE, jurisdiction=village)
        )[1]
    url = path.format(**foreign)
    resp = client.request(method, url, json=body, headers=_auth(tokens[user]))
    assert resp.status_code in (403, 404), (resp.status_code, resp.text[:200])
    assert foreign["order"] not in resp.text
    listed = client.get("/v1/work-orders", params={"limit": 1000}, headers=_auth(tokens[user]))
    assert foreign["order"] not in listed.text
    assert scratch_services.orders.get_by_no(foreign["order"]).state == "pending_approval"


def test_json_log_lines_carry_the_request_id_and_never_the_token(client, tokens, caplog):
    import json as _json
    import logging

    from copilot.api.logs import JsonFormatter

    with caplog.at_level(logging.INFO, logger="copilot.api"):
        client.get("/v1/work-orders", headers={**_auth(tokens["admin"]), "x-request-id": "r-42"})
    lines = [_json.loads(JsonFormatter().format(r)) for r in caplog.records]
    line = next(x for x in lines if x.get("path") == "/v1/work-orders")
    assert line["request_id"] == "r-42" and line["status"] == 200
    assert tokens["admin"] not in caplog.text


@pytest.mark.parametrize("backend", ["memory", "redis"])
def test_a_token_over_its_rate_limit_gets_429_and_others_are_unaffected(backend):
    from copilot.api.ratelimit import InProcessLimiter, RedisLimiter

    if backend == "redis":
        import redis

        try:
            redis.Redis(socket_timeout=1).ping()
        except redis.RedisError:
            pytest.skip("no Redis on 127.0.0.1:6379")
        limiter = RedisLimiter("redis://127.0.0.1:6379/0", per_minute=3)
    else:
        limiter = InProcessLimiter(per_minute=3)
    token, other = f"cq_{time.time_ns()}", f"cq_other_{time.time_ns()}"
    assert [limiter.allow(token) for _ in range(4)] == [True, True, True, False]
    assert limiter.allow(other)


def test_the_api_answers_429_in_the_error_shape(client, tokens):
    from copilot.api.ratelimit import InProcessLimiter

    app = client.app
    saved, app.state.limiter = app.state.limiter, InProcessLimiter(per_minute=1)
    try:
        assert client.get("/v1/work-orders", headers=_auth(tokens["admin"])).status_code == 200
        resp = client.get("/v1/work-orders", headers=_auth(tokens["admin"]))
        assert resp.status_code == 429 and _error(resp)["code"] == "rate_limited"
    finally:
        app.state.limiter = saved


@pytest.fixture(scope="module")
def docs_client(tmp_path_factory):
    """An API over an empty knowledge base of its own: uploads never touch the bundled one."""
    from copilot.services import build_services
    from copilot.settings import Settings

    home = tmp_path_factory.mktemp("docs-home")
    services = build_services(
        Settings(home=home, database_url=f"sqlite:///{home / 'o.db'}"), with_llm=False
    )
    _, admin = services.users.add(NewUser(name="admin", role=Role.ADMIN, jurisdiction="50"))
    _, town = services.users.add(NewUser(name="town", role=Role.TOWN, jurisdiction=LIANGLU))
    app = create_app(services=services, workers=0, sweeper=False)
    with TestClient(app) as c:
        yield c, {"admin": admin, "town": town}, services
    services.close()


RULES = "第一条 为规范社区议事，制定本规则。\n第二条 居民议事会每季度召开一次。\n"


def test_an_admin_uploads_files_that_are_ingested_in_the_background(docs_client):
    client, tok, services = docs_client
    files = [
        ("files", ("社区议事规则.md", RULES.encode("utf-8"), "text/markdown")),
        (
            "files",
            ("../../etc/旧规则.txt", RULES.replace("季度", "月").encode("gbk"), "text/plain"),
        ),
        ("files", ("blob.pdf", b"\x00\x01binary\xff" * 10, "application/pdf")),
        ("files", ("empty.md", b"", "text/markdown")),
    ]
    assert client.post("/v1/documents", files=files, headers=_auth(tok["town"])).status_code == 403
    resp = client.post("/v1/documents?wait=true", files=files, headers=_auth(tok["admin"]))
    assert resp.status_code == 200, resp.text
    job = resp.json()
    assert job["state"] == "done" and job["files"][1] == "旧规则.txt"  # no path escapes
    assert len(job["report"]["added"]) == 2 and len(job["report"]["skipped"]) == 2
    assert all(s["reason"] for s in job["report"]["skipped"])
    again = client.get(f"/v1/documents/jobs/{job['job_id']}", headers=_auth(tok["admin"]))
    assert again.json()["progress"]["stage"]
    titles = {d["title"] for d in client.get("/v1/documents", headers=_auth(tok["town"])).json()}
    assert {"社区议事规则", "旧规则"} <= titles
    hits = client.get("/v1/search", params={"q": "居民议事会多久召开"}, headers=_auth(tok["town"]))
    assert hits.json() and hits.json()[0]["doc_title"] in {"社区议事规则", "旧规则"}
    gone = client.delete("/v1/documents/旧规则", headers=_auth(tok["admin"]))
    assert gone.status_code == 200 and gone.json()[0]["title"] == "旧规则"
    assert client.delete("/v1/documents/旧规则", headers=_auth(tok["admin"])).status_code == 404


def test_an_oversized_upload_is_refused_with_413(docs_client, monkeypatch):
    client, tok, services = docs_client
    monkeypatch.setattr(services.settings, "max_file_bytes", 64)
    resp = client.post(
        "/v1/documents",
        files=[("files", ("big.md", RULES.encode() * 10, "text/markdown"))],
        headers=_auth(tok["admin"]),
    )
    assert resp.status_code == 413 and _error(resp)["code"] == "too_large"
