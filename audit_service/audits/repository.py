"""Queries for visits, audits and the roster lookups that attribute their items."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session, selectinload

from audit_service.authz import Principal
from audit_service.models import (
    Audit,
    AuditStatus,
    IdempotencyRecord,
    OutletHoursException,
    Shift,
    ShiftRole,
    Staff,
    StaffAssignment,
    StaffRole,
    Visit,
    VisitStatus,
)
from audit_service.organisation.repository import in_scope


def visible_visits(query: Select, principal: Principal) -> Select:  # type: ignore[type-arg]
    """Auditors see the visits assigned to them; everyone else the visits in their outlets."""
    if principal.own_audits_only:
        query = query.where(Visit.auditor_id == principal.user_id)
    return in_scope(query, principal, Visit.outlet_id)


def visible_audits(query: Select, principal: Principal) -> Select:  # type: ignore[type-arg]
    if principal.own_audits_only:
        query = query.where(Audit.auditor_id == principal.user_id)
    return in_scope(query, principal, Audit.outlet_id)


def list_visits(
    session: Session,
    principal: Principal,
    *,
    mine: bool,
    status: VisitStatus | None,
    outlet_id: int | None,
    limit: int,
    offset: int,
) -> list[Visit]:
    query = visible_visits(select(Visit), principal)
    if mine:
        query = query.where(Visit.auditor_id == principal.user_id)
    if status is not None:
        query = query.where(Visit.status == status)
    if outlet_id is not None:
        query = query.where(Visit.outlet_id == outlet_id)
    query = query.order_by(Visit.window_start, Visit.id).limit(limit).offset(offset)
    return list(session.scalars(query.options(selectinload(Visit.audit))))


def visit(session: Session, principal: Principal, visit_id: int) -> Visit | None:
    return session.scalar(visible_visits(select(Visit).where(Visit.id == visit_id), principal))


def visits_of_outlets_since(
    session: Session, outlet_ids: Sequence[int], since: datetime
) -> list[tuple[int, int, datetime]]:
    """(outlet, auditor, when) of visits from ``since``: the lockout's memory."""
    rows = session.execute(
        select(
            Visit.outlet_id,
            Visit.auditor_id,
            func.coalesce(Visit.planned_at, Visit.window_start),
        ).where(
            Visit.outlet_id.in_(list(outlet_ids)),
            Visit.window_end >= since,
            Visit.status != VisitStatus.cancelled,
        )
    )
    return [(o, a, at) for o, a, at in rows]


def list_audits(
    session: Session,
    principal: Principal,
    *,
    outlet_id: int | None,
    status: AuditStatus | None,
    auditor_id: int | None,
    since: datetime | None,
    until: datetime | None,
    limit: int,
    offset: int,
) -> tuple[list[Audit], int]:
    query = visible_audits(select(Audit), principal)
    if outlet_id is not None:
        query = query.where(Audit.outlet_id == outlet_id)
    if status is not None:
        query = query.where(Audit.status == status)
    if auditor_id is not None:
        query = query.where(Audit.auditor_id == auditor_id)
    if since is not None:
        query = query.where(Audit.started_at >= since)
    if until is not None:
        query = query.where(Audit.started_at < until)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    page = query.order_by(Audit.started_at.desc(), Audit.id.desc()).limit(limit).offset(offset)
    return list(session.scalars(page)), total


def audit(session: Session, principal: Principal, audit_id: int) -> Audit | None:
    query = select(Audit).where(Audit.id == audit_id)
    return session.scalar(
        visible_audits(query, principal).options(
            selectinload(Audit.items), selectinload(Audit.events)
        )
    )


def idempotency_record(session: Session, user_id: int, key: object) -> IdempotencyRecord | None:
    return session.scalar(
        select(IdempotencyRecord).where(
            IdempotencyRecord.user_id == user_id, IdempotencyRecord.key == key
        )
    )


# ---------------------------------------------------------------- roster lookups (attribution)


def staff_by_badge(session: Session, outlet_id: int, badge: str, day: date) -> Staff | None:
    """The staff member with this employee number who worked at the outlet on ``day``."""
    staff = session.scalar(select(Staff).where(func.upper(Staff.employee_no) == badge.upper()))
    if staff is None:
        return None
    at_outlet = session.scalar(
        select(func.count())
        .select_from(StaffAssignment)
        .where(
            StaffAssignment.staff_id == staff.id,
            StaffAssignment.outlet_id == outlet_id,
            StaffAssignment.valid_from <= day,
            or_(StaffAssignment.valid_to.is_(None), StaffAssignment.valid_to >= day),
        )
    )
    return staff if at_outlet else None


def shifts_at(
    session: Session, outlet_id: int, at: datetime, role: ShiftRole, counter_id: int | None = None
) -> list[Shift]:
    query = select(Shift).where(
        Shift.outlet_id == outlet_id,
        Shift.role == role,
        Shift.starts_at <= at,
        Shift.ends_at > at,
    )
    if counter_id is not None:
        query = query.where(Shift.counter_id == counter_id)
    return list(session.scalars(query.order_by(Shift.staff_id)))


def outlet_managers(session: Session, outlet_id: int, day: date) -> list[Staff]:
    """Outlet managers assigned to the outlet on ``day`` (by their outlet history)."""
    query = (
        select(Staff)
        .join(StaffAssignment, StaffAssignment.staff_id == Staff.id)
        .where(
            StaffAssignment.outlet_id == outlet_id,
            StaffAssignment.role == StaffRole.outlet_manager,
            StaffAssignment.valid_from <= day,
            or_(StaffAssignment.valid_to.is_(None), StaffAssignment.valid_to >= day),
        )
        .order_by(Staff.id)
    )
    return list(session.scalars(query))


def hours_exceptions(session: Session, outlet_id: int) -> list[OutletHoursException]:
    return list(
        session.scalars(
            select(OutletHoursException).where(OutletHoursException.outlet_id == outlet_id)
        )
    )
