"""The SLA sweeper run periodically inside a long-lived process (the API server).

Every API process may run one: ``sweep_overdue`` is safe to run concurrently (SKIP LOCKED
on PostgreSQL, one writer at a time on SQLite), so no leader election is needed. A failed
sweep (database restarting, lock timeout) is logged and retried on the next tick rather
than killing the thread.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from sqlalchemy.exc import SQLAlchemyError

from copilot.work_orders.schemas import WorkOrderOut
from copilot.work_orders.store import WorkOrderStore

log = logging.getLogger(__name__)

OnEscalated = Callable[[list[WorkOrderOut]], None]


def sweep_forever(
    store: WorkOrderStore,
    interval_s: float,
    stop: threading.Event,
    on_escalated: OnEscalated | None = None,
) -> None:
    """Sweep now, then every ``interval_s`` seconds until ``stop`` is set."""
    while not stop.is_set():
        try:
            escalated = store.sweep_overdue()
        except SQLAlchemyError:
            log.exception("SLA sweep failed; retrying in %.0f s", interval_s)
        else:
            if escalated:
                log.info("SLA sweep escalated %d work orders", len(escalated))
                if on_escalated is not None:
                    on_escalated(escalated)
        stop.wait(interval_s)


def start_sweeper(
    store: WorkOrderStore, interval_s: float = 60.0, on_escalated: OnEscalated | None = None
) -> tuple[threading.Thread, threading.Event]:
    """A daemon thread running ``sweep_forever``; set the event (then join) to stop it."""
    stop = threading.Event()
    thread = threading.Thread(
        target=sweep_forever,
        args=(store, interval_s, stop, on_escalated),
        name="sla-sweeper",
        daemon=True,
    )
    thread.start()
    return thread, stop
