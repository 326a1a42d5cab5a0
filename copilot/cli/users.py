"""``copilot users add|list|revoke|link``: accounts and API tokens.

Loaded only when invoked (see ``copilot.cli``); opens the work-order database alone.
``add`` prints the new token on its last line, once; only its hash is stored.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.markup import escape
from rich.table import Table

from copilot.cli.common import err, out, store_services
from copilot.users.store import NewUser, UserError, parse_role

users_app = typer.Typer(
    help="用户 users: accounts, roles, jurisdictions, API tokens.", no_args_is_help=True
)


@users_app.command("add")
def add(
    name: Annotated[str, typer.Option("--name", help="Login name, unique.")],
    role: Annotated[
        str,
        typer.Option(
            "--role",
            help="city_staff|district_staff|town_staff|village_staff|grid_staff|evaluator|admin"
            " (or 市级/区县/镇街/村社/网格/评测/管理员).",
        ),
    ],
    jurisdiction: Annotated[
        str, typer.Option("--jurisdiction", help="Division code the user answers for.")
    ],
    wecom_user: Annotated[
        str | None, typer.Option("--wecom-user", help="Linked WeCom user id.")
    ] = None,
    webhook_user: Annotated[
        str | None, typer.Option("--webhook-user", help="Linked webhook sender id.")
    ] = None,
) -> None:
    """Create a user; the API token is printed on the last line, once."""
    with store_services() as services:
        try:
            new = NewUser(
                name=name,
                role=parse_role(role),
                jurisdiction=jurisdiction,
                wecom_user=wecom_user,
                webhook_user=webhook_user,
            )
            user, token = services.add_user(new)
        except ValidationError as exc:
            problems = "; ".join(f"--{e['loc'][0]}: {e['msg']}" for e in exc.errors())
            err.print(f"[red]{escape(problems)}[/red]")
            raise typer.Exit(2) from exc
        except UserError as exc:
            err.print(f"[red]{escape(str(exc))}[/red]")
            raise typer.Exit(2) from exc
        node = services.division(user.jurisdiction)
    out.print(
        f"已创建用户 {escape(user.name)}（{user.role.value}，{escape(node.name if node else '')}"
        f" {user.jurisdiction}）。令牌只显示这一次 (token shown once):",
        highlight=False,
    )
    print(token)


@users_app.command("list")
def list_users(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """All users (never their tokens)."""
    with store_services() as services:
        users = services.list_users()
    if as_json:
        print(json.dumps([u.model_dump(mode="json") for u in users], ensure_ascii=False))
        return
    table = Table(title="用户 users")
    for col in ("id", "name", "role", "jurisdiction", "wecom", "webhook", "active"):
        table.add_column(col)
    for u in users:
        table.add_row(
            str(u.id),
            escape(u.name),
            u.role.value,
            u.jurisdiction,
            u.wecom_user or "",
            u.webhook_user or "",
            str(u.active),
        )
    out.print(table)


@users_app.command("revoke")
def revoke(ref: Annotated[str, typer.Argument(help="User name or id.")]) -> None:
    """Disable a user and revoke all of its tokens."""
    with store_services() as services:
        try:
            user = services.revoke_user(ref)
        except UserError as exc:
            err.print(f"[red]{escape(str(exc))}[/red]")
            raise typer.Exit(1) from exc
    out.print(f"已停用 {escape(user.name)}，其令牌全部作废 (revoked).", highlight=False)


@users_app.command("link")
def link(
    ref: Annotated[str, typer.Argument(help="User name or id.")],
    wecom_user: Annotated[str | None, typer.Option("--wecom-user", help="WeCom user id.")] = None,
    webhook_user: Annotated[
        str | None, typer.Option("--webhook-user", help="Webhook sender id.")
    ] = None,
) -> None:
    """Link a WeCom user id or a webhook sender id to a user (the bot maps messages to it)."""
    links = [(c, v) for c, v in (("wecom", wecom_user), ("webhook", webhook_user)) if v]
    if not links:
        err.print("[red]give --wecom-user or --webhook-user[/red]")
        raise typer.Exit(2)
    with store_services() as services:
        try:
            for channel, sender in links:
                user = services.link_sender(ref, channel, sender)
        except UserError as exc:
            err.print(f"[red]{escape(str(exc))}[/red]")
            raise typer.Exit(1) from exc
    for channel, sender in links:
        out.print(f"{escape(user.name)} ↔ {channel} {escape(sender)}", highlight=False)
