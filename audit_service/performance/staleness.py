"""Marking materialised scores stale when an input changes.

Every service that changes what scores are built from (audits reviewed or edited, vision
findings and queue waits ingested, shifts added or removed, disputes resolved, opening hours
changed) calls ``mark_stale`` with the time range the change touches. The next read of an
overlapping period rebuilds it; periods never read are never built. The range is widened by a
day back: camera findings are dated at the start of the shift they fall in.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from audit_service.models import FactDay, OpenHoursCoverage, OpenInterval, ScorePeriod

# For changes that hold from a day on (a transfer, new opening hours).
FAR_PAST = datetime(2000, 1, 1, tzinfo=UTC)
FAR_FUTURE = datetime(2100, 1, 1, tzinfo=UTC)


def mark_stale(session: Session, start: datetime, end: datetime | None = None) -> None:
    """Mark every materialised period overlapping [start, end] stale (end None: an instant)."""
    end = start if end is None else end
    start = start - timedelta(days=1)
    session.execute(
        update(ScorePeriod)
        .where(ScorePeriod.starts_at <= end, ScorePeriod.ends_at > start, ~ScorePeriod.stale)
        .values(stale=True)
    )
    session.execute(
        update(FactDay)
        .where(
            FactDay.day >= start.astimezone(UTC).date(),
            FactDay.day <= end.astimezone(UTC).date(),
            ~FactDay.stale,
        )
        .values(stale=True)
    )


def hours_changed(session: Session, outlet_id: int | None = None) -> None:
    """Opening hours (or a time zone, or the outlets themselves) changed: the materialised open
    intervals go, and every period is rebuilt on its next read."""
    q = delete(OpenInterval)
    if outlet_id is not None:
        q = q.where(OpenInterval.outlet_id == outlet_id)
    session.execute(q)
    session.execute(delete(OpenHoursCoverage))
    mark_stale(session, FAR_PAST, FAR_FUTURE)
