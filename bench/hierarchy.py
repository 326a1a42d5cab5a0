"""Hierarchy and gazetteer: ``python -m bench.hierarchy [--sentences N]``.

Load time and resident memory of the full hierarchy with grids (each configuration in a
fresh subprocess, so the memory figures are not shared with earlier loads), tree query
latency (ancestors, descendants, lca, path), and gazetteer ``resolve`` latency p50/p95 on
synthetic sentences with the share resolved correctly. Writes bench/results/hierarchy.json.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

from rich.console import Console
from rich.table import Table

from bench._common import RESULTS_DIR, machine_info, percentiles
from copilot.gazetteer import Gazetteer
from copilot.hierarchy import Hierarchy

TARGET_LOAD_S = 2.0
TARGET_RSS_MIB = 300.0

_LOAD_PROBE = r"""
import json, sys, time
from bench._common import proc_status_mib
import copilot.gazetteer, copilot.hierarchy  # imports (pydantic …) are not the hierarchy's cost
from copilot.hierarchy import Hierarchy
spec = json.loads(sys.argv[1])
spec = tuple(spec) if isinstance(spec, list) else spec
base = proc_status_mib()["VmRSS"]
t0 = time.perf_counter()
h = Hierarchy.from_csv(grids_per_village=spec)
h.descendants("50", "grid")  # query index built too
load_s = time.perf_counter() - t0
after = proc_status_mib()
out = {"load_s": load_s, "rss_base_mib": base, "rss_mib": after["VmRSS"],
       "hierarchy_mib": round(after["VmRSS"] - base, 1), "nodes": len(h), "grids": h.counts()["grid"]}
if len(sys.argv) > 2:
    t0 = time.perf_counter()
    g = copilot.gazetteer.Gazetteer(h)
    out["gazetteer_s"] = time.perf_counter() - t0
    out["gazetteer_mib"] = round(proc_status_mib()["VmRSS"] - after["VmRSS"], 1)
    out["rss_peak_mib"] = proc_status_mib()["VmHWM"]
print(json.dumps(out))
"""


def _load_probe(spec: Any, with_gazetteer: bool) -> dict[str, Any]:
    args = [sys.executable, "-c", _LOAD_PROBE, json.dumps(spec)]
    if with_gazetteer:
        args.append("gazetteer")
    res = subprocess.run(args, capture_output=True, text=True, check=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


def _timed_us(items: list[Any], fn: Callable[[Any], Any]) -> dict[str, float]:
    fn(items[0])
    lat = []
    for x in items:
        t0 = time.perf_counter()
        fn(x)
        lat.append((time.perf_counter() - t0) * 1e6)
    p = percentiles(lat)  # values are µs though the keys say ms
    return {"p50_us": p["p50_ms"], "p95_us": p["p95_ms"], "max_us": p["max_ms"]}


_EVENTS = (
    "的路灯坏了",
    "井盖破损",
    "有人占道经营",
    "噪音扰民严重",
    "下水道堵塞",
    "垃圾堆放多日无人清理",
    "发生山体滑坡",
    "小区电梯困人",
)


def synthetic_sentences(h: Hierarchy, g: Gazetteer, n: int, seed: int = 11) -> list[dict]:
    """Sentences with a known answer (code) or none: full/short names, district+town combos,
    landmarks, village names with 第N网格, ambiguous names with a reporter, no place."""
    rng = random.Random(seed)
    towns = h.level("town")
    villages = h.level("village")
    names: dict[str, int] = {}
    for t in towns:
        names[t.name] = names.get(t.name, 0) + 1
    unique_towns = [t for t in towns if names[t.name] == 1]
    dup_towns = [t for t in towns if names[t.name] > 1]
    out: list[dict] = []
    for i in range(n):
        ev = rng.choice(_EVENTS)
        kind = i % 8
        if kind == 0:
            t = rng.choice(unique_towns)
            out.append({"text": f"{t.name}{ev}", "code": t.code, "kind": "town full"})
        elif kind == 1:
            t = rng.choice(towns)
            d = h.by_code[t.parent_code]
            out.append(
                {"text": f"{d.short_name()}{t.short_name()}{ev}", "code": t.code, "kind": "combo"}
            )
        elif kind == 2:
            name, code, _ = rng.choice(g.landmarks)
            out.append({"text": f"{name}附近{ev}", "code": code, "kind": "landmark"})
        elif kind == 3:
            v = rng.choice(villages)
            t = h.by_code[v.parent_code]
            grid = h.grids_of(v.code)[0]
            text = f"{t.name}{v.short_name()}第1网格{ev}"
            out.append({"text": text, "code": grid.code, "kind": "town+village+grid"})
        elif kind == 4:
            t = rng.choice(dup_towns)
            reporter = h.grids_of(h.children[t.code][0])[0].code
            out.append(
                {
                    "text": f"{t.name}{ev}",
                    "code": t.code,
                    "kind": "ambiguous+reporter",
                    "reporter": reporter,
                }
            )
        elif kind == 5:
            t = rng.choice(dup_towns)
            out.append({"text": f"{t.name}{ev}", "code": None, "kind": "ambiguous"})
        elif kind == 6:
            d = rng.choice(h.level("district"))
            out.append({"text": f"{d.name}{ev}，请尽快处理", "code": d.code, "kind": "district"})
        else:
            out.append({"text": f"今天{ev}，请尽快处理", "code": None, "kind": "no place"})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sentences", type=int, default=500)
    args = parser.parse_args()
    console = Console()

    loads = {
        "no grids": _load_probe(None, False),
        "5 per village": _load_probe(5, False),
        "3..8 per village (default)": _load_probe([3, 8], True),
    }

    h = Hierarchy.from_csv()
    g = Gazetteer(h)
    rng = random.Random(5)
    grids = [x.code for x in rng.sample(h.level("grid"), 5000)]
    towns = [x.code for x in h.level("town")]
    districts = [x.code for x in h.level("district")]
    pairs = [(rng.choice(grids), rng.choice(grids)) for _ in range(5000)]
    queries = {
        "ancestors(grid)": _timed_us(grids, h.ancestors),
        "path(grid)": _timed_us(grids, h.path),
        "descendants(town, grid)": _timed_us(towns, lambda c: h.descendants(c, "grid")),
        "descendants(district, village)": _timed_us(
            districts, lambda c: h.descendants(c, "village")
        ),
        "descendants(district) all": _timed_us(districts, h.descendants),
        "lca(2 grids)": _timed_us(pairs, h.lca),
        "is_within(grid, district)": _timed_us(grids, lambda c: h.is_within(c, "500112")),
    }

    cases = synthetic_sentences(h, g, args.sentences)
    lat, by_kind = [], {}
    for c in cases:
        t0 = time.perf_counter()
        r = g.resolve(c["text"], reporter_code=c.get("reporter"))
        lat.append((time.perf_counter() - t0) * 1000.0)
        got = r.best.code if r.best else None
        k = by_kind.setdefault(c["kind"], {"n": 0, "correct": 0})
        k["n"] += 1
        k["correct"] += int(got == c["code"])
    resolve = percentiles(lat)
    correct = sum(k["correct"] for k in by_kind.values())

    t = Table(title="hierarchy load (fresh process each)")
    for col in ("grids", "nodes", "load s", "RSS MiB (hierarchy)", "gazetteer s", "gazetteer MiB"):
        t.add_column(col)
    for name, r in loads.items():
        t.add_row(
            f"{name}: {r['grids']}",
            str(r["nodes"]),
            f"{r['load_s']:.3f}",
            f"{r['rss_mib']} ({r['hierarchy_mib']})",
            f"{r['gazetteer_s']:.3f}" if "gazetteer_s" in r else "–",
            str(r.get("gazetteer_mib", "–")),
        )
    console.print(t)
    t = Table(title="tree queries (µs)")
    for col in ("query", "p50", "p95", "max"):
        t.add_column(col)
    for name, r in queries.items():
        t.add_row(name, str(r["p50_us"]), str(r["p95_us"]), str(r["max_us"]))
    console.print(t)
    t = Table(title=f"gazetteer.resolve on {len(cases)} synthetic sentences")
    for col in ("kind", "n", "best == expected"):
        t.add_column(col)
    for name, r in by_kind.items():
        t.add_row(name, str(r["n"]), f"{r['correct']}/{r['n']}")
    t.add_row("all", str(len(cases)), f"{correct}/{len(cases)}")
    console.print(t)
    console.print(
        f"resolve p50 {resolve['p50_ms']} ms, p95 {resolve['p95_ms']} ms, max {resolve['max_ms']} ms"
    )
    default = loads["5 per village"]
    ok = default["load_s"] < TARGET_LOAD_S and default["rss_mib"] < TARGET_RSS_MIB
    console.print(
        f"5 grids/village: load {default['load_s']:.2f} s (< {TARGET_LOAD_S}), "
        f"RSS {default['rss_mib']} MiB (< {TARGET_RSS_MIB}): {'OK' if ok else 'MISSED'}"
    )
    RESULTS_DIR.mkdir(exist_ok=True)
    out = {
        "machine": machine_info(),
        "load": loads,
        "queries_us": queries,
        "resolve_ms": resolve,
        "resolve_accuracy": by_kind,
    }
    (RESULTS_DIR / "hierarchy.json").write_text(
        json.dumps(out, ensure_ascii=False, indent=2), encoding="utf-8"
    )


if __name__ == "__main__":
    main()
