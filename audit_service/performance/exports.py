"""A period's staff scores as CSV or XLSX with stable, documented columns (docs/performance.md).

Columns are only ever added at the end; a name never changes meaning.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from audit_service.performance.periods import Period

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

Column = tuple[str, Callable[[dict[str, Any]], Any]]


def _c(component: str, field: str) -> Callable[[dict[str, Any]], Any]:
    return lambda r: r["components"][component][field]


COLUMNS: list[Column] = [
    ("period", lambda r: r["period"]),
    ("employee_no", lambda r: r["employee_no"]),
    ("staff_name", lambda r: r["name"]),
    ("role", lambda r: r["role"]),
    ("team_lead", lambda r: r["team"] or ""),
    ("outlet_code", lambda r: r["outlet_code"]),
    ("outlet_name", lambda r: r["outlet"]),
    ("region_code", lambda r: r["region_code"]),
    ("audit_score", _c("audit", "score")),
    ("audit_raw", _c("audit", "raw")),
    ("audit_items", _c("audit", "n")),
    ("attendance_score", _c("attendance", "score")),
    ("attendance_raw", _c("attendance", "raw")),
    ("attendance_minutes", _c("attendance", "n")),
    ("queue_score", _c("queue", "score")),
    ("queue_raw", _c("queue", "raw")),
    ("queue_waits", _c("queue", "n")),
    ("score", lambda r: r["score"]),
    ("score_low", lambda r: r["low"]),
    ("score_high", lambda r: r["high"]),
    ("n_observations", lambda r: r["n_observations"]),
    ("provisional", lambda r: "yes" if r["provisional"] else "no"),
    ("rank_outlet", lambda r: r["rank_outlet"]),
    ("outlet_size", lambda r: r["outlet_size"]),
    ("rank_region", lambda r: r["rank_region"]),
    ("region_size", lambda r: r["region_size"]),
    ("percentile_region", lambda r: r["percentile_region"]),
]
HEADER = [name for name, _ in COLUMNS]


def _cells(period: Period, rows: list[dict[str, Any]]) -> list[list[Any]]:
    return [[get({**r, "period": period.key}) for _, get in COLUMNS] for r in rows]


def _safe(value: Any) -> Any:
    # A text cell starting with = + - @ would run as a formula in a spreadsheet.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value


def to_csv(period: Period, rows: list[dict[str, Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER)
    for cells in _cells(period, rows):
        writer.writerow(["" if v is None else _safe(v) for v in cells])
    # UTF-8 with BOM so spreadsheet programs read Chinese names correctly.
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(period: Period, rows: list[dict[str, Any]]) -> bytes:
    # Write-only: rows stream to the file, several times faster for thousands of staff.
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(f"scores {period.key}")
    ws.freeze_panes = "A2"
    for i, name in enumerate(HEADER, start=1):
        ws.column_dimensions[get_column_letter(i)].width = max(10, len(name) + 2)
    ws.append(HEADER)
    for cells in _cells(period, rows):
        ws.append([_safe(v) for v in cells])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
