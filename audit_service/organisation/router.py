"""Regions, outlets (with opening hours and exceptions) and counters."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Query, status
from pydantic import AwareDatetime

from audit_service.authz import Permission
from audit_service.core.types import MAX_ID, IdPath
from audit_service.deps import Requires, SessionDep
from audit_service.organisation import service
from audit_service.organisation.schemas import (
    CounterCreate,
    CounterRead,
    CounterUpdate,
    HoursExceptionPut,
    HoursExceptionRead,
    OpenStatus,
    OutletCreate,
    OutletRead,
    OutletUpdate,
    RegionCreate,
    RegionRead,
    RegionUpdate,
)

router = APIRouter(tags=["organisation"])

Reader = Requires(Permission.org_read)
Writer = Requires(Permission.org_write)


@router.get("/regions", response_model=list[RegionRead])
def list_regions(caller: Reader, session: SessionDep) -> list:
    return service.list_regions(session, caller)


@router.post("/regions", response_model=RegionRead, status_code=status.HTTP_201_CREATED)
def create_region(body: RegionCreate, _: Writer, session: SessionDep) -> object:
    return service.create_region(session, body)


@router.get("/regions/{region_id}", response_model=RegionRead)
def get_region(region_id: IdPath, caller: Reader, session: SessionDep) -> object:
    return service.get_region(session, caller, region_id)


@router.patch("/regions/{region_id}", response_model=RegionRead)
def update_region(
    region_id: IdPath, body: RegionUpdate, caller: Writer, session: SessionDep
) -> object:
    return service.update_region(session, caller, region_id, body)


@router.get("/outlets", response_model=list[OutletRead])
def list_outlets(
    caller: Reader, session: SessionDep, region_id: int | None = Query(None, ge=1, le=MAX_ID)
) -> list:
    return service.list_outlets(session, caller, region_id=region_id)


@router.post("/outlets", response_model=OutletRead, status_code=status.HTTP_201_CREATED)
def create_outlet(body: OutletCreate, _: Writer, session: SessionDep) -> object:
    return service.create_outlet(session, body)


@router.get("/outlets/{outlet_id}", response_model=OutletRead)
def get_outlet(outlet_id: IdPath, caller: Reader, session: SessionDep) -> object:
    return service.get_outlet(session, caller, outlet_id)


@router.patch("/outlets/{outlet_id}", response_model=OutletRead)
def update_outlet(
    outlet_id: IdPath, body: OutletUpdate, caller: Writer, session: SessionDep
) -> object:
    return service.update_outlet(session, caller, outlet_id, body)


@router.get(
    "/outlets/{outlet_id}/open",
    response_model=OpenStatus,
    summary="Whether the outlet is open at an instant (its local hours and exceptions)",
)
def open_status(
    outlet_id: IdPath, at: AwareDatetime, caller: Reader, session: SessionDep
) -> OpenStatus:
    return service.open_status(session, caller, outlet_id, at)


@router.get("/outlets/{outlet_id}/hours-exceptions", response_model=list[HoursExceptionRead])
def list_hours_exceptions(
    outlet_id: IdPath,
    caller: Reader,
    session: SessionDep,
    start: date | None = None,
    end: date | None = None,
) -> list:
    return service.list_hours_exceptions(session, caller, outlet_id, start=start, end=end)


@router.put(
    "/outlets/{outlet_id}/hours-exceptions/{day}",
    response_model=HoursExceptionRead,
    summary="Set a holiday or special hours for one local date",
)
def put_hours_exception(
    outlet_id: IdPath, day: date, body: HoursExceptionPut, caller: Writer, session: SessionDep
) -> object:
    return service.put_hours_exception(session, caller, outlet_id, day, body)


@router.delete(
    "/outlets/{outlet_id}/hours-exceptions/{day}", status_code=status.HTTP_204_NO_CONTENT
)
def delete_hours_exception(
    outlet_id: IdPath, day: date, caller: Writer, session: SessionDep
) -> None:
    service.delete_hours_exception(session, caller, outlet_id, day)


@router.get("/outlets/{outlet_id}/counters", response_model=list[CounterRead])
def list_counters(outlet_id: IdPath, caller: Reader, session: SessionDep) -> list:
    return service.list_counters(session, caller, outlet_id)


@router.post(
    "/outlets/{outlet_id}/counters", response_model=CounterRead, status_code=status.HTTP_201_CREATED
)
def create_counter(
    outlet_id: IdPath, body: CounterCreate, caller: Writer, session: SessionDep
) -> object:
    return service.create_counter(session, caller, outlet_id, body)


@router.get("/counters/{counter_id}", response_model=CounterRead)
def get_counter(counter_id: IdPath, caller: Reader, session: SessionDep) -> object:
    return service.get_counter(session, caller, counter_id)


@router.patch("/counters/{counter_id}", response_model=CounterRead)
def update_counter(
    counter_id: IdPath, body: CounterUpdate, caller: Writer, session: SessionDep
) -> object:
    return service.update_counter(session, caller, counter_id, body)
