"""Rules for staff: records, team leads (no cycles) and the outlet history (transfers)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from audit_service.authz import Principal
from audit_service.core.errors import Conflict, InvalidInput, NotFound
from audit_service.models import Outlet, Staff, StaffAssignment, StaffRole
from audit_service.performance.staleness import FAR_FUTURE, mark_stale
from audit_service.staff import repository as repo
from audit_service.staff.schemas import (
    AssignmentRead,
    StaffCreate,
    StaffRead,
    StaffUpdate,
    TransferCreate,
    TransferRead,
)


def can_see(principal: Principal, staff: Staff) -> bool:
    if principal.is_staff_only:
        return principal.staff_id is not None and staff.id == principal.staff_id
    return principal.sees_outlet(staff.outlet_id)


def list_staff(
    session: Session,
    principal: Principal,
    *,
    outlet_id: int | None = None,
    role: StaffRole | None = None,
    active_on: date | None = None,
    q: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[Staff]:
    return repo.list_staff(
        session,
        principal,
        outlet_id=outlet_id,
        role=role,
        on=active_on,
        q=q.strip() if q else None,
        limit=limit,
        offset=offset,
    )


def get_staff(session: Session, principal: Principal, staff_id: int) -> Staff:
    """The staff member if the caller may see them (current outlet in scope; staff: self)."""
    staff = session.get(Staff, staff_id)
    if staff is None or not can_see(principal, staff):
        raise NotFound("staff", staff_id)
    return staff


def _outlet_for_write(session: Session, principal: Principal, outlet_id: int) -> Outlet:
    outlet = session.get(Outlet, outlet_id)
    if outlet is None:
        raise NotFound("outlet", outlet_id)
    principal.check_outlet(outlet.id, "outlet", outlet_id)
    return outlet


def _check_team_lead(
    session: Session, principal: Principal, staff: Staff | None, lead_id: int
) -> Staff:
    """The lead must exist (in scope), not be the person, and not close a cycle."""
    if staff is not None and lead_id == staff.id:
        raise InvalidInput(
            "team_lead_id: a person cannot be their own team lead", field="team_lead_id"
        )
    lead = session.get(Staff, lead_id)
    if lead is None or not principal.sees_outlet(lead.outlet_id):
        raise InvalidInput(
            f"team_lead_id: staff {lead_id} not found; give the id of an existing staff member",
            field="team_lead_id",
        )
    if staff is None:  # a new person leads nobody yet, so no cycle is possible
        return lead
    chain = [lead]
    seen = {lead.id}
    node = lead
    while node.team_lead_id is not None:
        if node.team_lead_id == staff.id:
            path = " → ".join(s.employee_no for s in [staff, *chain, staff])
            raise InvalidInput(
                f"team_lead_id: {lead.employee_no} cannot lead {staff.employee_no}, that makes "
                f"a cycle ({path}); change the other team lead first",
                field="team_lead_id",
            )
        if node.team_lead_id in seen:  # an older cycle not involving this person
            break
        seen.add(node.team_lead_id)
        nxt = session.get(Staff, node.team_lead_id)
        if nxt is None:
            break
        chain.append(nxt)
        node = nxt
    return lead


def create_staff(session: Session, principal: Principal, data: StaffCreate) -> Staff:
    outlet = _outlet_for_write(session, principal, data.outlet_id)
    if repo.staff_by_employee_no(session, data.employee_no):
        raise Conflict(f"employee number '{data.employee_no}' already exists")
    if data.team_lead_id is not None:
        _check_team_lead(session, principal, None, data.team_lead_id)
    staff = Staff(
        employee_no=data.employee_no,
        name=data.name,
        role=data.role,
        outlet_id=outlet.id,
        team_lead_id=data.team_lead_id,
        active_from=data.active_from,
        active_to=data.active_to,
    )
    session.add(staff)
    session.flush()
    session.add(
        StaffAssignment(
            staff_id=staff.id, outlet_id=outlet.id, role=data.role, valid_from=data.active_from
        )
    )
    session.flush()
    return staff


def update_staff(session: Session, principal: Principal, staff_id: int, data: StaffUpdate) -> Staff:
    staff = get_staff(session, principal, staff_id)
    fields = data.model_dump(exclude_unset=True, exclude={"outlet_id"})
    if "employee_no" in fields and fields["employee_no"] != staff.employee_no:
        other = repo.staff_by_employee_no(session, fields["employee_no"])
        if other is not None:
            raise Conflict(f"employee number '{fields['employee_no']}' already exists")
    if fields.get("team_lead_id") is not None:
        _check_team_lead(session, principal, staff, fields["team_lead_id"])

    history = repo.assignments(session, staff.id)
    active_from = fields.get("active_from", staff.active_from)
    active_to = fields.get("active_to", staff.active_to)
    if active_to is not None and active_to < active_from:
        raise InvalidInput(
            f"active_to ({active_to.isoformat()}) must be on or after "
            f"active_from ({active_from.isoformat()})",
            field="active_to",
        )
    if "active_from" in fields and history:
        first = history[0]
        if first.valid_to is not None and active_from > first.valid_to:
            raise InvalidInput(
                f"active_from: {active_from.isoformat()} is after the first outlet period ended "
                f"({first.valid_to.isoformat()}); the history must start with the employment",
                field="active_from",
            )
        first.valid_from = active_from
    if active_to is not None and history and active_to < history[-1].valid_from:
        raise InvalidInput(
            f"active_to: {active_to.isoformat()} is before the current outlet period started "
            f"({history[-1].valid_from.isoformat()}); give a later date",
            field="active_to",
        )

    for name, value in fields.items():
        setattr(staff, name, value)
    if "role" in fields and history and history[-1].valid_to is None:
        history[-1].role = fields["role"]  # a correction of the current period
    session.flush()
    return staff


def _assignment_read(a: StaffAssignment, current_id: int | None) -> AssignmentRead:
    return AssignmentRead(
        id=a.id,
        outlet_id=a.outlet_id,
        outlet_code=a.outlet.code,
        role=a.role,
        valid_from=a.valid_from,
        valid_to=a.valid_to,
        current=a.id == current_id,
    )


def history(session: Session, principal: Principal, staff_id: int) -> list[AssignmentRead]:
    staff = get_staff(session, principal, staff_id)
    rows = repo.assignments(session, staff.id)
    current = repo.current_assignment(session, staff.id)
    return [_assignment_read(a, current.id if current else None) for a in rows]


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ValueError, KeyError):
        return ZoneInfo("UTC")


def transfer(
    session: Session, principal: Principal, staff_id: int, data: TransferCreate
) -> TransferRead:
    """Close the current period the day before ``effective`` and open one at the new outlet."""
    staff = get_staff(session, principal, staff_id)
    outlet = _outlet_for_write(session, principal, data.outlet_id)
    role = data.role or staff.role
    effective = data.effective
    if effective < staff.active_from:
        raise InvalidInput(
            f"effective: {effective.isoformat()} is before the person started "
            f"({staff.active_from.isoformat()})",
            field="effective",
        )
    if staff.active_to is not None and effective > staff.active_to:
        raise InvalidInput(
            f"effective: {effective.isoformat()} is after the person's last day "
            f"({staff.active_to.isoformat()}); change active_to first",
            field="effective",
        )
    current = repo.current_assignment(session, staff.id)
    if current is not None:
        if current.outlet_id == outlet.id and current.role == role:
            raise InvalidInput(
                f"outlet_id: {staff.employee_no} is already at outlet "
                f"'{outlet.code}' as {role.value}; nothing to transfer",
                field="outlet_id",
            )
        last_day = current.valid_to
        if effective <= current.valid_from or (last_day is not None and effective <= last_day):
            since = current.valid_from.isoformat()
            raise InvalidInput(
                f"effective: must be after {since} (the start of the current period at outlet "
                f"'{current.outlet.code}'); periods cannot overlap or be rewritten by a transfer",
                field="effective",
            )
        if last_day is None:
            current.valid_to = effective - timedelta(days=1)
    opened = StaffAssignment(
        staff_id=staff.id, outlet_id=outlet.id, role=role, valid_from=effective
    )
    session.add(opened)
    staff.outlet_id = outlet.id
    staff.role = role
    session.flush()
    start = datetime.combine(effective, datetime.min.time(), tzinfo=_zone(outlet.timezone))
    # Where the person is ranked (and who manages an outlet) changes from that day on.
    mark_stale(session, start, FAR_FUTURE)
    elsewhere = repo.shift_ids_from(session, staff.id, start, not_at_outlet=outlet.id)
    return TransferRead(
        **StaffRead.model_validate(staff).model_dump(),
        assignment=_assignment_read(opened, opened.id),
        shifts_elsewhere=elsewhere,
    )
