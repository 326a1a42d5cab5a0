"""Users: roles bound to a jurisdiction level, tokens hashed at rest, scoping by subtree."""

from __future__ import annotations

import sqlite3
from types import SimpleNamespace

import pytest
from typer.testing import CliRunner

from copilot.hierarchy import Hierarchy
from copilot.users.scope import can_see_division, can_see_order, order_filters
from copilot.users.store import NewUser, Role, UserError, UserStore, parse_role
from copilot.work_orders.db import make_engine, run_migrations

LIANGLU = "500112016"  # 两路街道, 渝北区
YUBEI = "500112"
NANPING = "500108"  # 南岸区


@pytest.fixture(scope="module")
def hierarchy() -> Hierarchy:
    from copilot.hierarchy import DEFAULT_DIVISIONS_CSV

    return Hierarchy.from_csv(DEFAULT_DIVISIONS_CSV)


@pytest.fixture
def store(tmp_path, hierarchy):
    url = f"sqlite:///{tmp_path / 'users.db'}"
    run_migrations(url)
    engine = make_engine(url)
    yield UserStore(engine, hierarchy)
    engine.dispose()


def test_a_new_users_token_authenticates_it_and_only_its_hash_is_stored(store, tmp_path):
    user, token = store.add(NewUser(name="zhang", role=Role.TOWN, jurisdiction=LIANGLU))
    assert store.authenticate(token) == user
    assert store.authenticate(token + "x") is None and store.authenticate("") is None
    raw = sqlite3.connect(tmp_path / "users.db").execute("SELECT * FROM api_tokens").fetchall()
    assert token not in repr(raw)


def test_revoking_a_user_invalidates_every_token(store):
    _, first = store.add(NewUser(name="li", role=Role.DISTRICT, jurisdiction=YUBEI))
    second = store.new_token("li")
    store.revoke("li")
    assert store.authenticate(first) is None and store.authenticate(second) is None


@pytest.mark.parametrize(
    ("role", "code"),
    [(Role.TOWN, YUBEI), (Role.DISTRICT, LIANGLU), (Role.GRID, LIANGLU), (Role.TOWN, "999999999")],
)
def test_a_role_must_answer_for_a_division_of_its_level(store, role, code):
    with pytest.raises(UserError):
        store.add(NewUser(name=f"x-{role}-{code}", role=role, jurisdiction=code))


def test_names_and_wecom_ids_are_unique(store):
    store.add(NewUser(name="wang", role=Role.ADMIN, jurisdiction="50", wecom_user="w1"))
    with pytest.raises(UserError):
        store.add(NewUser(name="wang", role=Role.ADMIN, jurisdiction="50"))
    with pytest.raises(UserError):
        store.add(NewUser(name="wang2", role=Role.ADMIN, jurisdiction="50", wecom_user="w1"))
    assert store.by_sender("wecom", "w1").name == "wang"


def test_chinese_role_names_are_understood():
    assert parse_role("镇街") is Role.TOWN and parse_role("admin") is Role.ADMIN
    with pytest.raises(UserError):
        parse_role("mayor")


def test_a_town_user_sees_its_own_orders_and_divisions_only(store, hierarchy):
    town, _ = store.add(NewUser(name="t", role=Role.TOWN, jurisdiction=LIANGLU))
    assert order_filters(town, hierarchy) == {"town_code": LIANGLU}
    mine = SimpleNamespace(
        district_code=YUBEI, town_code=LIANGLU, village_code=None, grid_code=None
    )
    other = SimpleNamespace(
        district_code=NANPING, town_code=NANPING + "001", village_code=None, grid_code=None
    )
    assert can_see_order(town, mine, hierarchy) and not can_see_order(town, other, hierarchy)
    assert can_see_division(town, LIANGLU, hierarchy)
    assert not can_see_division(town, YUBEI, hierarchy)  # its district is above it
    evaluator, _ = store.add(NewUser(name="e", role=Role.EVALUATOR, jurisdiction="50"))
    assert order_filters(evaluator, hierarchy) == {}
    assert can_see_order(evaluator, other, hierarchy)


def test_users_add_prints_the_token_on_its_last_line(monkeypatch, tmp_path):
    from copilot.cli import app

    monkeypatch.setenv("COPILOT_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("COPILOT_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    runner = CliRunner()
    for code, message in (("x", "--jurisdiction"), ("999999", "unknown division")):
        made = runner.invoke(
            app, ["users", "add", "--name", "a", "--role", "网格", "--jurisdiction", code]
        )
        assert made.exit_code == 2 and message in made.output, made.output
    made = runner.invoke(
        app, ["users", "add", "--name", "a", "--role", "镇街", "--jurisdiction", LIANGLU]
    )
    assert made.exit_code == 0, made.output
    token = made.stdout.strip().splitlines()[-1]
    assert token.startswith("cq_")
    listed = runner.invoke(app, ["users", "list", "--json"])
    assert token not in listed.stdout and '"name": "a"' in listed.stdout
    assert runner.invoke(app, ["users", "revoke", "a"]).exit_code == 0
    assert runner.invoke(app, ["users", "revoke", "nobody"]).exit_code == 1


def test_users_link_maps_bot_sender_ids_and_refuses_one_taken(monkeypatch, tmp_path):
    from copilot.cli import app

    monkeypatch.setenv("COPILOT_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("COPILOT_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    runner = CliRunner()
    add = ["users", "add", "--role", "镇街", "--jurisdiction", LIANGLU]
    assert runner.invoke(app, [*add, "--name", "a", "--wecom-user", "wa"]).exit_code == 0
    assert runner.invoke(app, [*add, "--name", "b"]).exit_code == 0
    linked = runner.invoke(
        app, ["users", "link", "b", "--wecom-user", "wb", "--webhook-user", "hb"]
    )
    assert linked.exit_code == 0 and "wecom wb" in linked.output and "webhook hb" in linked.output
    taken = runner.invoke(app, ["users", "link", "b", "--wecom-user", "wa"])
    assert taken.exit_code == 1 and "linked to another user" in taken.output
    assert runner.invoke(app, ["users", "link", "b"]).exit_code == 2
    listed = runner.invoke(app, ["users", "list", "--json"]).stdout
    assert '"webhook_user": "hb"' in listed and '"wecom_user": "wb"' in listed


def test_the_first_admin_is_created_once_on_a_store_without_users(make_settings):
    from copilot.services import build_services

    services = build_services(make_settings(), with_llm=False, lazy=True)
    try:
        user, token = services.first_admin()
        assert user.role is Role.ADMIN and user.jurisdiction == "50"
        assert services.users.authenticate(token).name == user.name
        assert services.first_admin() is None  # users exist: nothing new, no token shown
    finally:
        services.close()


def test_scoped_filters_never_widen_a_town_users_listing(hierarchy):
    from copilot.users.scope import scoped_filters
    from copilot.work_orders.schemas import OrderFilters

    town = SimpleNamespace(role=Role.TOWN, jurisdiction="500112016")
    assert scoped_filters(town, hierarchy, OrderFilters()).town_code == "500112016"
    foreign = scoped_filters(town, hierarchy, OrderFilters(town_code="500108003"))
    assert foreign.town_code == "-outside-"
