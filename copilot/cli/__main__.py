"""``python -m copilot.cli``: the same as the ``copilot`` script."""

from copilot.cli import app

app()
