"""Scaled out: the API acknowledges, separate worker processes share the PostgreSQL inbox."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient

from copilot.api.app import create_app
from copilot.services import build_services
from copilot.settings import Settings
from copilot.users.store import NewUser, Role

REPORTS = [
    "渝北区两路街道空港大道有个井盖不见了，晚上很危险",
    "南岸区南坪街道有人占道摆摊，堵住了人行道",
    "江北区观音桥步行街的路灯坏了好几天了",
    "沙坪坝区磁器口附近有人半夜施工，噪音很大",
]


@pytest.mark.slow
@pytest.mark.integration
def test_two_worker_processes_work_each_event_exactly_once(
    bundled_kb, bundled_settings, pg_database
):
    schema = f"w_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_database.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    url = f"{pg_database}?options=-csearch_path%3D{schema}"
    settings = Settings(home=bundled_settings.home, database_url=url)
    services = build_services(settings, with_llm=False)
    _, token = services.users.add(NewUser(name="grid", role=Role.ADMIN, jurisdiction="50"))
    app = create_app(services=services, workers=0, sweeper=False)
    env = {
        **os.environ,
        "COPILOT_HOME": str(bundled_settings.home),
        "COPILOT_DATABASE_URL": url,
        "COPILOT_LLM_BACKEND": "none",
    }
    copilot = str(Path(sys.executable).parent / "copilot")
    workers = [
        subprocess.Popen(
            [copilot, "worker", "--threads", "2"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for _ in range(2)
    ]
    try:
        with TestClient(app) as client:
            headers = {"Authorization": f"Bearer {token}"}
            ids = []
            for i in range(16):
                body = {"text": REPORTS[i % 4] + "。" * (i // 4), "idempotency_key": f"w-{i}"}
                resp = client.post("/v1/events", json=body, headers=headers)
                assert resp.status_code == 202  # no in-process workers: only acknowledged
                ids.append(resp.json()["id"])
            deadline = time.monotonic() + 240
            while time.monotonic() < deadline:
                states = [client.get(f"/v1/events/{i}", headers=headers).json() for i in ids]
                if all(s["status"] in ("done", "failed") for s in states):
                    break
                dead = [w for w in workers if w.poll() is not None]
                assert not dead, dead[0].stderr.read().decode()[-3000:]
                time.sleep(1)
            assert [s["status"] for s in states] == ["done"] * 16, [s["error"] for s in states]
            # Nobody worked an event twice.
            assert all(s["attempts"] == 1 for s in states), [
                (s["attempts"], s["error"]) for s in states
            ]
            orders = services.orders.list()
            assert len(orders) == len({s["result"]["order_id"] for s in states}) == 16
    finally:
        for w in workers:
            w.terminate()
        for w in workers:
            w.wait(30)
        services.close()
