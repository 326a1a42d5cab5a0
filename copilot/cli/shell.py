"""``copilot shell``: the interactive session (``copilot.shell``) over the service layer."""

from __future__ import annotations

import typer

from copilot.cli.common import answering_services, out


def shell() -> None:
    """交互式问答 Interactive session: policy and indicator questions, event routing; 帮助 for examples."""
    from copilot.shell import run_shell

    with answering_services() as services:
        run_shell(services, out)


def register(app: typer.Typer) -> None:
    app.command()(shell)
