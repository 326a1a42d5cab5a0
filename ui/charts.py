"""Plotly bar charts as the board and the vital signs draw them (largest first)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def bar_chart(
    labels: Sequence[str],
    values: Sequence[float],
    *,
    title: str,
    colour: str | Sequence[str],
    height: int,
    text: Sequence[str] | None = None,
    bottom: int = 40,
) -> Any:
    """Bars sorted by value, largest first; ``colour`` one for all or one per bar."""
    import plotly.graph_objects as go

    order = sorted(range(len(values)), key=lambda i: -values[i])
    pick = lambda seq: [seq[i] for i in order]  # noqa: E731
    fig = go.Figure(
        go.Bar(
            x=pick(labels),
            y=pick(values),
            marker_color=colour if isinstance(colour, str) else pick(colour),
            text=pick(text) if text else None,
        )
    )
    fig.update_layout(
        title={"text": title, "font": {"size": 13}},
        height=height,
        margin={"l": 40, "r": 10, "t": 30, "b": bottom},
    )
    return fig
