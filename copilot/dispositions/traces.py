"""Traces of disposition runs: each step with its timing, tool calls and fallbacks."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import Engine
from sqlalchemy.orm import sessionmaker

from copilot.work_orders.db import write_engine
from copilot.work_orders.models import DispositionTrace


class ToolCallRecord(BaseModel):
    name: str
    args: dict[str, Any] = Field(default_factory=dict)
    ok: bool = True
    summary: str = ""


class TraceStep(BaseModel):
    """One node of the graph as it ran."""

    node: str
    started_at: str
    ms: float
    tool_calls: list[ToolCallRecord] = Field(default_factory=list)
    note: str = ""


class Trace(BaseModel):
    trace_id: str
    thread_id: str
    steps: list[TraceStep]
    created_at: datetime
    updated_at: datetime


class TraceNotFound(LookupError):
    pass


def new_trace_id() -> str:
    return uuid.uuid4().hex


class TraceStore:
    """Traces in the work-order database (one row per trace, steps appended per segment)."""

    def __init__(self, engine: Engine) -> None:
        self._read = sessionmaker(engine, expire_on_commit=False)
        self._write = sessionmaker(write_engine(engine), expire_on_commit=False)

    def save(self, trace_id: str, thread_id: str, steps: list[dict[str, Any]]) -> None:
        """Write the whole step list of a trace (the graph state holds it; this mirrors it)."""
        now = datetime.now(UTC)
        with self._write.begin() as s:
            row = s.get(DispositionTrace, trace_id)
            if row is None:
                s.add(
                    DispositionTrace(
                        trace_id=trace_id,
                        thread_id=thread_id[:160],
                        steps=steps,
                        created_at=now,
                        updated_at=now,
                    )
                )
            else:
                row.steps = steps
                row.updated_at = now

    def get(self, trace_id: str) -> Trace:
        with self._read() as s:
            row = s.get(DispositionTrace, trace_id)
            if row is None:
                raise TraceNotFound(trace_id)
            return Trace(
                trace_id=row.trace_id,
                thread_id=row.thread_id,
                steps=[TraceStep.model_validate(x) for x in row.steps],
                created_at=row.created_at,
                updated_at=row.updated_at,
            )
