"""Rules for the organisation: regions, outlets with their hours, and counters."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from audit_service.authz import Principal
from audit_service.core.errors import Conflict, InvalidInput, NotFound
from audit_service.models import Counter, Outlet, OutletHoursException, Region
from audit_service.organisation import hours
from audit_service.organisation import repository as repo
from audit_service.organisation.schemas import (
    CounterCreate,
    CounterUpdate,
    HoursExceptionPut,
    OpenStatus,
    OutletCreate,
    OutletUpdate,
    RegionCreate,
    RegionUpdate,
)
from audit_service.performance.staleness import hours_changed

# ---------------------------------------------------------------- regions


def list_regions(session: Session, principal: Principal) -> list[Region]:
    return repo.list_regions(session, principal)


def get_region(session: Session, principal: Principal, region_id: int) -> Region:
    region = session.get(Region, region_id)
    if region is None or region not in repo.list_regions(session, principal):
        raise NotFound("region", region_id)
    return region


def create_region(session: Session, data: RegionCreate) -> Region:
    if repo.region_by_code(session, data.code):
        raise Conflict(f"region code '{data.code}' already exists")
    region = Region(code=data.code, name=data.name)
    session.add(region)
    session.flush()
    return region


def update_region(
    session: Session, principal: Principal, region_id: int, data: RegionUpdate
) -> Region:
    region = get_region(session, principal, region_id)
    if data.name is not None:
        region.name = data.name
    session.flush()
    return region


# ---------------------------------------------------------------- outlets


def list_outlets(
    session: Session, principal: Principal, *, region_id: int | None = None
) -> list[Outlet]:
    return repo.list_outlets(session, principal, region_id=region_id)


def get_outlet(session: Session, principal: Principal, outlet_id: int) -> Outlet:
    outlet = session.get(Outlet, outlet_id)
    if outlet is None:
        raise NotFound("outlet", outlet_id)
    principal.check_outlet(outlet.id, "outlet", outlet_id)
    return outlet


def _region_for_write(session: Session, region_id: int) -> Region:
    region = session.get(Region, region_id)
    if region is None:
        raise InvalidInput(f"region_id: region {region_id} does not exist", field="region_id")
    return region


def create_outlet(session: Session, data: OutletCreate) -> Outlet:
    _region_for_write(session, data.region_id)
    if repo.outlet_by_code(session, data.code):
        raise Conflict(f"outlet code '{data.code}' already exists")
    outlet = Outlet(
        region_id=data.region_id,
        code=data.code,
        name=data.name,
        address=data.address,
        timezone=data.timezone,
        opening_hours=data.opening_hours.to_json(),
    )
    session.add(outlet)
    session.flush()
    hours_changed(session, outlet.id)  # a new outlet has no open intervals yet
    return outlet


def update_outlet(
    session: Session, principal: Principal, outlet_id: int, data: OutletUpdate
) -> Outlet:
    outlet = get_outlet(session, principal, outlet_id)
    fields = data.model_dump(exclude_unset=True, exclude={"opening_hours"})
    if fields.get("region_id") is not None:
        _region_for_write(session, fields["region_id"])
    for name, value in fields.items():
        if value is not None:
            setattr(outlet, name, value)
    if data.opening_hours is not None or "timezone" in fields:
        if data.opening_hours is not None:
            outlet.opening_hours = data.opening_hours.to_json()
        # Rostered open minutes follow the hours; scores already built are out of date.
        hours_changed(session, outlet.id)
    session.flush()
    return outlet


def list_hours_exceptions(
    session: Session, principal: Principal, outlet_id: int, *, start: date | None, end: date | None
) -> list[OutletHoursException]:
    get_outlet(session, principal, outlet_id)
    return repo.hours_exceptions(session, outlet_id, start=start, end=end)


def put_hours_exception(
    session: Session, principal: Principal, outlet_id: int, day: date, data: HoursExceptionPut
) -> OutletHoursException:
    get_outlet(session, principal, outlet_id)
    row = repo.hours_exception(session, outlet_id, day)
    if row is None:
        row = OutletHoursException(outlet_id=outlet_id, day=day)
        session.add(row)
    row.closed = data.closed
    row.intervals = [i.model_dump() for i in data.intervals]
    row.note = data.note
    session.flush()
    _day_changed(session, outlet_id)
    return row


def delete_hours_exception(
    session: Session, principal: Principal, outlet_id: int, day: date
) -> None:
    get_outlet(session, principal, outlet_id)
    row = repo.hours_exception(session, outlet_id, day)
    if row is None:
        raise NotFound("hours exception", f"{outlet_id}/{day.isoformat()}")
    session.delete(row)
    session.flush()
    _day_changed(session, outlet_id)


def _day_changed(session: Session, outlet_id: int) -> None:
    """The hours of one date changed: rostered open minutes follow them."""
    hours_changed(session, outlet_id)


def exceptions_map(rows: list[OutletHoursException]) -> dict[date, list[dict] | None]:
    return {r.day: (None if r.closed else r.intervals) for r in rows}


def open_status(session: Session, principal: Principal, outlet_id: int, at: datetime) -> OpenStatus:
    if at.tzinfo is None:
        raise InvalidInput("at: give a time zone, e.g. 2026-11-20T09:30:00+08:00", field="at")
    outlet = get_outlet(session, principal, outlet_id)
    try:
        local = at.astimezone(ZoneInfo(outlet.timezone))
    except OverflowError as exc:
        # e.g. 9999-12-31T23:00-14:00: the outlet's local time falls off the calendar.
        raise InvalidInput(
            "at: the instant is outside the supported calendar range "
            "(years 1 to 9999 in the outlet's time zone and in UTC)",
            field="at",
        ) from exc
    rows = repo.hours_exceptions(session, outlet.id, start=local.date(), end=local.date())
    is_open = hours.is_open(
        at, timezone=outlet.timezone, weekly=outlet.opening_hours, exceptions=exceptions_map(rows)
    )
    return OpenStatus(outlet_id=outlet.id, at=at, local_time=local.isoformat(), open=is_open)


# ---------------------------------------------------------------- counters


def list_counters(session: Session, principal: Principal, outlet_id: int) -> list[Counter]:
    get_outlet(session, principal, outlet_id)
    return repo.list_counters(session, outlet_id)


def get_counter(session: Session, principal: Principal, counter_id: int) -> Counter:
    counter = session.get(Counter, counter_id)
    if counter is None:
        raise NotFound("counter", counter_id)
    principal.check_outlet(counter.outlet_id, "counter", counter_id)
    return counter


def create_counter(
    session: Session, principal: Principal, outlet_id: int, data: CounterCreate
) -> Counter:
    get_outlet(session, principal, outlet_id)
    if repo.counter_by_code(session, outlet_id, data.code):
        raise Conflict(f"counter code '{data.code}' already exists in outlet {outlet_id}")
    counter = Counter(outlet_id=outlet_id, **data.model_dump())
    session.add(counter)
    session.flush()
    return counter


def update_counter(
    session: Session, principal: Principal, counter_id: int, data: CounterUpdate
) -> Counter:
    counter = get_counter(session, principal, counter_id)
    for name, value in data.model_dump(exclude_unset=True).items():
        if value is not None:
            setattr(counter, name, value)
    session.flush()
    return counter
