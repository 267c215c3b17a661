"""Demo camera history for the performance scores: what the cameras would have reported over the
rostered fortnight up to now — unattended spells, completed waits and queue samples — with some
clerks steadier than others, a weekend spell at a counter nobody was rostered for (the outlet
manager's finding), and one open dispute from the staff demo account.

Deterministic (seeded), and only once: a database with queue waits already keeps them.
"""

from __future__ import annotations

import random
import uuid
from datetime import datetime, timedelta

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from audit_service.cross_checks.service import check_audit
from audit_service.demo.audits import principal_of
from audit_service.models import (
    Audit,
    Counter,
    CrossCheckStatus,
    EventKind,
    QueueSample,
    QueueWait,
    Shift,
    ShiftRole,
    SourceKind,
    User,
    VisionEvent,
    Zone,
    ZoneKind,
)
from audit_service.performance import service as performance

SAMPLE_EVERY = timedelta(minutes=10)


def _zones(session: Session) -> dict[int, dict[ZoneKind, Zone]]:
    by_counter: dict[int, dict[ZoneKind, Zone]] = {}
    for z in session.scalars(select(Zone).where(Zone.counter_id.is_not(None))):
        by_counter.setdefault(z.counter_id, {})[z.kind] = z  # type: ignore[index]
    return by_counter


def seed_performance(session: Session, *, now: datetime) -> dict[str, int]:
    """Flushes; the caller commits. Returns what it added."""
    if session.scalar(select(func.count()).select_from(QueueWait)):
        return {}
    rng = random.Random(2026)
    zones = _zones(session)
    shifts = list(
        session.scalars(
            select(Shift)
            .where(Shift.role == ShiftRole.counter, Shift.starts_at < now)
            .order_by(Shift.starts_at, Shift.id)
        )
    )
    # Each clerk's habits: how often they leave the counter, how fast they serve.
    habits: dict[int, tuple[float, float]] = {}
    events, waits, samples = [], [], []
    track = 0
    for shift in shifts:
        zs = zones.get(shift.counter_id or 0, {})
        desk, queue = zs.get(ZoneKind.counter), zs.get(ZoneKind.queue)
        if desk is None or queue is None:
            continue
        away, pace = habits.setdefault(
            shift.staff_id, (rng.choice((0.2, 0.5, 1.0, 1.8)), rng.choice((0.6, 0.9, 1.3)))
        )
        end = min(shift.ends_at, now)
        hours = (end - shift.starts_at).total_seconds() / 3600
        if hours <= 0.25:
            continue
        for _ in range(int(rng.random() * away * hours / 2 + rng.random())):
            start = shift.starts_at + timedelta(hours=rng.random() * (hours - 0.2))
            length = timedelta(minutes=rng.uniform(3, 25))
            events.append(_unattended(desk, shift.outlet_id, start, min(start + length, end)))
        t = shift.starts_at + timedelta(minutes=rng.uniform(2, 10))
        while t < end:
            wait = max(20.0, rng.lognormvariate(4.6, 0.6) * pace)
            track += 1
            waits.append(
                {
                    "camera_id": queue.camera_id,
                    "zone_code": queue.code,
                    "track_id": track,
                    "counter_id": shift.counter_id,
                    "outlet_id": shift.outlet_id,
                    "joined_at": t - timedelta(seconds=wait),
                    "left_at": t,
                    "wait_s": round(wait, 1),
                    "sla_s": queue.wait_sla_s or 300.0,
                    "within_sla": wait <= (queue.wait_sla_s or 300.0),
                    "received_at": t,
                }
            )
            t += timedelta(minutes=rng.uniform(4, 14))
        t = shift.starts_at
        while t < end:
            count = max(0, round(rng.gauss(2.0 * pace, 1.2)))
            samples.append(
                {
                    "camera_id": queue.camera_id,
                    "zone_code": queue.code,
                    "at": t,
                    "counter_id": shift.counter_id,
                    "outlet_id": shift.outlet_id,
                    "count": count,
                    "smoothed": float(count),
                    "wait_s": round(count * 75.0 * pace, 1) if count else None,
                }
            )
            t += SAMPLE_EVERY
    events.extend(_unrostered(session, zones, now))
    if events:
        session.add_all(events)
    if waits:
        session.execute(insert(QueueWait), waits)
    if samples:
        session.execute(insert(QueueSample), samples)
    session.flush()
    # The audits were cross-checked when submitted, before this history existed: again now.
    checks = [check_audit(session, a, now) for a in session.scalars(select(Audit))]
    disputes = _open_dispute(session, now)
    return {
        "cross-checks flagged": sum(
            1 for c in checks if c is not None and c.status is CrossCheckStatus.flagged
        ),
        "camera findings": len(events),
        "queue waits": len(waits),
        "queue samples": len(samples),
        "disputes": disputes,
    }


def _unattended(desk: Zone, outlet_id: int, start: datetime, end: datetime) -> VisionEvent:
    return VisionEvent(
        id=uuid.uuid4(),
        camera_id=desk.camera_id,
        outlet_id=outlet_id,
        counter_id=desk.counter_id,
        zone_code=desk.code,
        kind=EventKind.counter_unattended,
        started_at=start,
        ended_at=end,
        duration_s=(end - start).total_seconds(),
        data={"demo": True},
        start_received=True,
        end_received=True,
        received_at=end,
        updated_at=end,
    )


def _unrostered(
    session: Session, zones: dict[int, dict[ZoneKind, Zone]], now: datetime
) -> list[VisionEvent]:
    """A counter left open on the last weekend with nobody rostered: 25 minutes."""
    rostered = set(
        session.scalars(
            select(Shift.counter_id).where(
                Shift.role == ShiftRole.counter, Shift.starts_at >= now - timedelta(days=7)
            )
        )
    )
    for counter in session.scalars(select(Counter).order_by(Counter.id)):
        desk = zones.get(counter.id, {}).get(ZoneKind.counter)
        if desk is None or counter.id in rostered:
            continue
        # Mid-morning two days ago (UTC 02:00 is 10:00 in Shanghai).
        start = (now - timedelta(days=2)).replace(hour=2, minute=0, second=0, microsecond=0)
        return [_unattended(desk, counter.outlet_id, start, start + timedelta(minutes=25))]
    return []


def _open_dispute(session: Session, now: datetime) -> int:
    """The staff demo account disputes its longest unattended spell of the month."""
    user = session.scalar(select(User).where(User.username == "staff"))
    if user is None or user.staff_id is None:
        return 0
    period = performance.period_of(session, None, now)
    performance.recompute(session, period, now)
    principal = principal_of(session, user)
    detail = performance.my_page(session, principal, period, now)
    findings = [r for r in detail["records"] if r["finding"] and r["source_kind"] == "vision_event"]
    if not findings:
        return 0
    worst = min(findings, key=lambda r: r["good"])
    performance.raise_dispute(
        session,
        principal,
        source_kind=SourceKind.vision_event,
        source_id=worst["source_id"],
        comment="I was fetching claim forms for the customer from the back office.",
        evidence_ids=[],
        now=now,
    )
    return 1
