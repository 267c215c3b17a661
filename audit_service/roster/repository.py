"""Queries for shifts, filtered by scope, and the look-ups a roster import needs in bulk."""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Select, false, select
from sqlalchemy.orm import Session, selectinload

from audit_service.authz import Principal
from audit_service.models import Counter, Outlet, Shift
from audit_service.organisation.repository import in_scope
from audit_service.staff.repository import chunks


def visible(query: Select, principal: Principal) -> Select:  # type: ignore[type-arg]
    """Shifts the caller may read: their own for the staff role, else their outlets'."""
    if principal.is_staff_only:
        if principal.staff_id is None:
            return query.where(false())
        return query.where(Shift.staff_id == principal.staff_id)
    return in_scope(query, principal, Shift.outlet_id)


def overlapping(
    query: Select,
    start: datetime | None,
    end: datetime | None,  # type: ignore[type-arg]
) -> Select:  # type: ignore[type-arg]
    """Shifts that overlap [start, end): half-open, so back-to-back shifts do not overlap."""
    if start is not None:
        query = query.where(Shift.ends_at > start)
    if end is not None:
        query = query.where(Shift.starts_at < end)
    return query


def list_shifts(
    session: Session,
    principal: Principal,
    *,
    outlet_id: int | None,
    staff_id: int | None,
    counter_id: int | None,
    start: datetime | None,
    end: datetime | None,
    limit: int,
    offset: int,
) -> list[Shift]:
    query = visible(select(Shift).options(selectinload(Shift.staff)), principal)
    query = overlapping(query, start, end)
    if outlet_id is not None:
        query = query.where(Shift.outlet_id == outlet_id)
    if staff_id is not None:
        query = query.where(Shift.staff_id == staff_id)
    if counter_id is not None:
        query = query.where(Shift.counter_id == counter_id)
    query = query.order_by(Shift.starts_at, Shift.id).limit(limit).offset(offset)
    return list(session.scalars(query))


def staff_shifts_overlapping(
    session: Session, staff_ids: Iterable[int], start: datetime, end: datetime
) -> list[Shift]:
    out: list[Shift] = []
    for batch in chunks(sorted(set(staff_ids))):
        out.extend(
            session.scalars(
                overlapping(
                    select(Shift)
                    .options(selectinload(Shift.outlet))
                    .where(Shift.staff_id.in_(batch)),
                    start,
                    end,
                ).order_by(Shift.starts_at)
            )
        )
    return out


def counter_shifts_overlapping(
    session: Session, counter_ids: Iterable[int], start: datetime, end: datetime
) -> list[Shift]:
    out: list[Shift] = []
    for batch in chunks(sorted(set(counter_ids))):
        out.extend(
            session.scalars(
                overlapping(
                    select(Shift)
                    .options(selectinload(Shift.staff))
                    .where(Shift.counter_id.in_(batch)),
                    start,
                    end,
                ).order_by(Shift.starts_at)
            )
        )
    return out


def shared_counter_map(session: Session, shifts: list[Shift]) -> dict[int, list[int]]:
    """For each given shift, the other shifts on the same counter that overlap it.

    One query for the given counters over the span of the given shifts, then a sweep per
    counter (a self-join in SQL cannot use an index for the time overlap).
    """
    mine = [s for s in shifts if s.counter_id is not None]
    if not mine:
        return {}
    wanted = {s.id for s in mine}
    lo = min(s.starts_at for s in mine)
    hi = max(s.ends_at for s in mine)
    per_counter: dict[int, list[tuple[datetime, datetime, int]]] = {}
    for batch in chunks(sorted({s.counter_id for s in mine})):  # type: ignore[type-var]
        rows = session.execute(
            overlapping(
                select(Shift.counter_id, Shift.starts_at, Shift.ends_at, Shift.id).where(
                    Shift.counter_id.in_(batch)
                ),
                lo,
                hi,
            )
        )
        for counter_id, starts_at, ends_at, shift_id in rows:
            per_counter.setdefault(counter_id, []).append((starts_at, ends_at, shift_id))
    out: dict[int, list[int]] = {}
    for items in per_counter.values():
        items.sort()
        active: list[tuple[datetime, int]] = []  # (ends_at, id), a heap
        for starts_at, ends_at, shift_id in items:
            while active and active[0][0] <= starts_at:
                heapq.heappop(active)
            for _, other in active:  # every active shift overlaps this one
                if shift_id in wanted:
                    out.setdefault(shift_id, []).append(other)
                if other in wanted:
                    out.setdefault(other, []).append(shift_id)
            heapq.heappush(active, (ends_at, shift_id))
    return {k: sorted(v) for k, v in out.items()}


def outlets_by_codes(session: Session, codes: Iterable[str]) -> dict[str, Outlet]:
    found: dict[str, Outlet] = {}
    for batch in chunks(sorted(set(codes))):
        found.update(
            {o.code: o for o in session.scalars(select(Outlet).where(Outlet.code.in_(batch)))}
        )
    return found


def counters_of(session: Session, outlet_ids: Iterable[int]) -> dict[tuple[int, str], Counter]:
    found: dict[tuple[int, str], Counter] = {}
    for batch in chunks(sorted(set(outlet_ids))):
        for c in session.scalars(select(Counter).where(Counter.outlet_id.in_(batch))):
            found[(c.outlet_id, c.code)] = c
    return found
