"""The map of the 38 districts: outlines simplified once per process, plotly choropleths."""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

# About 500 m at Chongqing's latitude: invisible at the board's zoom, and it cuts the
# 73,646 points of the source file to a few thousand (a figure the browser draws at once).
TOLERANCE_DEG = 0.005
_CACHE: dict[Path, dict[str, Any]] = {}
# Chongqing's extent is about 105.3–110.2°E, 28.2–32.2°N.
CENTRE = {"lon": 107.75, "lat": 30.1}
_LOCK = threading.Lock()


def district_outlines(path: Path) -> dict[str, Any]:
    """The GeoJSON at ``path`` with every ring simplified (cached per process)."""
    with _LOCK:
        if path not in _CACHE:
            data = json.loads(path.read_text(encoding="utf-8"))
            for feature in data["features"]:
                geom = feature["geometry"]
                geom["coordinates"] = _simplify_geometry(geom["type"], geom["coordinates"])
            _CACHE[path] = data
        return _CACHE[path]


def _simplify_geometry(kind: str, coords: list) -> list:
    if kind == "Polygon":
        return _simplify_polygon(coords)
    if kind == "MultiPolygon":
        parts = [_simplify_polygon(p) for p in coords]
        return [p for p in parts if p]
    return coords


def _simplify_polygon(rings: list) -> list:
    out = []
    for i, ring in enumerate(rings):
        kept = _douglas_peucker(np.asarray(ring, dtype=float), TOLERANCE_DEG)
        if len(kept) >= 4:
            out.append(kept.round(4).tolist())
        elif i == 0:
            return []  # an islet smaller than the tolerance: drop the whole polygon
    return out


def _douglas_peucker(points: np.ndarray, tolerance: float) -> np.ndarray:
    """Iterative Douglas–Peucker; keeps the first and last point (a closed ring stays closed)."""
    n = len(points)
    if n < 5:
        return points
    keep = np.zeros(n, dtype=bool)
    keep[0] = keep[-1] = True
    stack = [(0, n - 1)]
    while stack:
        a, b = stack.pop()
        if b - a < 2:
            continue
        seg = points[b] - points[a]
        rel = points[a + 1 : b] - points[a]
        norm = float(np.hypot(*seg))
        if norm == 0.0:
            dist = np.hypot(rel[:, 0], rel[:, 1])
        else:
            dist = np.abs(seg[0] * rel[:, 1] - seg[1] * rel[:, 0]) / norm
        i = int(np.argmax(dist))
        if dist[i] > tolerance:
            mid = a + 1 + i
            keep[mid] = True
            stack += [(a, mid), (mid, b)]
    return points[keep]


def choropleth(
    outlines: dict[str, Any],
    values: Mapping[str, float],
    *,
    title: str,
    colorbar: str,
    colorscale: str = "OrRd",
    hover: Mapping[str, str] | None = None,
    height: int = 420,
    zmin: float | None = 0.0,
) -> Any:
    """A plotly figure of the districts coloured by ``values`` (code → number); districts
    without a value show as 0. ``hover``: extra text per code."""
    import plotly.graph_objects as go

    codes = [f["properties"]["code"] for f in outlines["features"]]
    names = {f["properties"]["code"]: f["properties"]["name"] for f in outlines["features"]}
    z = [float(values.get(c, 0)) for c in codes]
    text = [f"{names[c]}<br>{colorbar}: {values.get(c, 0):g}" for c in codes]
    if hover:
        text = [f"{t}<br>{hover[c]}" if c in hover else t for t, c in zip(text, codes, strict=True)]
    # A MapLibre map with the blank style: no tiles, glyphs or topojson to fetch (plotly's
    # ``geo`` traces download a base map from a CDN even when it is hidden).
    fig = go.Figure(
        go.Choroplethmap(
            geojson=outlines,
            featureidkey="properties.code",
            locations=codes,
            z=z,
            text=text,
            hoverinfo="text",
            customdata=codes,
            colorscale=colorscale,
            zmin=min(z) if zmin is None else zmin,
            zmax=max(z + [1.0]),
            marker_line_width=0.6,
            marker_line_color="#555",
            colorbar={"title": {"text": colorbar}, "thickness": 12},
        )
    )
    fig.update_layout(
        map={"style": "white-bg", "center": CENTRE, "zoom": 5.6},
        title={"text": title, "x": 0.01, "font": {"size": 14}},
        height=height,
        margin={"l": 0, "r": 0, "t": 32, "b": 0},
        clickmode="event",
    )
    return fig
