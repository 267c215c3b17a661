"""Rules for the roster: shifts and the all-or-nothing CSV import.

One person is never on two shifts at once (rejected). Two people on one counter at once is
allowed but flagged (``shared_counter_with`` on reads, ``GET /roster/conflicts``, import
warnings). A shift must fall in the person's employment and in a period of their outlet history
at the shift's outlet (checked on the outlet's local dates of the start and the end).

Roster CSV (UTF-8, comma separated, header row first, columns in any order)::

    employee_no,outlet_code,counter_code,role,starts_at,ends_at
    E1001,SH01,C1,counter,2026-11-23T09:00,2026-11-23T17:00
    E1002,SH01,,lobby_manager,2026-11-23T08:30+08:00,2026-11-23T17:30+08:00

* ``role`` is ``counter`` (``counter_code`` = the code of one of the outlet's counters) or
  ``lobby_manager`` (``counter_code`` empty).
* ``starts_at`` / ``ends_at`` are ISO 8601 date and time. With an offset (``+08:00``, ``Z``) the
  instant is taken as given; WITHOUT an offset the time is local time in the OUTLET's time zone
  (``outlets.timezone``, e.g. Asia/Shanghai). Local times skipped or repeated by a daylight-saving
  change are errors: give an offset for those. A shift lasts at most 16 h.
* At most 20,000 data rows and 5 MiB. Blank lines are skipped; rows are numbered as a
  spreadsheet shows them (the header is row 1).
* All or nothing: if any row has an error, no row is stored and the report lists the errors
  (row, column, message). Overlaps between rows of the file and with stored shifts are errors;
  shared counters are warnings. With ``dry_run`` nothing is stored even when the file is valid.
"""

from __future__ import annotations

import bisect
import csv
import heapq
import io
import re
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from difflib import get_close_matches
from itertools import islice
from typing import cast
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from audit_service.authz import Principal
from audit_service.core.errors import Conflict, InvalidInput, NotFound
from audit_service.models import Counter, Outlet, Shift, ShiftRole, Staff, StaffAssignment
from audit_service.performance.staleness import mark_stale
from audit_service.roster import repository as repo
from audit_service.roster.schemas import (
    MAX_SHIFT,
    CounterConflict,
    ImportIssue,
    RosterImportReport,
    ShiftCreate,
    ShiftRead,
    time_in_range,
)
from audit_service.staff import repository as staff_repo

COLUMNS = ("employee_no", "outlet_code", "counter_code", "role", "starts_at", "ends_at")
HEADER = ",".join(COLUMNS)
MAX_ROWS = 20_000
MAX_BYTES = 5 * 1024 * 1024
MAX_ERRORS_LISTED = 1000
MAX_WARNINGS_LISTED = 1000
MAX_VALUE = 64  # longest value any column legitimately holds
MAX_CONFLICT_RANGE = timedelta(days=93)
EXCEL_HINT = "in Excel use Save As → 'CSV UTF-8 (Comma delimited) (*.csv)'"


# ---------------------------------------------------------------- helpers


def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ValueError, KeyError):
        return None


def _span(start: datetime, end: datetime, tz: str) -> str:
    """``2026-11-20 09:00–17:00 (+08:00)``, in the outlet's local time."""
    zone = _zone(tz) or ZoneInfo("UTC")
    a, b = start.astimezone(zone), end.astimezone(zone)
    offset = a.strftime("%z")
    offset = f"{offset[:3]}:{offset[3:]}" if offset else "UTC"
    tail = b.strftime("%H:%M") if a.date() == b.date() else b.strftime("%Y-%m-%d %H:%M")
    return f"{a:%Y-%m-%d %H:%M}–{tail} ({offset})"


def _clip(value: str, size: int = 40) -> str:
    return value if len(value) <= size else value[: size - 1] + "…"


def _local_days(start: datetime, end: datetime, tz: str) -> list[date]:
    """The outlet-local dates a shift touches at its start and at its (exclusive) end."""
    zone = _zone(tz) or ZoneInfo("UTC")
    first = start.astimezone(zone).date()
    last = (end - timedelta(microseconds=1)).astimezone(zone).date()
    return [first] if first == last else [first, last]


def _reachable(principal: Principal | None, staff: Staff, history: list[StaffAssignment]) -> bool:
    """Whether the caller may roster this person at all (else they are 'not found')."""
    if principal is None or principal.outlet_ids is None:
        return True
    if principal.is_staff_only:
        return staff.id == principal.staff_id
    return principal.sees_outlet(staff.outlet_id) or any(
        principal.sees_outlet(a.outlet_id) for a in history
    )


def _placement_problem(
    staff: Staff, history: list[StaffAssignment], outlet: Outlet, start: datetime, end: datetime
) -> str | None:
    for day in _local_days(start, end, outlet.timezone):
        if day < staff.active_from or (staff.active_to is not None and day > staff.active_to):
            until = staff.active_to.isoformat() if staff.active_to else "open-ended"
            return (
                f"employee '{staff.employee_no}' is not employed on {day.isoformat()} "
                f"(active {staff.active_from.isoformat()} to {until})"
            )
        if not staff_repo.covers(history, outlet.id, day):
            return (
                f"employee '{staff.employee_no}' is not assigned to outlet '{outlet.code}' "
                f"on {day.isoformat()} per their outlet history; record a transfer first "
                f"(POST /api/v1/staff/{staff.id}/transfer)"
            )
    return None


# ---------------------------------------------------------------- shifts


def _can_see(principal: Principal, shift: Shift) -> bool:
    if principal.is_staff_only:
        return principal.staff_id is not None and shift.staff_id == principal.staff_id
    return principal.sees_outlet(shift.outlet_id)


def _reads(session: Session, shifts: list[Shift]) -> list[ShiftRead]:
    shared = repo.shared_counter_map(session, shifts)
    return [
        ShiftRead(
            id=s.id,
            staff_id=s.staff_id,
            employee_no=s.staff.employee_no,
            outlet_id=s.outlet_id,
            counter_id=s.counter_id,
            role=s.role,
            starts_at=s.starts_at,
            ends_at=s.ends_at,
            import_batch=s.import_batch,
            shared_counter=bool(shared.get(s.id)),
            shared_counter_with=shared.get(s.id, []),
            created_at=s.created_at,
        )
        for s in shifts
    ]


def _check_window(start: datetime | None, end: datetime | None) -> None:
    for name, value in (("start", start), ("end", end)):
        if value is None:
            continue
        if value.tzinfo is None:
            raise InvalidInput(
                f"{name}: give a time zone, e.g. 2026-11-20T00:00:00+08:00", field=name
            )
        try:
            time_in_range(value)
        except ValueError as exc:
            raise InvalidInput(f"{name}: {exc}", field=name) from None
    if start is not None and end is not None and end <= start:
        raise InvalidInput("end must be after start", field="end")


def list_shifts(
    session: Session,
    principal: Principal,
    *,
    outlet_id: int | None = None,
    staff_id: int | None = None,
    counter_id: int | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    limit: int = 500,
    offset: int = 0,
) -> list[ShiftRead]:
    _check_window(start, end)
    shifts = repo.list_shifts(
        session,
        principal,
        outlet_id=outlet_id,
        staff_id=staff_id,
        counter_id=counter_id,
        start=start,
        end=end,
        limit=limit,
        offset=offset,
    )
    return _reads(session, shifts)


def _get(session: Session, principal: Principal, shift_id: int) -> Shift:
    shift = session.get(Shift, shift_id)
    if shift is None or not _can_see(principal, shift):
        raise NotFound("shift", shift_id)
    return shift


def get_shift(session: Session, principal: Principal, shift_id: int) -> ShiftRead:
    return _reads(session, [_get(session, principal, shift_id)])[0]


def create_shift(session: Session, principal: Principal, data: ShiftCreate) -> ShiftRead:
    outlet = session.get(Outlet, data.outlet_id)
    if outlet is None:
        raise NotFound("outlet", data.outlet_id)
    principal.check_outlet(outlet.id, "outlet", data.outlet_id)
    counter = None
    if data.counter_id is not None:
        counter = session.get(Counter, data.counter_id)
        if counter is None or counter.outlet_id != outlet.id:
            raise InvalidInput(
                f"counter_id: counter {data.counter_id} not found in outlet "
                f"'{outlet.code}'; give one of that outlet's counters",
                field="counter_id",
            )
        if not counter.active:
            raise InvalidInput(
                f"counter_id: counter '{counter.code}' of outlet '{outlet.code}' "
                "is inactive; activate it or pick another",
                field="counter_id",
            )
    # Locked until commit (PostgreSQL), so two concurrent writers cannot double-book a person.
    staff = staff_repo.lock_staff(session, data.staff_id)
    history = staff_repo.assignments(session, staff.id) if staff else []
    if staff is None or not _reachable(principal, staff, history):
        raise InvalidInput(f"staff_id: staff {data.staff_id} not found", field="staff_id")
    problem = _placement_problem(staff, history, outlet, data.starts_at, data.ends_at)
    if problem:
        raise InvalidInput(f"staff_id: {problem}", field="staff_id")
    clashes = repo.staff_shifts_overlapping(session, [staff.id], data.starts_at, data.ends_at)
    if clashes:
        other = clashes[0]
        mine = _span(data.starts_at, data.ends_at, outlet.timezone)
        theirs = _span(other.starts_at, other.ends_at, other.outlet.timezone)
        raise Conflict(
            f"the new shift of employee '{staff.employee_no}' ({mine} at outlet "
            f"'{outlet.code}') overlaps their shift {other.id} ({theirs}); one person cannot be "
            "on two shifts at once - change the times or delete the other shift",
            extra={"conflicting_shift_ids": [c.id for c in clashes]},
        )
    shift = Shift(
        staff_id=staff.id,
        outlet_id=outlet.id,
        counter_id=data.counter_id,
        role=data.role,
        starts_at=data.starts_at,
        ends_at=data.ends_at,
    )
    session.add(shift)
    session.flush()
    mark_stale(session, shift.starts_at, shift.ends_at)
    return _reads(session, [shift])[0]


def delete_shift(session: Session, principal: Principal, shift_id: int) -> None:
    shift = _get(session, principal, shift_id)
    mark_stale(session, shift.starts_at, shift.ends_at)
    session.delete(shift)
    session.flush()


def conflicts(
    session: Session, principal: Principal, *, outlet_id: int, start: datetime, end: datetime
) -> list[CounterConflict]:
    """Periods in [start, end) during which two or more people are on one counter."""
    _check_window(start, end)
    if end - start > MAX_CONFLICT_RANGE:
        raise InvalidInput(
            f"end: ask for at most {MAX_CONFLICT_RANGE.days} days at a time", field="end"
        )
    outlet = session.get(Outlet, outlet_id)
    if outlet is None:
        raise NotFound("outlet", outlet_id)
    principal.check_outlet(outlet.id, "outlet", outlet_id)
    shifts = list(
        session.scalars(
            repo.overlapping(
                select(Shift).where(Shift.outlet_id == outlet.id, Shift.counter_id.is_not(None)),
                start,
                end,
            )
        )
    )
    codes = {c.id: c.code for c in outlet.counters}
    by_counter: dict[int, list[Shift]] = defaultdict(list)
    for s in shifts:
        by_counter[s.counter_id].append(s)  # type: ignore[index]
    found: list[CounterConflict] = []
    for counter_id, items in by_counter.items():
        # Ends sort before starts at the same instant: back-to-back is not double-staffed.
        events = sorted(
            [(s.starts_at, 1, s) for s in items] + [(s.ends_at, 0, s) for s in items],
            key=lambda e: (e[0], e[1], e[2].id),
        )
        active: dict[int, Shift] = {}
        opened: datetime | None = None
        members: dict[int, Shift] = {}
        for at, is_start, shift in events:
            if is_start:
                active[shift.id] = shift
                if len(active) >= 2:
                    if opened is None:
                        opened, members = at, dict(active)
                    else:
                        members[shift.id] = shift
            else:
                active.pop(shift.id, None)
                if opened is not None and len(active) < 2:
                    found.append(
                        CounterConflict(
                            counter_id=counter_id,
                            counter_code=codes.get(counter_id, ""),
                            starts_at=opened,
                            ends_at=at,
                            shift_ids=sorted(members),
                            staff_ids=sorted({m.staff_id for m in members.values()}),
                        )
                    )
                    opened, members = None, {}
    if principal.is_staff_only:
        own = {s.id for s in shifts if s.staff_id == principal.staff_id}
        found = [c for c in found if own.intersection(c.shift_ids)]
    return sorted(found, key=lambda c: (c.starts_at, c.counter_code))


# ---------------------------------------------------------------- CSV import


@dataclass
class _Row:
    row: int
    values: dict[str, str]
    staff: Staff | None = None
    outlet: Outlet | None = None
    counter: Counter | None = None
    role: ShiftRole | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    times_ok: bool = False
    shared: list[str] = field(default_factory=list)
    shared_more: bool = False


class _Issues:
    def __init__(self) -> None:
        self.errors: list[ImportIssue] = []
        self.warnings: list[ImportIssue] = []

    def error(self, row: int | None, column: str | None, message: str) -> None:
        self.errors.append(ImportIssue(row=row, column=column, message=message))

    def warn(self, row: int | None, column: str | None, message: str) -> None:
        self.warnings.append(ImportIssue(row=row, column=column, message=message))


def _order(issue: ImportIssue) -> tuple[int, int]:
    col = COLUMNS.index(issue.column) + 1 if issue.column in COLUMNS else 0
    return (issue.row or 0, col)


def _report(
    issues: _Issues, *, dry_run: bool, rows: int, imported: int = 0, batch_id: str | None = None
) -> RosterImportReport:
    errors = sorted(issues.errors, key=_order)
    warnings = sorted(issues.warnings, key=_order)
    return RosterImportReport(
        ok=not errors,
        dry_run=dry_run,
        rows=rows,
        imported=imported,
        batch_id=batch_id,
        errors=errors[:MAX_ERRORS_LISTED],
        errors_total=len(errors),
        warnings=warnings[:MAX_WARNINGS_LISTED],
    )


def file_error(message: str, *, dry_run: bool) -> RosterImportReport:
    issues = _Issues()
    issues.error(None, None, message)
    return _report(issues, dry_run=dry_run, rows=0)


def _blank(record: list[str]) -> bool:
    return all(not v.strip() for v in record)


def _read_header(record: list[str], row: int, issues: _Issues) -> dict[str, int] | None:
    """Column name → position, or None after reporting what is wrong with the header."""
    if len(record) == 1:
        for delim, label in ((";", "semicolons (;)"), ("\t", "tabs"), ("|", "bars (|)")):
            if delim in record[0]:
                issues.error(
                    row,
                    None,
                    (
                        f"the header is a single column '{_clip(record[0], 80)}': the file "
                        f"separates values with {label}, not commas; save it comma-separated "
                        f"({EXCEL_HINT}) so the header reads {HEADER}"
                    ),
                )
                return None
    index: dict[str, int] = {}
    bad = False
    for pos, raw in enumerate(record):
        name = raw.strip().lstrip("\ufeff").lower()
        if not name:
            issues.error(
                row,
                None,
                f"header column {pos + 1} has no name; remove the extra "
                f"comma or name it (the header is {HEADER})",
            )
            bad = True
        elif name in index:
            issues.error(
                row,
                name,
                f"column '{name}' appears twice in the header (columns "
                f"{index[name] + 1} and {pos + 1}); keep one",
            )
            bad = True
        elif name not in COLUMNS:
            hint = get_close_matches(name, COLUMNS, n=1)
            fix = f"did you mean '{hint[0]}'?" if hint else f"the columns are {HEADER}"
            issues.error(
                row,
                _clip(raw.strip()),
                f"unknown column '{_clip(raw.strip())}'; {fix} (rename or remove it)",
            )
            bad = True
        else:
            index[name] = pos
    for col in COLUMNS:
        if col not in index:
            issues.error(
                row,
                col,
                f"missing column '{col}'; add it to the header (the header "
                f"must name all of {HEADER})",
            )
            bad = True
    return None if bad else index


def _read_rows(csv_text: str, issues: _Issues) -> tuple[list[_Row], int]:
    """The data rows, and how many there were; reports file-level problems."""
    text = csv_text.removeprefix("\ufeff")
    if "\x00" in text:
        issues.error(None, None, f"the file contains NUL bytes: it is not a text CSV; {EXCEL_HINT}")
        return [], 0
    if not text.strip():
        issues.error(1, None, f"the file is empty; the first row must be the header {HEADER}")
        return [], 0
    reader = csv.reader(io.StringIO(text, newline=""))
    index: dict[str, int] | None = None
    width = 0
    row_no = 0
    rows: list[_Row] = []
    count = 0
    try:
        for record in reader:
            row_no += 1
            if _blank(record):
                continue
            if index is None:
                index = _read_header(record, row_no, issues)
                if index is None:
                    return [], 0
                width = len(record)
                continue
            count += 1
            if count > MAX_ROWS:
                issues.error(
                    None,
                    None,
                    f"too many rows: more than {MAX_ROWS} data rows; split "
                    f"the file into parts of at most {MAX_ROWS} rows",
                )
                return [], count
            if len(record) > width and _blank(record[width:]):
                record = record[:width]  # trailing empty cells, as spreadsheets write them
            if len(record) != width:
                fix = (
                    "a value that contains a comma must be in double quotes"
                    if len(record) > width
                    else "leave an unknown value empty but keep its comma"
                )
                issues.error(
                    row_no,
                    None,
                    f"the row has {len(record)} values but the header has {width}; {fix}",
                )
                continue
            rows.append(_Row(row=row_no, values={c: record[i].strip() for c, i in index.items()}))
    except csv.Error as exc:
        issues.error(
            row_no + 1,
            None,
            f"unreadable CSV at row {row_no + 1} ({exc}); check that "
            "quotes are paired and values are separated by commas",
        )
        return [], count
    if index is None:
        issues.error(1, None, f"the file is empty; the first row must be the header {HEADER}")
    elif count == 0:
        issues.error(None, None, "the file has a header but no data rows; add one row per shift")
    return rows, count


_HAS_TIME = re.compile(r"\d[Tt ]\d")
_EXAMPLE = "e.g. 2026-11-23T09:00 (outlet time) or 2026-11-23T09:00+08:00"


def _tz(r: _Row) -> str:
    return r.outlet.timezone if r.outlet is not None else "UTC"


def _parse_time(r: _Row, column: str, issues: _Issues) -> datetime | None:
    raw = r.values[column]
    if not raw:
        issues.error(r.row, column, f"{column} is empty; give a date and time, {_EXAMPLE}")
        return None
    try:
        if len(raw) > MAX_VALUE:
            raise ValueError(raw)
        value = datetime.fromisoformat(raw)
    except ValueError:
        issues.error(
            r.row,
            column,
            f"{column} '{_clip(raw)}' is not an ISO 8601 date and time; write it as {_EXAMPLE}",
        )
        return None
    if not _HAS_TIME.search(raw):
        issues.error(r.row, column, f"{column} '{raw}' has no time of day; write it as {_EXAMPLE}")
        return None
    try:
        time_in_range(value)
    except ValueError as exc:
        issues.error(r.row, column, f"{column}: {exc}")
        return None
    if value.tzinfo is not None:
        return value
    if r.outlet is None:
        return None  # the outlet's error is reported; its time zone is unknown
    zone = _zone(r.outlet.timezone)
    if zone is None:
        issues.error(
            r.row,
            column,
            f"outlet '{r.outlet.code}' has an unknown time zone "
            f"'{r.outlet.timezone}'; give the time with an offset",
        )
        return None
    local = value.replace(tzinfo=zone)
    if local.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != value:
        issues.error(
            r.row,
            column,
            f"{column} {raw} does not exist in {r.outlet.timezone} "
            "(skipped by a daylight-saving change); give an offset",
        )
        return None
    if value.replace(tzinfo=zone, fold=1).utcoffset() != local.utcoffset():
        issues.error(
            r.row,
            column,
            f"{column} {raw} happens twice in {r.outlet.timezone} "
            "(daylight-saving change); give an offset to say which",
        )
        return None
    return local


def _check_row(
    r: _Row,
    principal: Principal | None,
    staff_by_no: dict[str, Staff],
    outlets: dict[str, Outlet],
    counters: dict[tuple[int, str], Counter],
    history: dict[int, list[StaffAssignment]],
    issues: _Issues,
) -> None:
    v = r.values
    too_long = {
        c for c in ("employee_no", "outlet_code", "counter_code", "role") if len(v[c]) > MAX_VALUE
    }
    for column in sorted(too_long):
        issues.error(r.row, column, f"{column} is longer than {MAX_VALUE} characters")
    if too_long:
        return

    if not v["employee_no"]:
        issues.error(r.row, "employee_no", "employee_no is empty; give the employee number")
    else:
        r.staff = staff_by_no.get(v["employee_no"])
        if r.staff is None:
            issues.error(r.row, "employee_no", f"employee '{v['employee_no']}' not found")

    if not v["outlet_code"]:
        issues.error(r.row, "outlet_code", "outlet_code is empty; give the outlet's code")
    else:
        outlet = outlets.get(v["outlet_code"])
        if outlet is None or (principal is not None and not principal.sees_outlet(outlet.id)):
            issues.error(r.row, "outlet_code", f"outlet '{v['outlet_code']}' not found")
        else:
            r.outlet = outlet

    try:
        r.role = ShiftRole(v["role"].lower())
    except ValueError:
        got = f"'{v['role']}' is not a role" if v["role"] else "role is empty"
        issues.error(r.row, "role", f"{got}; use 'counter' or 'lobby_manager'")

    code = v["counter_code"]
    if r.role is ShiftRole.counter:
        if not code:
            issues.error(
                r.row,
                "counter_code",
                "counter_code is empty; a 'counter' shift needs "
                "the counter's code (or use role lobby_manager)",
            )
        elif r.outlet is not None:
            r.counter = counters.get((r.outlet.id, code))
            if r.counter is None:
                issues.error(
                    r.row, "counter_code", f"counter '{code}' not found in outlet '{r.outlet.code}'"
                )
            elif not r.counter.active:
                issues.error(
                    r.row,
                    "counter_code",
                    f"counter '{code}' of outlet '{r.outlet.code}' is inactive",
                )
                r.counter = None
    elif r.role is ShiftRole.lobby_manager and code:
        issues.error(
            r.row,
            "counter_code",
            f"counter_code must be empty for a lobby_manager shift (found '{code}')",
        )

    r.starts_at = _parse_time(r, "starts_at", issues)
    r.ends_at = _parse_time(r, "ends_at", issues)
    if r.starts_at is None or r.ends_at is None:
        return
    if r.ends_at <= r.starts_at:
        issues.error(
            r.row, "ends_at", f"ends_at ({v['ends_at']}) must be after starts_at ({v['starts_at']})"
        )
        return
    if r.ends_at - r.starts_at > MAX_SHIFT:
        hours = (r.ends_at - r.starts_at).total_seconds() / 3600
        issues.error(
            r.row,
            "ends_at",
            f"the shift lasts {hours:.1f} h; at most "
            f"{MAX_SHIFT.total_seconds() / 3600:.0f} h are allowed - "
            "split it into several rows",
        )
        return
    r.times_ok = True
    if r.staff is None or r.outlet is None:
        return
    past = history.get(r.staff.id, [])
    if not _reachable(principal, r.staff, past):
        issues.error(r.row, "employee_no", f"employee '{v['employee_no']}' not found")
        r.staff = None
        return
    problem = _placement_problem(r.staff, past, r.outlet, r.starts_at, r.ends_at)
    if problem:
        issues.error(r.row, "employee_no", problem)


def _check_overlaps(
    session: Session, principal: Principal | None, rows: list[_Row], issues: _Issues
) -> None:
    """One person, two shifts at once: between rows of the file and against stored shifts."""
    timed = [r for r in rows if r.times_ok and r.staff is not None]
    if not timed:
        return
    by_staff: dict[int, list[_Row]] = defaultdict(list)
    for r in timed:
        by_staff[r.staff.id].append(r)  # type: ignore[union-attr]
    for group in by_staff.values():
        group.sort(key=lambda r: (r.starts_at, r.row))
        latest: _Row | None = None
        for r in group:
            if latest is not None and latest.ends_at > r.starts_at:  # type: ignore[operator]
                same = (latest.starts_at, latest.ends_at) == (r.starts_at, r.ends_at)
                what = "the same times as" if same else "a time that overlaps"
                span = _span(latest.starts_at, latest.ends_at, _tz(latest))  # type: ignore[arg-type]
                issues.error(
                    r.row,
                    "starts_at",
                    (
                        f"employee '{r.values['employee_no']}' has {what} row {latest.row} of this "
                        f"file ({span}); one person cannot be on two shifts at once"
                    ),
                )
            if latest is None or r.ends_at > latest.ends_at:  # type: ignore[operator]
                latest = r

    lo = cast(datetime, min(r.starts_at for r in timed))  # type: ignore[type-var]
    hi = cast(datetime, max(r.ends_at for r in timed))  # type: ignore[type-var]
    stored: dict[int, list[Shift]] = defaultdict(list)
    for s in repo.staff_shifts_overlapping(session, by_staff, lo, hi):
        stored[s.staff_id].append(s)
    for staff_id, group in by_staff.items():
        mine = stored.get(staff_id)
        if not mine:
            continue
        starts: list[datetime] = [s.starts_at for s in mine]
        for r in group:
            # Stored shifts of one person do not overlap, so their ends rise with their starts.
            j = bisect.bisect_left(starts, cast(datetime, r.ends_at)) - 1
            hits: list[Shift] = []
            while j >= 0 and mine[j].ends_at > r.starts_at:  # type: ignore[operator]
                hits.append(mine[j])
                j -= 1
            if not hits:
                continue
            s = hits[-1]
            where = (
                f" at outlet '{s.outlet.code}'"
                if principal is None or principal.sees_outlet(s.outlet_id)
                else ""
            )
            span = _span(s.starts_at, s.ends_at, s.outlet.timezone)
            counter_id = r.counter.id if r.counter else None
            outlet_id = r.outlet.id if r.outlet else None
            if (s.starts_at, s.ends_at, s.outlet_id, s.counter_id) == (
                r.starts_at,
                r.ends_at,
                outlet_id,
                counter_id,
            ):
                msg = (
                    f"this shift is already stored (shift {s.id}, {span}{where}); was the file "
                    "imported before? Remove the row or delete the stored shift"
                )
            else:
                more = f" and {len(hits) - 1} more" if len(hits) > 1 else ""
                msg = (
                    f"employee '{r.values['employee_no']}' already has stored shift {s.id} "
                    f"({span}{where}){more} overlapping this one; one person cannot be on two "
                    "shifts at once - fix the times or delete the stored shift"
                )
            issues.error(r.row, "starts_at", msg)


def _flag_shared_counters(session: Session, rows: list[_Row], issues: _Issues) -> None:
    """Warn (not fail) when two people are on one counter at once."""
    timed = [r for r in rows if r.times_ok and r.counter is not None and r.staff is not None]
    if not timed:
        return
    lo = cast(datetime, min(r.starts_at for r in timed))  # type: ignore[type-var]
    hi = cast(datetime, max(r.ends_at for r in timed))  # type: ignore[type-var]
    per_counter: dict[int, list[tuple[datetime, datetime, int, str, _Row | None]]]
    per_counter = defaultdict(list)
    for r in timed:
        per_counter[r.counter.id].append(  # type: ignore[union-attr]
            (
                r.starts_at,
                r.ends_at,
                r.staff.id,  # type: ignore[arg-type, union-attr]
                f"'{r.values['employee_no']}' (row {r.row})",
                r,
            )
        )
    for s in repo.counter_shifts_overlapping(session, per_counter, lo, hi):
        per_counter[s.counter_id].append(  # type: ignore[index]
            (
                s.starts_at,
                s.ends_at,
                s.staff_id,
                f"'{s.staff.employee_no}' (stored shift {s.id})",
                None,
            )
        )

    def note(row: _Row, other: str) -> None:
        if len(row.shared) < 5:
            row.shared.append(other)
        else:
            row.shared_more = True

    for items in per_counter.values():
        items.sort(key=lambda i: (i[0], i[3]))
        heap: list[tuple[datetime, int, tuple]] = []  # type: ignore[type-arg]
        for seq, item in enumerate(items):
            start, end, staff_id, label, row = item
            while heap and heap[0][0] <= start:
                heapq.heappop(heap)
            # Bounded look at who is on the counter: enough to name them, never quadratic.
            for _, _, other in islice(heap, 50):
                _, _, o_staff, o_label, o_row = other
                if o_staff == staff_id:
                    continue
                if row is not None:
                    note(row, o_label)
                if o_row is not None:
                    note(o_row, label)
            heapq.heappush(heap, (end, seq, item))
    for r in timed:
        if r.shared:
            more = " and others" if r.shared_more else ""
            issues.warn(
                r.row,
                "counter_code",
                (
                    f"counter '{r.counter.code}' of outlet '{r.outlet.code}' is also staffed by "  # type: ignore[union-attr]
                    f"{', '.join(r.shared)}{more} at an overlapping time: allowed, flagged as a "
                    "shared counter"
                ),
            )


def import_roster_csv(
    session: Session, principal: Principal | None, csv_text: str, *, dry_run: bool, now: datetime
) -> RosterImportReport:
    """Check every row of a roster CSV and store all of them, or none (see the module doc).

    ``principal`` None means the CLI or an admin: every outlet is in scope.
    """
    issues = _Issues()
    size = len(csv_text.encode("utf-8", errors="surrogatepass"))
    if size > MAX_BYTES:
        return file_error(
            f"the file is too large ({size} bytes; the limit is {MAX_BYTES} "
            "bytes = 5 MiB); split it into several files",
            dry_run=dry_run,
        )
    rows, count = _read_rows(csv_text, issues)
    if issues.errors and not rows:
        return _report(issues, dry_run=dry_run, rows=count)

    numbers = [r.values["employee_no"] for r in rows if r.values["employee_no"]]
    # Rows locked until commit (PostgreSQL): concurrent writers cannot double-book these people.
    staff_by_no = staff_repo.staff_by_employee_nos(session, numbers, lock=not dry_run)
    outlets = repo.outlets_by_codes(session, [r.values["outlet_code"] for r in rows])
    counters = repo.counters_of(session, [o.id for o in outlets.values()])
    history = staff_repo.assignments_of(session, [s.id for s in staff_by_no.values()])
    for r in rows:
        _check_row(r, principal, staff_by_no, outlets, counters, history, issues)
    _check_overlaps(session, principal, rows, issues)
    _flag_shared_counters(session, rows, issues)
    for r in rows:
        if r.times_ok and r.starts_at < now:  # type: ignore[operator]
            issues.warn(
                r.row,
                "starts_at",
                f"the shift starts in the past (now is "
                f"{now.isoformat(timespec='minutes')}); check the date",
            )

    if issues.errors or dry_run:
        return _report(issues, dry_run=dry_run, rows=count)
    batch = str(uuid.uuid4())
    # One bulk INSERT (executemany): thousands of rows without building ORM objects.
    session.execute(
        insert(Shift),
        [
            {
                "staff_id": r.staff.id,
                "outlet_id": r.outlet.id,  # type: ignore[union-attr]
                "counter_id": r.counter.id if r.counter else None,
                "role": r.role,
                "starts_at": r.starts_at,
                "ends_at": r.ends_at,
                "import_batch": batch,
                "created_at": now,
                "updated_at": now,
            }
            for r in rows
        ],
    )
    session.flush()
    if rows:
        mark_stale(
            session,
            min(r.starts_at for r in rows),  # type: ignore[type-var]
            max(r.ends_at for r in rows),  # type: ignore[type-var]
        )
    return _report(issues, dry_run=False, rows=count, imported=len(rows), batch_id=batch)


def import_roster_upload(
    session: Session, principal: Principal | None, data: bytes, *, dry_run: bool, now: datetime
) -> RosterImportReport:
    """An uploaded file: size and encoding are checked before the rows are."""
    if len(data) > MAX_BYTES:
        return file_error(
            f"the file is too large (more than {MAX_BYTES} bytes = 5 MiB); split "
            "it into several files",
            dry_run=dry_run,
        )
    if data.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
        return file_error(
            f"this is an Excel workbook, not a CSV file; {EXCEL_HINT}", dry_run=dry_run
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return file_error(
            f"the file is not UTF-8 text (byte 0x{data[exc.start]:02x} at position {exc.start}); "
            f"{EXCEL_HINT}, or convert it (e.g. iconv -f GB18030 -t UTF-8)",
            dry_run=dry_run,
        )
    return import_roster_csv(session, principal, text, dry_run=dry_run, now=now)
