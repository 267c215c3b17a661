"""Queries for findings, samples, states and health; every list is filtered by scope in SQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, func, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from audit_service.authz import Principal
from audit_service.models import (
    Camera,
    CameraHealth,
    Counter,
    EventKind,
    EvidenceItem,
    QueueSample,
    QueueWait,
    VisionEvent,
    Zone,
    ZoneState,
)
from audit_service.organisation.repository import in_scope

# ---------------------------------------------------------------- ingestion lookups


def cameras_by_code(session: Session, codes: Iterable[str]) -> dict[str, Camera]:
    wanted = set(codes)
    if not wanted:
        return {}
    return {c.code: c for c in session.scalars(select(Camera).where(Camera.code.in_(wanted)))}


def zones_of(session: Session, camera_ids: Iterable[int]) -> dict[tuple[int, str], Zone]:
    ids = set(camera_ids)
    if not ids:
        return {}
    rows = session.scalars(select(Zone).where(Zone.camera_id.in_(ids)))
    return {(z.camera_id, z.code): z for z in rows}


def evidence_outlets(session: Session, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, int]:
    wanted = set(ids)
    if not wanted:
        return {}
    rows = session.execute(
        select(EvidenceItem.id, EvidenceItem.outlet_id).where(EvidenceItem.id.in_(wanted))
    )
    return {r[0]: r[1] for r in rows}


def events_by_id(
    session: Session, ids: Iterable[uuid.UUID], *, lock: bool = False
) -> dict[uuid.UUID, VisionEvent]:
    wanted = set(ids)
    if not wanted:
        return {}
    q = select(VisionEvent).where(VisionEvent.id.in_(wanted))
    if lock:  # PostgreSQL: concurrent batches merge phases one at a time (SQLite: no-op)
        q = q.with_for_update()
    return {e.id: e for e in session.scalars(q)}


def sample_keys(
    session: Session, camera_ids: Iterable[int], start: datetime, end: datetime
) -> set[tuple[int, str, datetime]]:
    ids = set(camera_ids)
    if not ids:
        return set()
    rows = session.execute(
        select(QueueSample.camera_id, QueueSample.zone_code, QueueSample.at).where(
            QueueSample.camera_id.in_(ids), QueueSample.at >= start, QueueSample.at <= end
        )
    )
    return {(r[0], r[1], r[2]) for r in rows}


def insert_samples(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Insert, skipping any key a concurrent batch stored meanwhile."""
    _insert_new(session, cast(Table, QueueSample.__table__), rows)


def wait_keys(
    session: Session, camera_ids: Iterable[int], start: datetime, end: datetime
) -> set[tuple[int, str, int, datetime]]:
    """Natural keys of the stored waits of these cameras that joined in [start, end]."""
    ids = set(camera_ids)
    if not ids:
        return set()
    rows = session.execute(
        select(QueueWait.camera_id, QueueWait.zone_code, QueueWait.track_id, QueueWait.joined_at)
        .where(QueueWait.camera_id.in_(ids))
        .where(QueueWait.joined_at >= start, QueueWait.joined_at <= end)
    )
    return {(r[0], r[1], r[2], r[3]) for r in rows}


def insert_waits(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Insert, skipping any natural key a concurrent batch stored meanwhile."""
    _insert_new(session, cast(Table, QueueWait.__table__), rows)


def _insert_new(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        stmt: Any = pg_insert(table).on_conflict_do_nothing()
    elif dialect == "sqlite":
        stmt = sqlite_insert(table).on_conflict_do_nothing()
    else:
        stmt = insert(table)
    session.execute(stmt, list(rows))


def zone_states(session: Session, camera_ids: Iterable[int]) -> dict[tuple[int, str], ZoneState]:
    ids = set(camera_ids)
    if not ids:
        return {}
    q = select(ZoneState).where(ZoneState.camera_id.in_(ids)).with_for_update()
    return {(s.camera_id, s.zone_code): s for s in session.scalars(q)}


def camera_health(session: Session, camera_ids: Iterable[int]) -> dict[int, CameraHealth]:
    ids = set(camera_ids)
    if not ids:
        return {}
    q = select(CameraHealth).where(CameraHealth.camera_id.in_(ids)).with_for_update()
    return {h.camera_id: h for h in session.scalars(q)}


# ---------------------------------------------------------------- reads


def _count(session: Session, query: Any) -> int:
    return int(session.scalar(select(func.count()).select_from(query.subquery())) or 0)


def list_events(
    session: Session,
    principal: Principal,
    *,
    outlet_ids: Iterable[int] | None = None,
    counter_id: int | None = None,
    kinds: Iterable[EventKind] | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    started_from: datetime | None = None,
    open_only: bool = False,
    oldest_first: bool = False,
    limit: int | None = None,
    offset: int = 0,
) -> tuple[list[tuple[VisionEvent, str]], int]:
    """Findings that overlap [start, end), with their camera's code, newest first."""
    q = select(VisionEvent, Camera.code).join(Camera, Camera.id == VisionEvent.camera_id)
    q = in_scope(q, principal, VisionEvent.outlet_id)
    if outlet_ids is not None:
        q = q.where(VisionEvent.outlet_id.in_(set(outlet_ids)))
    if counter_id is not None:
        q = q.where(VisionEvent.counter_id == counter_id)
    if kinds is not None:
        q = q.where(VisionEvent.kind.in_(list(kinds)))
    if end is not None:
        q = q.where(VisionEvent.started_at < end)
    if start is not None:
        q = q.where((VisionEvent.ended_at.is_(None)) | (VisionEvent.ended_at >= start))
    if started_from is not None:
        q = q.where(VisionEvent.started_at >= started_from)
    if open_only:
        q = q.where(VisionEvent.ended_at.is_(None))
    total = _count(session, q) if limit is not None else -1
    order = (
        (VisionEvent.started_at, VisionEvent.id)
        if oldest_first
        else (VisionEvent.started_at.desc(), VisionEvent.id)
    )
    q = q.order_by(*order).offset(offset)
    if limit is not None:
        q = q.limit(limit)
    rows = [(r[0], r[1]) for r in session.execute(q)]
    return rows, (total if total >= 0 else len(rows))


def list_samples(
    session: Session,
    principal: Principal,
    *,
    outlet_id: int | None,
    counter_id: int | None,
    zone: str | None,
    start: datetime,
    end: datetime,
    limit: int,
    offset: int,
) -> tuple[list[QueueSample], int]:
    q = in_scope(select(QueueSample), principal, QueueSample.outlet_id)
    if outlet_id is not None:
        q = q.where(QueueSample.outlet_id == outlet_id)
    if counter_id is not None:
        q = q.where(QueueSample.counter_id == counter_id)
    if zone is not None:
        q = q.where(QueueSample.zone_code == zone)
    q = q.where(QueueSample.at >= start, QueueSample.at < end)
    total = _count(session, q)
    rows = session.scalars(
        q.order_by(QueueSample.at, QueueSample.camera_id, QueueSample.zone_code)
        .limit(limit)
        .offset(offset)
    )
    return list(rows), total


def list_waits(
    session: Session,
    principal: Principal,
    *,
    outlet_id: int | None,
    counter_id: int | None,
    start: datetime,
    end: datetime,
    limit: int,
    offset: int,
) -> tuple[list[tuple[QueueWait, str]], int]:
    """Waits that ended in [start, end), with their camera's code, oldest first."""
    q = select(QueueWait, Camera.code).join(Camera, Camera.id == QueueWait.camera_id)
    q = in_scope(q, principal, QueueWait.outlet_id)
    if outlet_id is not None:
        q = q.where(QueueWait.outlet_id == outlet_id)
    if counter_id is not None:
        q = q.where(QueueWait.counter_id == counter_id)
    q = q.where(QueueWait.left_at >= start, QueueWait.left_at < end)
    total = _count(session, q)
    rows = session.execute(q.order_by(QueueWait.left_at, QueueWait.id).limit(limit).offset(offset))
    return [(r[0], r[1]) for r in rows], total


def latest_samples(
    session: Session, principal: Principal, outlet_ids: Iterable[int], since: datetime
) -> list[QueueSample]:
    """Each queue zone's newest sample at or after ``since``."""
    ids = set(outlet_ids)
    if not ids:
        return []
    grouped = in_scope(
        select(
            QueueSample.camera_id,
            QueueSample.zone_code,
            func.max(QueueSample.at).label("at"),
        ),
        principal,
        QueueSample.outlet_id,
    )
    newest = (
        grouped.where(QueueSample.outlet_id.in_(ids), QueueSample.at >= since)
        .group_by(QueueSample.camera_id, QueueSample.zone_code)
        .subquery()
    )
    q = select(QueueSample).join(
        newest,
        (QueueSample.camera_id == newest.c.camera_id)
        & (QueueSample.zone_code == newest.c.zone_code)
        & (QueueSample.at == newest.c.at),
    )
    return list(session.scalars(q))


def states_for(
    session: Session, principal: Principal, outlet_ids: Iterable[int]
) -> list[ZoneState]:
    ids = set(outlet_ids)
    if not ids:
        return []
    q = in_scope(select(ZoneState), principal, ZoneState.outlet_id)
    return list(session.scalars(q.where(ZoneState.outlet_id.in_(ids))))


def counters_for(
    session: Session, principal: Principal, outlet_ids: Iterable[int]
) -> list[Counter]:
    ids = set(outlet_ids)
    if not ids:
        return []
    q = in_scope(select(Counter), principal, Counter.outlet_id)
    q = q.where(Counter.outlet_id.in_(ids), Counter.active.is_(True)).order_by(Counter.code)
    return list(session.scalars(q))


def cameras_with_health(
    session: Session, principal: Principal, outlet_ids: Iterable[int] | None
) -> list[tuple[Camera, CameraHealth | None]]:
    """Active cameras in scope with their latest health report (None: never reported)."""
    q = select(Camera, CameraHealth).outerjoin(CameraHealth, CameraHealth.camera_id == Camera.id)
    q = in_scope(q, principal, Camera.outlet_id).where(Camera.active.is_(True))
    if outlet_ids is not None:
        q = q.where(Camera.outlet_id.in_(set(outlet_ids)))
    return [(r[0], r[1]) for r in session.execute(q.order_by(Camera.code))]
