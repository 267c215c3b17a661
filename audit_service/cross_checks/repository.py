"""Queries for the cross-check: the camera records around a visit, and the checks in scope."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, case, func, or_, select
from sqlalchemy.orm import Session, aliased

from audit_service.authz import Principal
from audit_service.cross_checks.measure import (
    COVERAGE_WINDOW,
    WAIT_WINDOW,
    CounterRecords,
    Interval,
    QueueReading,
    Sighting,
    StateReport,
)
from audit_service.models import (
    CameraHealth,
    Counter,
    CrossCheck,
    CrossCheckStatus,
    EventKind,
    Outlet,
    QueueSample,
    QueueWait,
    User,
    VisionEvent,
    Zone,
    ZoneKind,
    ZoneState,
)
from audit_service.organisation.repository import in_scope

# Bounds the scan of completed waits by the indexed left_at: no real wait lasts a day.
LONGEST_WAIT = timedelta(days=1)

Reviewer = aliased(User)


# ---------------------------------------------------------------- camera records


def outlet_counter_ids(session: Session, outlet_id: int) -> list[int]:
    return list(
        session.scalars(
            select(Counter.id)
            .where(Counter.outlet_id == outlet_id, Counter.active)
            .order_by(Counter.id)
        )
    )


def camera_records(
    session: Session, t: datetime, counter_ids: Sequence[int]
) -> list[CounterRecords]:
    """What the cameras reported about each counter around ``t`` (see measure.CounterRecords)."""
    if not counter_ids:
        return []
    ids = list(counter_ids)
    window = max(COVERAGE_WINDOW, WAIT_WINDOW)
    # The cameras that watch each counter's staff station (its counter zones).
    watchers: dict[int, set[int]] = defaultdict(set)
    for camera_id, counter_id in session.execute(
        select(Zone.camera_id, Zone.counter_id).where(
            Zone.counter_id.in_(ids), Zone.kind == ZoneKind.counter
        )
    ):
        watchers[counter_id].add(camera_id)
    cameras = sorted({c for cams in watchers.values() for c in cams})

    unattended: dict[int, list[Interval]] = defaultdict(list)
    for event in session.scalars(
        select(VisionEvent).where(
            VisionEvent.kind == EventKind.counter_unattended,
            VisionEvent.counter_id.in_(ids),
            VisionEvent.started_at <= t + COVERAGE_WINDOW,
            or_(VisionEvent.ended_at.is_(None), VisionEvent.ended_at >= t - COVERAGE_WINDOW),
        )
    ):
        unattended[event.counter_id].append(  # type: ignore[index]
            Interval(event.started_at, event.ended_at, event.camera_id)
        )
    offline: list[Interval] = []
    sightings: list[Sighting] = []
    if cameras:
        offline = [
            Interval(e.started_at, e.ended_at, e.camera_id)
            for e in session.scalars(
                select(VisionEvent).where(
                    VisionEvent.kind == EventKind.camera_offline,
                    VisionEvent.camera_id.in_(cameras),
                    VisionEvent.started_at <= t,
                    or_(VisionEvent.ended_at.is_(None), VisionEvent.ended_at > t),
                )
            )
        ]
        sightings = [
            Sighting(h.camera_id, h.last_seen_at)
            for h in session.scalars(
                select(CameraHealth).where(
                    CameraHealth.camera_id.in_(cameras),
                    CameraHealth.online,
                    CameraHealth.last_seen_at.between(t - COVERAGE_WINDOW, t + COVERAGE_WINDOW),
                )
            )
        ]
    states: dict[int, list[StateReport]] = defaultdict(list)
    for state in session.scalars(select(ZoneState).where(ZoneState.counter_id.in_(ids))):
        states[state.counter_id].append(
            StateReport(state.state.value if state.state else None, state.since, state.at)
        )
        sightings.append(Sighting(state.camera_id, state.at))
    samples: dict[int, list[QueueSample]] = defaultdict(list)
    for sample in session.scalars(
        select(QueueSample).where(
            QueueSample.counter_id.in_(ids), QueueSample.at.between(t - window, t + window)
        )
    ):
        samples[sample.counter_id].append(sample)
    waits: dict[int, list[tuple[datetime, float]]] = defaultdict(list)
    for counter_id, joined_at, wait_s in session.execute(
        select(QueueWait.counter_id, QueueWait.joined_at, QueueWait.wait_s).where(
            QueueWait.counter_id.in_(ids),
            QueueWait.left_at.between(t - WAIT_WINDOW, t + WAIT_WINDOW + LONGEST_WAIT),
            QueueWait.joined_at.between(t - WAIT_WINDOW, t + WAIT_WINDOW),
        )
    ):
        waits[counter_id].append((joined_at, wait_s))

    out = []
    for counter_id in ids:
        own = watchers.get(counter_id, set())
        out.append(
            CounterRecords(
                counter_id=counter_id,
                unattended=tuple(unattended[counter_id]),
                offline=tuple(e for e in offline if e.camera_id in own),
                states=tuple(states[counter_id]),
                # A queue sample shows its camera was analysing frames: it counts as watching
                # the counter only if the same camera also covers the counter's station.
                sightings=tuple(
                    [s for s in sightings if s.camera_id in own]
                    + [
                        Sighting(q.camera_id, q.at)
                        for q in samples[counter_id]
                        if q.camera_id in own
                    ]
                ),
                samples=tuple(QueueReading(q.at, q.count, q.wait_s) for q in samples[counter_id]),
                waits=tuple(waits[counter_id]),
            )
        )
    return out


# ---------------------------------------------------------------- checks


def for_audit(session: Session, audit_id: int) -> CrossCheck | None:
    return session.scalar(select(CrossCheck).where(CrossCheck.audit_id == audit_id))


def _read_query() -> Select:  # type: ignore[type-arg]
    return (
        select(
            CrossCheck,
            Outlet.name,
            User.display_name,
            User.username,
            Reviewer.display_name,
            Reviewer.username,
        )
        .join(Outlet, Outlet.id == CrossCheck.outlet_id)
        .join(User, User.id == CrossCheck.auditor_id)
        .outerjoin(Reviewer, Reviewer.id == CrossCheck.reviewed_by_id)
    )


def check(session: Session, principal: Principal, check_id: int) -> Any | None:
    """The check with its names (outlet, auditor, reviewer), if in the caller's scope."""
    query = in_scope(
        _read_query().where(CrossCheck.id == check_id), principal, CrossCheck.outlet_id
    )
    return session.execute(query).one_or_none()


def list_checks(
    session: Session,
    principal: Principal,
    *,
    status: CrossCheckStatus | None,
    outlet_id: int | None,
    auditor_id: int | None,
    limit: int,
    offset: int,
) -> tuple[list[Any], int]:
    conditions = []
    if status is not None:
        conditions.append(CrossCheck.status == status)
    if outlet_id is not None:
        conditions.append(CrossCheck.outlet_id == outlet_id)
    if auditor_id is not None:
        conditions.append(CrossCheck.auditor_id == auditor_id)
    total = session.scalar(
        in_scope(
            select(func.count(CrossCheck.id)).where(*conditions), principal, CrossCheck.outlet_id
        )
    )
    query = in_scope(_read_query().where(*conditions), principal, CrossCheck.outlet_id)
    query = query.order_by(CrossCheck.at.desc(), CrossCheck.id.desc()).limit(limit).offset(offset)
    return list(session.execute(query)), int(total or 0)


def _counts() -> tuple[Any, Any, Any]:
    checks = func.count(CrossCheck.id)
    agreed = func.coalesce(func.sum(case((CrossCheck.agrees.is_(True), 1), else_=0)), 0)
    compared = func.count(CrossCheck.agrees)  # rows where agrees is not null
    return checks, agreed, compared


def shopper_counts(session: Session, principal: Principal) -> list[Any]:
    """Per auditor with a check in scope: (auditor_id, display_name, username, checks, agreed,
    compared), counted over the checks in scope."""
    checks, agreed, compared = _counts()
    query = (
        select(
            CrossCheck.auditor_id,
            User.display_name,
            User.username,
            checks.label("checks"),
            agreed.label("agreed"),
            compared.label("compared"),
        )
        .join(User, User.id == CrossCheck.auditor_id)
        .group_by(CrossCheck.auditor_id, User.display_name, User.username)
    )
    return list(session.execute(in_scope(query, principal, CrossCheck.outlet_id)))


def organisation_agreement(session: Session) -> tuple[int, int]:
    """(agreed, compared) over every check of the organisation: the prior the ratings shrink to."""
    _, agreed, compared = _counts()
    row = session.execute(select(agreed, compared)).one()
    return int(row[0] or 0), int(row[1] or 0)
