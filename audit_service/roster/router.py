"""Shifts, double-staffed counters and the roster CSV import."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, File, Query, UploadFile, status

from audit_service.authz import Permission
from audit_service.core.errors import InvalidInput
from audit_service.core.types import MAX_ID, IdPath
from audit_service.deps import ClockDep, Requires, SessionDep
from audit_service.roster import service
from audit_service.roster.schemas import (
    CounterConflict,
    RosterImportReport,
    ShiftCreate,
    ShiftRead,
)

router = APIRouter(tags=["roster"])

Reader = Requires(Permission.roster_read)
Writer = Requires(Permission.roster_write)

OptionalId = Annotated[int | None, Query(ge=1, le=MAX_ID)]


@router.get(
    "/shifts",
    response_model=list[ShiftRead],
    summary="Shifts in scope that overlap [start, end) (staff role: own shifts only)",
)
def list_shifts(
    caller: Reader,
    session: SessionDep,
    outlet_id: OptionalId = None,
    staff_id: OptionalId = None,
    counter_id: OptionalId = None,
    start: datetime | None = Query(None, description="With an offset; shifts ending after it"),
    end: datetime | None = Query(None, description="With an offset; shifts starting before it"),
    limit: int = Query(500, ge=1, le=5000),
    offset: int = Query(0, ge=0, le=1_000_000),
) -> list[ShiftRead]:
    return service.list_shifts(
        session,
        caller,
        outlet_id=outlet_id,
        staff_id=staff_id,
        counter_id=counter_id,
        start=start,
        end=end,
        limit=limit,
        offset=offset,
    )


@router.post(
    "/shifts",
    response_model=ShiftRead,
    status_code=status.HTTP_201_CREATED,
    responses={409: {"description": "the person already has an overlapping shift"}},
)
def create_shift(body: ShiftCreate, caller: Writer, session: SessionDep) -> ShiftRead:
    return service.create_shift(session, caller, body)


@router.get("/shifts/{shift_id}", response_model=ShiftRead)
def get_shift(shift_id: IdPath, caller: Reader, session: SessionDep) -> ShiftRead:
    return service.get_shift(session, caller, shift_id)


@router.delete("/shifts/{shift_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_shift(shift_id: IdPath, caller: Writer, session: SessionDep) -> None:
    service.delete_shift(session, caller, shift_id)


@router.get(
    "/roster/conflicts",
    response_model=list[CounterConflict],
    summary="Periods when two or more people are on one counter (allowed, flagged)",
)
def conflicts(
    caller: Reader,
    session: SessionDep,
    outlet_id: Annotated[int, Query(ge=1, le=MAX_ID)],
    start: Annotated[datetime, Query(description="With an offset")],
    end: Annotated[datetime, Query(description="With an offset; at most 93 days after start")],
) -> list[CounterConflict]:
    return service.conflicts(session, caller, outlet_id=outlet_id, start=start, end=end)


_IMPORT_DOC = (service.__doc__ or "").split("Roster CSV", 1)[-1]


@router.post(
    "/roster/import",
    response_model=RosterImportReport,
    summary="Import shifts from a CSV file: all rows or none",
    description="Roster CSV" + _IMPORT_DOC,
    responses={
        422: {
            "description": "the file has errors; nothing was stored. The body is "
            "{error, detail} plus the report fields"
        }
    },
)
def import_roster(
    caller: Writer,
    session: SessionDep,
    clock: ClockDep,
    file: Annotated[UploadFile, File(description="The roster CSV (UTF-8)")],
    dry_run: Annotated[bool, Query(description="Check and report only; store nothing")] = False,
) -> RosterImportReport:
    data = file.file.read(service.MAX_BYTES + 1)
    report = service.import_roster_upload(session, caller, data, dry_run=dry_run, now=clock())
    if not report.ok:
        first = report.errors[0] if report.errors else None
        where = ""
        if first is not None and first.row is not None:
            where = f" (first: row {first.row}"
            where += f", column {first.column})" if first.column else ")"
        body: dict[str, Any] = report.model_dump(mode="json")
        raise InvalidInput(
            f"roster import failed with {report.errors_total} error(s){where}; "
            "nothing was imported",
            extra=body,
        )
    return report
