"""Opening hours as UTC intervals, materialised so SQL can intersect shifts and findings with
them (the weekly hours are JSON per weekday in local time, with exceptions).

Generated once per range (``open_hours_coverage``) and kept until opening hours change
(``staleness.hours_changed`` clears them): a rebuild of scores does not redo them.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from audit_service.models import OpenHoursCoverage, OpenInterval, Outlet, OutletHoursException
from audit_service.organisation.hours import intervals_on


def ensure(session: Session, start: datetime, end: datetime) -> int:
    """Every outlet's open intervals opening within [start - 1 day, end + 1 day) exist;
    returns how many were generated (0 when already there)."""
    lo, hi = start - timedelta(days=1), end + timedelta(days=1)
    covered = session.scalar(
        select(OpenHoursCoverage.starts_at).where(
            OpenHoursCoverage.starts_at <= lo, OpenHoursCoverage.ends_at >= hi
        )
    )
    if covered is not None:
        return 0
    first, last = lo.date() - timedelta(days=1), hi.date() + timedelta(days=1)
    exceptions: dict[int, dict[date, list | None]] = defaultdict(dict)
    for row in session.scalars(
        select(OutletHoursException).where(
            OutletHoursException.day >= first, OutletHoursException.day <= last
        )
    ):
        exceptions[row.outlet_id][row.day] = None if row.closed else row.intervals
    rows = []
    outlets = session.execute(select(Outlet.id, Outlet.timezone, Outlet.opening_hours)).all()
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    for outlet_id, tz_name, weekly in outlets:
        tz = ZoneInfo(tz_name)
        for day in days:
            for opens, closes, _ in intervals_on(day, weekly or {}, exceptions[outlet_id]):
                o = datetime.combine(day, opens, tzinfo=tz).astimezone(UTC)
                c = datetime.combine(day, closes, tzinfo=tz).astimezone(UTC)
                if lo <= o < hi and c > o:
                    rows.append({"outlet_id": outlet_id, "opens_at": o, "closes_at": c})
    session.execute(
        delete(OpenInterval).where(OpenInterval.opens_at >= lo, OpenInterval.opens_at < hi)
    )
    if rows:
        session.execute(insert(OpenInterval), rows)
    session.add(OpenHoursCoverage(starts_at=lo, ends_at=hi))
    session.flush()
    return len(rows)
