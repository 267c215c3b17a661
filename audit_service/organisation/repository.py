"""Queries for regions, outlets, counters and opening-hour exceptions, filtered by scope."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from audit_service.authz import Principal
from audit_service.models import Counter, Outlet, OutletHoursException, Region


def in_scope(query: Select, principal: Principal, outlet_column) -> Select:  # type: ignore[type-arg]
    """Restrict any query to the caller's outlets (the one place scope becomes SQL)."""
    if principal.outlet_ids is None:
        return query
    return query.where(outlet_column.in_(principal.outlet_ids))


def list_regions(session: Session, principal: Principal) -> list[Region]:
    q = select(Region).order_by(Region.code)
    if principal.outlet_ids is not None:
        q = q.where(
            Region.id.in_(select(Outlet.region_id).where(Outlet.id.in_(principal.outlet_ids)))
        )
    return list(session.scalars(q))


def region_by_code(session: Session, code: str) -> Region | None:
    return session.scalar(select(Region).where(Region.code == code))


def list_outlets(
    session: Session, principal: Principal, *, region_id: int | None = None
) -> list[Outlet]:
    q = in_scope(select(Outlet).order_by(Outlet.code), principal, Outlet.id)
    if region_id is not None:
        q = q.where(Outlet.region_id == region_id)
    return list(session.scalars(q))


def outlet_by_code(session: Session, code: str) -> Outlet | None:
    return session.scalar(select(Outlet).where(Outlet.code == code))


def counter_by_code(session: Session, outlet_id: int, code: str) -> Counter | None:
    return session.scalar(
        select(Counter).where(Counter.outlet_id == outlet_id, Counter.code == code)
    )


def list_counters(session: Session, outlet_id: int) -> list[Counter]:
    return list(
        session.scalars(
            select(Counter).where(Counter.outlet_id == outlet_id).order_by(Counter.code)
        )
    )


def hours_exception(session: Session, outlet_id: int, day: date) -> OutletHoursException | None:
    return session.scalar(
        select(OutletHoursException).where(
            OutletHoursException.outlet_id == outlet_id, OutletHoursException.day == day
        )
    )


def hours_exceptions(
    session: Session, outlet_id: int, *, start: date | None = None, end: date | None = None
) -> list[OutletHoursException]:
    q = select(OutletHoursException).where(OutletHoursException.outlet_id == outlet_id)
    if start is not None:
        q = q.where(OutletHoursException.day >= start)
    if end is not None:
        q = q.where(OutletHoursException.day <= end)
    return list(session.scalars(q.order_by(OutletHoursException.day)))
