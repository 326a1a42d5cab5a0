"""The ``copilot`` command line, one module per command group.

- ``knowledge``: ingest, docs list|remove, search, ask
- ``events``: route, dispose, trace
- ``serve``: the HTTP API; ``shell``: the interactive session
- ``orders``: orders list|show|approve|return|reject, sla sweep (loaded when invoked)
- ``users``: users add|list|revoke|link (loaded when invoked)
- ``common``: consoles, progress, the JSONL batch runner, opening the service layer

Commands parse options, call the use cases of :class:`copilot.services.Services` and
print; the rules live in the service layer and the domain. Everything heavy (llama_index,
chromadb, the embedders, scikit-learn, SQLAlchemy) is imported inside the commands, so
that ``copilot --help`` and usage errors answer at once.
"""

from __future__ import annotations

import importlib
import re
import sys

import click
import typer
import typer.core
import typer.main

from copilot.cli import events, knowledge, serve, shell

__all__ = ["app"]
_SURROGATE = re.compile("[\ud800-\udfff]")

# Sub-apps whose import is slow (the work-order store pulls in SQLAlchemy and Alembic,
# ~1 s): listed in ``copilot --help`` from this table, imported only when invoked.
_LAZY_APPS = {
    "orders": (
        "copilot.cli.orders",
        "orders_app",
        "工单 work orders: list, show, approve, return, reject.",
    ),
    "sla": ("copilot.cli.orders", "sla_app", "时限管理 SLA: escalate overdue work orders."),
    "users": (
        "copilot.cli.users",
        "users_app",
        "用户 users: add (prints a token once), list, revoke, link a WeCom id.",
    ),
    "eval": (
        "copilot.cli.evals",
        "eval_app",
        "评测 eval: retrieval | answer | routing | disposition | all — reports and gates.",
    ),
}


# Apps that are one command taking arguments; the others stay groups even with one
# subcommand (``copilot sla sweep``).
_SINGLE_COMMAND_APPS = {"eval_app"}


class _LazyApp(click.Command):
    """Stands for a sub-app in the command list; building its context loads the real one."""

    def __init__(self, name: str, module: str, attr: str, help: str) -> None:
        super().__init__(name, help=help, short_help=help)
        self._target = (module, attr)

    def load(self) -> click.Command:
        module, attr = self._target
        sub_app = getattr(importlib.import_module(module), attr)
        if attr in _SINGLE_COMMAND_APPS:  # ``copilot eval SUITE``, not ``copilot eval eval``
            return typer.main.get_command(sub_app)
        return typer.main.get_group(sub_app)

    def make_context(self, info_name, args, parent=None, **extra):  # type: ignore[override]
        return self.load().make_context(info_name, args, parent=parent, **extra)


class _LazyGroup(typer.core.TyperGroup):
    def main(self, args=None, *rest, **options):  # type: ignore[override]
        # Bytes that are not UTF-8 reach Python as lone surrogates and would crash the first
        # print of them with UnicodeEncodeError: refuse them here, naming their position.
        argv = sys.argv[1:] if args is None else list(args)
        bad = [i for i, a in enumerate(argv, 1) if isinstance(a, str) and _SURROGATE.search(a)]
        if bad:
            sys.stderr.write(
                f"参数 {bad[0]} 不是有效的 UTF-8 文本 argument {bad[0]} is not valid UTF-8 text "
                "(check the terminal's encoding, e.g. LANG=zh_CN.UTF-8; or pass the text in a "
                "JSONL file with --input)\n"
            )
            sys.exit(2)
        return super().main(args, *rest, **options)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [*super().list_commands(ctx), *(n for n in _LAZY_APPS if n not in self.commands)]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is None and cmd_name in _LAZY_APPS:
            command = _LazyApp(cmd_name, *_LAZY_APPS[cmd_name])
        return command


app = typer.Typer(
    cls=_LazyGroup,
    help="数字重庆 governance copilot",
    no_args_is_help=True,
    add_completion=False,
)
# In this order in ``copilot --help``: the commands, then the groups.
for _group in (knowledge, events, serve, shell):
    _group.register(app)
