"""Queries for staff and their outlet history, filtered by scope."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime

from sqlalchemy import ColumnElement, Select, false, or_, select
from sqlalchemy.orm import Session, selectinload

from audit_service.authz import Principal
from audit_service.models import Shift, Staff, StaffAssignment, StaffRole
from audit_service.organisation.repository import in_scope

CHUNK = 500  # ids per IN (...) so no query grows past what every backend accepts


def chunks(values: Iterable, size: int = CHUNK) -> Iterable[list]:  # type: ignore[type-arg]
    batch: list = []  # type: ignore[type-arg]
    for value in values:
        batch.append(value)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def visible(query: Select, principal: Principal) -> Select:  # type: ignore[type-arg]
    """Staff the caller may read: their own record for the staff role, else their outlets."""
    if principal.is_staff_only:
        if principal.staff_id is None:
            return query.where(false())
        return query.where(Staff.id == principal.staff_id)
    return in_scope(query, principal, Staff.outlet_id)


def active_on(day: date) -> ColumnElement[bool]:
    return (Staff.active_from <= day) & or_(Staff.active_to.is_(None), Staff.active_to >= day)


def list_staff(
    session: Session,
    principal: Principal,
    *,
    outlet_id: int | None,
    role: StaffRole | None,
    on: date | None,
    q: str | None,
    limit: int,
    offset: int,
) -> list[Staff]:
    query = visible(select(Staff), principal)
    if outlet_id is not None:
        query = query.where(Staff.outlet_id == outlet_id)
    if role is not None:
        query = query.where(Staff.role == role)
    if on is not None:
        query = query.where(active_on(on))
    if q:
        query = query.where(
            or_(
                Staff.name.icontains(q, autoescape=True),
                Staff.employee_no.icontains(q, autoescape=True),
            )
        )
    query = query.order_by(Staff.employee_no).limit(limit).offset(offset)
    return list(session.scalars(query))


def staff_by_employee_no(session: Session, employee_no: str) -> Staff | None:
    return session.scalar(select(Staff).where(Staff.employee_no == employee_no))


def staff_by_employee_nos(
    session: Session, numbers: Iterable[str], *, lock: bool = False
) -> dict[str, Staff]:
    """Staff by employee number; ``lock`` takes row locks (PostgreSQL) in a stable order."""
    found: dict[str, Staff] = {}
    for batch in chunks(sorted(set(numbers))):
        query = select(Staff).where(Staff.employee_no.in_(batch)).order_by(Staff.id)
        if lock:
            query = query.with_for_update()
        found.update({s.employee_no: s for s in session.scalars(query)})
    return found


def lock_staff(session: Session, staff_id: int) -> Staff | None:
    """The staff row, locked until commit so two writers cannot double-book one person."""
    return session.get(Staff, staff_id, with_for_update=True)


def assignments(session: Session, staff_id: int) -> list[StaffAssignment]:
    return list(
        session.scalars(
            select(StaffAssignment)
            .options(selectinload(StaffAssignment.outlet))
            .where(StaffAssignment.staff_id == staff_id)
            .order_by(StaffAssignment.valid_from, StaffAssignment.id)
        )
    )


def assignments_of(session: Session, staff_ids: Iterable[int]) -> dict[int, list[StaffAssignment]]:
    out: dict[int, list[StaffAssignment]] = {}
    for batch in chunks(sorted(set(staff_ids))):
        for a in session.scalars(
            select(StaffAssignment)
            .where(StaffAssignment.staff_id.in_(batch))
            .order_by(StaffAssignment.valid_from)
        ):
            out.setdefault(a.staff_id, []).append(a)
    return out


def current_assignment(session: Session, staff_id: int) -> StaffAssignment | None:
    """The open period (``valid_to`` null), else the latest one."""
    rows = assignments(session, staff_id)
    open_rows = [a for a in rows if a.valid_to is None]
    if open_rows:
        return open_rows[-1]
    return rows[-1] if rows else None


def covers(assignments_: Sequence[StaffAssignment], outlet_id: int, day: date) -> bool:
    """Whether the history places the person at the outlet on that date."""
    return any(
        a.outlet_id == outlet_id
        and a.valid_from <= day
        and (a.valid_to is None or a.valid_to >= day)
        for a in assignments_
    )


def shift_ids_from(
    session: Session, staff_id: int, start: datetime, *, not_at_outlet: int
) -> list[int]:
    return list(
        session.scalars(
            select(Shift.id)
            .where(
                Shift.staff_id == staff_id,
                Shift.starts_at >= start,
                Shift.outlet_id != not_at_outlet,
            )
            .order_by(Shift.starts_at)
        )
    )
