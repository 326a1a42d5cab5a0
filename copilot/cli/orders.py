"""``copilot orders list|show|approve|return|reject`` and ``copilot sla sweep``: work orders.

Loaded only when invoked (see ``copilot.cli``). The database URL comes from
``--database-url``, else ``COPILOT_DATABASE_URL``, else ``<COPILOT_HOME>/copilot.db``;
the schema is upgraded on open (a no-op when current), so the first command on a fresh
machine just works. Listing, showing and sweeping open the work-order database alone;
a decision resumes its disposition run, so it opens the whole service layer.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from copilot.cli.common import answering_services, err, out, store_services
from copilot.work_orders.deadlines import as_utc, beijing_time, utcnow
from copilot.work_orders.decisions import Decision
from copilot.work_orders.errors import OrderNotFound, WorkOrderError
from copilot.work_orders.schemas import OrderChanges, OrderFilters, WorkOrderOut
from copilot.work_orders.states import State

sla_app = typer.Typer(help="时限管理 SLA: escalate overdue work orders.", no_args_is_help=True)
orders_app = typer.Typer(help="工单 work orders: list and show.", no_args_is_help=True)

DatabaseUrl = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        help="SQLAlchemy URL; default $COPILOT_DATABASE_URL, else <COPILOT_HOME>/copilot.db.",
    ),
]
# Fields that change on every write; listing them in the audit table says nothing.
_QUIET_FIELDS = ("version", "updated_at")
AsJson = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]


def _parse_now(value: str | None) -> datetime:
    if value is None:
        return utcnow()
    try:
        return as_utc(datetime.fromisoformat(value))  # naive means UTC
    except ValueError as exc:
        raise typer.BadParameter(f"not an ISO 8601 time: {value!r}", param_hint="--now") from exc


def _dump(orders: list[WorkOrderOut]) -> str:
    return json.dumps([o.model_dump(mode="json") for o in orders], ensure_ascii=False, indent=2)


def _orders_table(orders: list[WorkOrderOut], title: str) -> Table:
    table = Table(title=title)
    table.add_column("工单号", no_wrap=True)
    for col in ("状态", "层级", "升级", "期限"):
        table.add_column(col, no_wrap=True)
    table.add_column("责任单位", overflow="fold")
    table.add_column("标题", overflow="fold")
    for o in orders:
        table.add_row(
            o.order_no,
            o.state.zh,
            o.tier,
            f"{o.escalation_level}" + ("督办" if o.supervised else ""),
            beijing_time(o.deadline_at, short=True),
            escape(o.owner_unit or o.department),
            escape(o.title),  # the report's own words
        )
    return table


@sla_app.command("sweep")
def sweep(
    database_url: DatabaseUrl = None,
    now: Annotated[
        str | None,
        typer.Option("--now", help="Pretend it is this ISO 8601 time (naive = UTC); for tests."),
    ] = None,
    tiers_up: Annotated[int, typer.Option("--tiers-up", min=1, max=4)] = 1,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, max=5000)] = 200,
    as_json: AsJson = False,
) -> None:
    """Escalate every open order past its deadline (plus grace) one tier up."""
    at = _parse_now(now)
    with store_services(database_url) as services:
        escalated = services.sweep(at, tiers_up, batch_size=batch_size)
    if as_json:
        print(_dump(escalated))
        return
    if not escalated:
        out.print(f"无超时工单 nothing overdue at {beijing_time(at)}")
        return
    out.print(
        _orders_table(escalated, f"已升级 escalated {len(escalated)} 件 ({beijing_time(at)})")
    )


@orders_app.command("list")
def list_orders(
    database_url: DatabaseUrl = None,
    tier: Annotated[str | None, typer.Option("--tier", help="网格|村社|镇街|区县|市级")] = None,
    district: Annotated[str | None, typer.Option("--district", help="District code.")] = None,
    town: Annotated[str | None, typer.Option("--town", help="Town/street code.")] = None,
    village: Annotated[str | None, typer.Option("--village")] = None,
    grid: Annotated[str | None, typer.Option("--grid")] = None,
    board: Annotated[str | None, typer.Option("--board", help="六大板块, e.g. 设施运行")] = None,
    state: Annotated[
        list[State] | None, typer.Option("--state", help="Repeat for several states.")
    ] = None,
    overdue: Annotated[bool, typer.Option("--overdue", help="Open and past deadline.")] = False,
    order: Annotated[str, typer.Option("--order", help="newest|deadline")] = "newest",
    limit: Annotated[int, typer.Option("--limit", min=1, max=1000)] = 50,
    offset: Annotated[int, typer.Option("--offset", min=0)] = 0,
    as_json: AsJson = False,
) -> None:
    """Work orders of one jurisdiction, board or state (newest first, or by deadline)."""
    try:
        filters = OrderFilters(
            tier=tier,
            district_code=district,
            town_code=town,
            village_code=village,
            grid_code=grid,
            board=board,
            states=state or None,
            overdue=overdue,
            order=order,
            limit=limit,
            offset=offset,
        )
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    with store_services(database_url) as services:
        orders = services.list_orders(filters)
    if as_json:
        print(_dump(orders))
        return
    out.print(_orders_table(orders, f"工单 work orders: {len(orders)}"))


@orders_app.command("show")
def show(
    ref: Annotated[str, typer.Argument(help="Order number (WO-…) or numeric id.")],
    database_url: DatabaseUrl = None,
    audit: Annotated[
        bool, typer.Option("--audit/--no-audit", help="Include the audit log.")
    ] = True,
    as_json: AsJson = False,
) -> None:
    """One order with its audit trail."""
    with store_services(database_url) as services:
        try:
            order = services.get_order(ref)
            trail = services.audit(order.id) if audit else []
        except OrderNotFound as exc:
            err.print(f"[red]{escape(str(exc))}[/red]")
            raise typer.Exit(1) from exc
    if as_json:
        payload = {
            "order": order.model_dump(mode="json"),
            "audit": [a.model_dump(mode="json") for a in trail],
        }
        print(json.dumps(payload, ensure_ascii=False, indent=2))
        return
    out.print(
        f"[bold]{order.order_no}[/bold]  {escape(order.title)}  ({order.state.label}, v{order.version})"
    )
    out.print(
        f"板块 {order.board} · 类型 {order.event_type} · 紧急程度 {order.urgency} · 层级 {order.tier}"
        f" · 部门 {order.department} · 责任单位 {escape(order.owner_unit or '—')}"
    )
    out.print(
        f"期限 deadline {beijing_time(order.deadline_at)} · 升级 escalations {order.escalation_level}"
        + (" · 市级督办 supervised" if order.supervised else "")
    )
    out.print(order.text, markup=False)
    if trail:
        table = Table(title="审计 audit")
        for col in ("时间 at", "操作人 actor", "动作 action", "状态 state", "变更 changes"):
            table.add_column(col, overflow="fold")
        for a in trail:
            states = " → ".join(st.zh if st else "∅" for st in (a.from_state, a.to_state))
            if a.action == "create":
                changed = "新建 created"
            else:
                changed = ", ".join(k for k in (a.after or {}) if k not in _QUIET_FIELDS) or "—"
            table.add_row(beijing_time(a.at), escape(a.actor), a.action, states, escape(changed))
        out.print(table)


def _parse_edits(raw: str | None) -> tuple[OrderChanges | None, dict | None]:
    """``--edit`` JSON → order field changes and rewritten draft sections."""
    from pydantic import ValidationError

    from copilot.dispositions.approval import DraftEdits

    if not raw:
        return None, None
    try:
        edits = json.loads(raw)
        if not isinstance(edits, dict):
            raise ValueError("expected a JSON object")
        draft_keys = set(DraftEdits.model_fields)
        draft = DraftEdits.model_validate({k: v for k, v in edits.items() if k in draft_keys})
        changes = OrderChanges.model_validate(
            {k: v for k, v in edits.items() if k not in draft_keys}
        )
    except (ValueError, ValidationError) as exc:
        raise typer.BadParameter(f"invalid edits: {exc}", param_hint="--edit") from exc
    return (changes if changes.given() else None), (draft.model_dump(exclude_none=True) or None)


def _decision_command(action: Decision, verb: str, help_text: str):
    def command(
        ref: Annotated[str, typer.Argument(help="Order number (WO-…) or numeric id.")],
        comment: Annotated[str | None, typer.Option("--comment", help="审批意见.")] = None,
        actor: Annotated[str, typer.Option("--actor", help="Who decides (audit).")] = "cli",
        edit: Annotated[
            str | None,
            typer.Option(
                "--edit",
                help="Edit-and-approve: JSON of order fields and draft sections, e.g. "
                '\'{"owner_unit": "…", "处置措施": ["1. …"]}\'.',
            ),
        ] = None,
        database_url: DatabaseUrl = None,
        as_json: AsJson = False,
    ) -> None:
        from copilot.dispositions.service import NotPending

        changes, draft_edits = _parse_edits(edit)
        # The whole service layer: the decision resumes the disposition run waiting for it.
        with answering_services(quiet=True, database_url=database_url) as services:
            try:
                order = services.decide(ref, action, actor, comment, changes, draft_edits)
            except (WorkOrderError, NotPending) as exc:
                err.print(f"[red]{escape(str(exc))}[/red]")
                raise typer.Exit(1) from exc
        if as_json:
            print(json.dumps(order.model_dump(mode="json"), ensure_ascii=False, indent=2))
            return
        out.print(
            f"{order.order_no} {verb}：{order.state.label}，期限 {beijing_time(order.deadline_at)}"
        )

    command.__doc__ = help_text
    return command


_DECISIONS: tuple[tuple[Decision, str, str], ...] = (
    (
        "approve",
        "已批准派单",
        "批准 Approve a pending order: it is dispatched and its clock starts.",
    ),
    ("return", "已退回", "退回 Return a pending order's draft for rework (--comment says why)."),
    ("reject", "已驳回", "驳回 Reject a pending order: it is cancelled."),
)
for _action, _verb, _help in _DECISIONS:
    orders_app.command(_action)(_decision_command(_action, _verb, _help))
