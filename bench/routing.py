"""Routing throughput, then work-order insert throughput: ``python -m bench.routing``.

Routes the development events (repeated to --n events) without an LLM and prints
events/s beside the classification-only rate measured in the same run (the baseline the
gazetteer and routing rules add to), then real citizen letters (median ~220 characters,
where the dense channels cost most); then runs ``bench.work_orders`` for the store's
insert throughput on SQLite and PostgreSQL.
"""

from __future__ import annotations

import argparse
import time

from rich.console import Console
from rich.table import Table

from bench import work_orders
from copilot.services import build_services
from copilot.settings import Settings
from evals.datasets import DATASETS_DIR, load_jsonl
from evals.letters import unlabelled_letters


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=1000, help="events to route")
    ap.add_argument("--orders", type=int, default=2000, help="orders per store mode")
    ap.add_argument("--letters", type=int, default=100, help="real letters to route")
    ap.add_argument("--skip-store", action="store_true")
    args = ap.parse_args()
    services = build_services(Settings(), with_llm=False)
    router = services.router
    cases = load_jsonl(DATASETS_DIR / "events_dev.jsonl")
    events = [cases[i % len(cases)] for i in range(args.n)]
    router.route(events[0]["text"])  # warm-up: model load, caches

    t0 = time.perf_counter()
    for e in events:
        router.classifier.classify(e["text"])
    classify_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    for e in events:
        router.route(e["text"], e.get("reporter_grid"), e["id"])
    route_s = time.perf_counter() - t0
    letters = unlabelled_letters()[: args.letters]
    t0 = time.perf_counter()
    for text in letters:
        router.route(text)
    letters_s = time.perf_counter() - t0
    # The message-type step alone (budget 2 ms a letter; a timed unit test used to hold it).
    message_types = router.classifier.message_types
    many = unlabelled_letters()[:800]
    t0 = time.perf_counter()
    for text in many:
        message_types.classify(text)
    message_type_s = time.perf_counter() - t0

    table = Table(title=f"routing without an LLM, {args.n} events")
    for col in ("stage", "seconds", "events/s", "ms/event"):
        table.add_column(col)
    for name, s, n in (
        ("classify only (baseline)", classify_s, args.n),
        ("classify + gazetteer + route", route_s, args.n),
        (f"route real letters ({len(letters)})", letters_s, max(len(letters), 1)),
        (f"message type only, real letters ({len(many)})", message_type_s, max(len(many), 1)),
    ):
        table.add_row(name, f"{s:.1f}", f"{n / s:.1f}", f"{1000 * s / n:.1f}")
    Console().print(table)
    if not args.skip_store:
        work_orders.main(["-n", str(args.orders)])


if __name__ == "__main__":
    main()
