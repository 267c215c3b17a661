"""Staff records, their team leads and outlet history (transfers)."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Query, status

from audit_service.authz import Permission
from audit_service.core.types import MAX_ID, IdPath
from audit_service.deps import Requires, SessionDep
from audit_service.models.staff import StaffRole
from audit_service.staff import service
from audit_service.staff.schemas import (
    AssignmentRead,
    StaffCreate,
    StaffRead,
    StaffUpdate,
    TransferCreate,
    TransferRead,
)

router = APIRouter(prefix="/staff", tags=["staff"])

Reader = Requires(Permission.staff_read)
Writer = Requires(Permission.staff_write)


@router.get(
    "",
    response_model=list[StaffRead],
    summary="Staff in scope (the staff role sees only its own record)",
)
def list_staff(
    caller: Reader,
    session: SessionDep,
    outlet_id: int | None = Query(None, ge=1, le=MAX_ID, description="Current outlet"),
    role: StaffRole | None = None,
    active_on: date | None = Query(None, description="Employed on this date"),
    q: str | None = Query(None, max_length=100, description="Part of the name or employee no"),
    limit: int = Query(100, ge=1, le=1000),
    offset: int = Query(0, ge=0, le=1_000_000),
) -> list:
    return service.list_staff(
        session,
        caller,
        outlet_id=outlet_id,
        role=role,
        active_on=active_on,
        q=q,
        limit=limit,
        offset=offset,
    )


@router.post(
    "",
    response_model=StaffRead,
    status_code=status.HTTP_201_CREATED,
    summary="Create a staff member (opens the first outlet period)",
)
def create_staff(body: StaffCreate, caller: Writer, session: SessionDep) -> object:
    return service.create_staff(session, caller, body)


@router.get("/{staff_id}", response_model=StaffRead)
def get_staff(staff_id: IdPath, caller: Reader, session: SessionDep) -> object:
    return service.get_staff(session, caller, staff_id)


@router.patch(
    "/{staff_id}",
    response_model=StaffRead,
    summary="Change a staff member (not the outlet: use transfer)",
)
def update_staff(
    staff_id: IdPath, body: StaffUpdate, caller: Writer, session: SessionDep
) -> object:
    return service.update_staff(session, caller, staff_id, body)


@router.post(
    "/{staff_id}/transfer",
    response_model=TransferRead,
    summary="Move to another outlet (or role) from a date, keeping the history",
)
def transfer(
    staff_id: IdPath, body: TransferCreate, caller: Writer, session: SessionDep
) -> TransferRead:
    return service.transfer(session, caller, staff_id, body)


@router.get(
    "/{staff_id}/history",
    response_model=list[AssignmentRead],
    summary="The person's outlet periods, oldest first",
)
def history(staff_id: IdPath, caller: Reader, session: SessionDep) -> list:
    return service.history(session, caller, staff_id)
