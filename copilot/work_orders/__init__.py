"""Work orders: state machine, SQL store (SQLite/PostgreSQL), SLA sweeper, audit log."""

from copilot.work_orders.db import (
    DATABASE_URL_ENV,
    default_database_url,
    downgrade_migrations,
    make_engine,
    resolve_database_url,
    run_migrations,
)
from copilot.work_orders.errors import (
    EditNotAllowed,
    IdempotencyKeyReused,
    IllegalTransition,
    OrderNotFound,
    VersionConflict,
    WorkOrderError,
)
from copilot.work_orders.schemas import (
    AuditOut,
    NewWorkOrder,
    OrderChanges,
    OrderFilters,
    TransitionRequest,
    WorkOrderOut,
)
from copilot.work_orders.states import OPEN_STATES, TRANSITIONS, State
from copilot.work_orders.store import SqlWorkOrderStore, WorkOrderStore

__all__ = [
    "DATABASE_URL_ENV",
    "OPEN_STATES",
    "TRANSITIONS",
    "AuditOut",
    "EditNotAllowed",
    "IdempotencyKeyReused",
    "IllegalTransition",
    "NewWorkOrder",
    "OrderChanges",
    "OrderFilters",
    "OrderNotFound",
    "SqlWorkOrderStore",
    "State",
    "TransitionRequest",
    "VersionConflict",
    "WorkOrderError",
    "WorkOrderOut",
    "WorkOrderStore",
    "default_database_url",
    "downgrade_migrations",
    "make_engine",
    "resolve_database_url",
    "run_migrations",
]
