"""Order text vectors beside the store: "similar past orders" for a new event.

Vectors are compared in process (cosine over at most ``MAX_SCAN`` recent orders of the
same district and type), which is milliseconds at a district's volume. A city
with millions of orders would move them to the vector store (ROADMAP: scale-out).
"""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel
from sqlalchemy import Engine, select
from sqlalchemy.orm import sessionmaker

from copilot.work_orders.db import write_engine
from copilot.work_orders.models import OrderVector, WorkOrder

MAX_SCAN = 5000


class SimilarOrder(BaseModel):
    order_no: str
    title: str
    state: str
    department: str
    owner_unit: str | None
    similarity: float


class OrderVectors:
    """Stores and searches order vectors of one embedding model."""

    def __init__(self, engine: Engine, model: str) -> None:
        self.model = model[:64]
        self._read = sessionmaker(engine)
        self._write = sessionmaker(write_engine(engine))

    def add(self, order_id: int, vector: np.ndarray, district_code: str | None) -> None:
        """Remember an order's vector (replacing an earlier one)."""
        v = np.asarray(vector, dtype=np.float32)
        v = v / (np.linalg.norm(v) or 1.0)
        with self._write.begin() as s:
            s.merge(
                OrderVector(
                    order_id=order_id,
                    model=self.model,
                    district_code=district_code,
                    vector=v.tobytes(),
                )
            )

    def nearest(
        self,
        vector: np.ndarray,
        k: int = 3,
        district_code: str | None = None,
        min_similarity: float = 0.0,
        exclude: set[int] | None = None,
        event_type: str | None = None,
    ) -> list[SimilarOrder]:
        """The ``k`` most similar orders, of the district and the event type when given."""
        q = (
            select(OrderVector.order_id, OrderVector.vector)
            .where(OrderVector.model == self.model)
            .order_by(OrderVector.order_id.desc())
            .limit(MAX_SCAN)
        )
        if district_code:
            q = q.where(OrderVector.district_code == district_code)
        if event_type:
            q = q.join(WorkOrder, WorkOrder.id == OrderVector.order_id).where(
                WorkOrder.event_type == event_type
            )
        with self._read() as s:
            rows = [(oid, vec) for oid, vec in s.execute(q) if oid not in (exclude or set())]
            if not rows:
                return []
            query = np.asarray(vector, dtype=np.float32)
            query = query / (np.linalg.norm(query) or 1.0)
            matrix = np.stack([np.frombuffer(vec, dtype=np.float32) for _, vec in rows])
            sims = matrix @ query
            best = [i for i in np.argsort(-sims)[:k] if sims[i] >= min_similarity]
            orders = {
                o.id: o
                for o in s.scalars(
                    select(WorkOrder).where(WorkOrder.id.in_([rows[i][0] for i in best]))
                )
            }
            return [
                SimilarOrder(
                    order_no=orders[rows[i][0]].order_no,
                    title=orders[rows[i][0]].title,
                    state=orders[rows[i][0]].state,
                    department=orders[rows[i][0]].department,
                    owner_unit=orders[rows[i][0]].owner_unit,
                    similarity=round(float(sims[i]), 4),
                )
                for i in best
                if rows[i][0] in orders
            ]
