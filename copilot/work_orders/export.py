"""Orders as a spreadsheet: the CSV/XLSX export every face offers."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel

from copilot.work_orders.schemas import WorkOrderOut

ExportFormat = Literal["csv", "xlsx"]
EXPORT_LIMIT = 1000
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EXPORT_COLUMNS = (
    "order_no",
    "title",
    "state",
    "board",
    "event_type",
    "urgency",
    "tier",
    "department",
    "owner_unit",
    "district_code",
    "town_code",
    "deadline_at",
    "escalation_level",
    "created_at",
)


class ExportFile(BaseModel):
    content: bytes
    media_type: str
    filename: str


def export_file(orders: Sequence[WorkOrderOut], fmt: ExportFormat) -> ExportFile:
    rows = [[_cell(getattr(o, c)) for c in EXPORT_COLUMNS] for o in orders]
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(EXPORT_COLUMNS)
        writer.writerows(rows)
        # A BOM so Excel opens the Chinese text as UTF-8.
        return ExportFile(
            content=("\ufeff" + buf.getvalue()).encode("utf-8"),
            media_type="text/csv; charset=utf-8",
            filename="work_orders.csv",
        )
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "工单"
    ws.append(list(EXPORT_COLUMNS))
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return ExportFile(content=out.getvalue(), media_type=XLSX, filename="work_orders.xlsx")


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value) if not isinstance(value, int | float) else value
