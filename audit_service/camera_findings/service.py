"""Ingestion of worker batches and the dashboard's reads.

Ingestion (``POST /vision/batches``, docs/vision-contract.md):
* The whole batch is checked first: every camera must be one of the caller's cameras, every zone
  one of that camera's zones (of the kind the item needs), every evidence id evidence of the
  camera's outlet. Any problem is a 422 naming each item (``events[3].camera_id``) and nothing
  is stored.
* Then everything is stored in the request's one transaction. Events are idempotent by
  ``(id, phase)`` (``start_received`` / ``end_received``), samples by ``(camera, zone, t)``
  (their primary key), waits by ``(camera, zone, track, joined)`` (a unique key), states and
  health keep the newest ``t``. Replays count as duplicates.
* Scores are built from ``counter_unattended`` findings and queue waits: when any are stored,
  the materialised scores overlapping them are marked stale (one call per batch).

Reads are scoped by outlet (an outlet or counter outside the scope is 404) and every list is
filtered in SQL.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from audit_service.authz import Principal
from audit_service.camera_findings import repository as repo
from audit_service.camera_findings.schemas import (
    Batch,
    BatchResult,
    CameraHealthRead,
    CounterLive,
    Counts,
    EventPage,
    EventRead,
    LiveView,
    OutletLive,
    SamplePage,
    SampleRead,
    WaitPage,
    WaitRead,
)
from audit_service.core.errors import InvalidInput, NotFound
from audit_service.models import (
    Camera,
    CameraHealth,
    Counter,
    EventKind,
    Outlet,
    QueueWait,
    VisionEvent,
    Zone,
    ZoneKind,
    ZoneState,
)
from audit_service.organisation import repository as org_repo
from audit_service.organisation import service as org_service
from audit_service.performance import staleness

# A camera is "behind" when it analyses fewer than this share of the frames it is configured for.
BEHIND_RATIO = 0.8
# Reports older than this are stale: the counter's state is unknown, the camera may be down.
STALE_AFTER_S = 300
# Open findings older than this are left out of the live view (their end was probably lost).
OPEN_ALERT_HORIZON = timedelta(hours=24)
# The live view's alerts: what needs someone's attention now (camera_online is only a note).
ALERT_KINDS = (
    EventKind.counter_unattended,
    EventKind.queue_over_threshold,
    EventKind.camera_offline,
)
# The zone kind an item needs, per event kind (None: a camera-level finding, no zone needed).
ZONE_FOR_KIND: dict[EventKind, ZoneKind | None] = {
    EventKind.counter_unattended: ZoneKind.counter,
    EventKind.queue_over_threshold: ZoneKind.queue,
    EventKind.camera_offline: None,
    EventKind.camera_online: None,
}
MAX_SAMPLE_WINDOW = timedelta(days=31)
DEFAULT_SAMPLE_WINDOW = timedelta(days=1)
MAX_REPORTED_PROBLEMS = 100


def is_behind(achieved_fps: float, configured_fps: float) -> bool:
    return configured_fps > 0 and achieved_fps < BEHIND_RATIO * configured_fps


# ---------------------------------------------------------------- ingestion


class _Problems:
    def __init__(self) -> None:
        self.items: list[tuple[str, str]] = []

    def add(self, field: str, message: str) -> None:
        self.items.append((field, message))

    def raise_if_any(self) -> None:
        if not self.items:
            return
        first = self.items[0][0]
        detail = "; ".join(f"{f}: {m}" for f, m in self.items[:5])
        if len(self.items) > 5:
            detail += f"; and {len(self.items) - 5} more"
        detail += " (nothing of the batch was stored)"
        fields = [
            {"field": f, "message": m, "type": "invalid_input"}
            for f, m in self.items[:MAX_REPORTED_PROBLEMS]
        ]
        raise InvalidInput(detail, field=first, extra={"fields": fields})


class _Span:
    """The time range covered by what a batch stored that scores are built from."""

    def __init__(self) -> None:
        self.start: datetime | None = None
        self.end: datetime | None = None

    def add(self, start: datetime, end: datetime) -> None:
        self.start = start if self.start is None else min(self.start, start)
        self.end = end if self.end is None else max(self.end, end)


def _camera_check(
    principal: Principal, cameras: dict[str, Camera], problems: _Problems
) -> Callable[[str, str], Camera | None]:
    def check(code: str, where: str) -> Camera | None:
        camera = cameras.get(code)
        # Unknown and not-assigned cameras read the same: ids of other cameras never leak.
        if (
            camera is None
            or not principal.sees_outlet(camera.outlet_id)
            or not principal.sees_camera(camera.id)
        ):
            problems.add(
                f"{where}.camera_id",
                f"camera '{code}' is unknown or not assigned to this worker "
                "(GET /api/v1/vision/workers/me/cameras lists its cameras)",
            )
            return None
        return camera

    return check


def _zone_check(
    zones: dict[tuple[int, str], Zone], problems: _Problems
) -> Callable[[Camera, str, ZoneKind | None, str], Zone | None]:
    def check(camera: Camera, code: str, kind: ZoneKind | None, where: str) -> Zone | None:
        """The camera's zone ``code``, of ``kind`` unless that is None."""
        zone = zones.get((camera.id, code))
        if zone is None:
            problems.add(
                f"{where}.zone",
                f"camera '{camera.code}' has no zone '{code}'; fetch the camera's "
                "configuration again",
            )
            return None
        if kind is not None and zone.kind is not kind:
            problems.add(
                f"{where}.zone",
                f"zone '{code}' of camera '{camera.code}' is a {zone.kind.value} zone; "
                f"this needs a {kind.value} zone",
            )
            return None
        return zone

    return check


def ingest(session: Session, principal: Principal, batch: Batch, *, now: datetime) -> BatchResult:
    codes = {
        *(e.camera_id for e in batch.events),
        *(s.camera_id for s in batch.samples),
        *(s.camera_id for s in batch.states),
        *(h.camera_id for h in batch.health),
        *(w.camera_id for w in batch.waits),
    }
    cameras = repo.cameras_by_code(session, codes)
    zones = repo.zones_of(session, (c.id for c in cameras.values()))
    problems = _Problems()
    camera_of = _camera_check(principal, cameras, problems)
    zone_of = _zone_check(zones, problems)

    # Events: camera, zone of the right kind, evidence of the camera's outlet, and an id that
    # is not another finding's.
    existing = repo.events_by_id(session, (e.id for e in batch.events), lock=True)
    evidence = repo.evidence_outlets(
        session, (e.evidence_id for e in batch.events if e.evidence_id is not None)
    )
    seen: dict[uuid.UUID, tuple[int, EventKind]] = {
        e.id: (e.camera_id, e.kind) for e in existing.values()
    }
    event_targets: list[tuple[Camera, Zone | None]] = []
    for i, item in enumerate(batch.events):
        where = f"events[{i}]"
        camera = camera_of(item.camera_id, where)
        zone: Zone | None = None
        if camera is not None:
            needed = ZONE_FOR_KIND[item.kind]
            if item.zone is not None:
                zone = zone_of(camera, item.zone, needed, where)
            elif needed is not None:
                problems.add(
                    f"{where}.zone", f"a {item.kind.value} finding needs its {needed.value} zone"
                )
            if item.evidence_id is not None and evidence.get(item.evidence_id) != camera.outlet_id:
                problems.add(
                    f"{where}.evidence_id",
                    f"evidence {item.evidence_id} is not evidence of the camera's outlet; "
                    "upload the snapshot with that outlet_id first (POST /api/v1/evidence/uploads)",
                )
            known = seen.setdefault(item.id, (camera.id, item.kind))
            if known != (camera.id, item.kind):
                problems.add(
                    f"{where}.id",
                    f"event {item.id} was already reported as another finding (another kind or "
                    "camera); a new finding needs a new id",
                )
        event_targets.append((camera, zone))  # type: ignore[arg-type]  # only used when valid

    sample_targets: list[tuple[Camera, Zone]] = []
    for i, smp in enumerate(batch.samples):
        camera = camera_of(smp.camera_id, f"samples[{i}]")
        zone = zone_of(camera, smp.zone, ZoneKind.queue, f"samples[{i}]") if camera else None
        sample_targets.append((camera, zone))  # type: ignore[arg-type]

    state_targets: list[tuple[Camera, Zone]] = []
    for i, st in enumerate(batch.states):
        camera = camera_of(st.camera_id, f"states[{i}]")
        zone = zone_of(camera, st.zone, ZoneKind.counter, f"states[{i}]") if camera else None
        state_targets.append((camera, zone))  # type: ignore[arg-type]

    health_targets = [camera_of(h.camera_id, f"health[{i}]") for i, h in enumerate(batch.health)]

    wait_targets: list[tuple[Camera, Zone]] = []
    for i, wt in enumerate(batch.waits):
        camera = camera_of(wt.camera_id, f"waits[{i}]")
        zone = zone_of(camera, wt.zone, ZoneKind.queue, f"waits[{i}]") if camera else None
        wait_targets.append((camera, zone))  # type: ignore[arg-type]
    problems.raise_if_any()

    touched = _Span()
    result = BatchResult(
        events=_store_events(session, batch, event_targets, existing, now=now, touched=touched),
        samples=_store_samples(session, batch, sample_targets),
        states=_store_states(session, batch, state_targets, now=now),
        health=_store_health(session, batch, health_targets, now=now),  # type: ignore[arg-type]
        waits=_store_waits(session, batch, wait_targets, now=now, touched=touched),
    )
    session.flush()
    if touched.start is not None and touched.end is not None:
        staleness.mark_stale(session, touched.start, touched.end)
    return result


def _seconds(start: datetime, end: datetime) -> float:
    return round((end - start).total_seconds(), 3)


def _store_events(
    session: Session,
    batch: Batch,
    targets: list[tuple[Camera, Zone | None]],
    rows: dict[uuid.UUID, VisionEvent],
    *,
    now: datetime,
    touched: _Span,
) -> Counts:
    """Store the events; ``touched`` grows by the span of each ``counter_unattended`` finding
    stored (as it is once the whole batch is in: an open one counts until now, as scores may
    count it as still going on)."""
    counts = Counts()
    changed: dict[uuid.UUID, VisionEvent] = {}
    for item, (camera, zone) in zip(batch.events, targets, strict=True):
        flag = "start_received" if item.phase == "start" else "end_received"
        row = rows.get(item.id)
        if row is None:
            row = VisionEvent(
                id=item.id,
                camera_id=camera.id,
                outlet_id=camera.outlet_id,
                counter_id=zone.counter_id if zone is not None else None,
                zone_code=item.zone,
                kind=item.kind,
                started_at=item.start,
                ended_at=item.end,
                duration_s=_seconds(item.start, item.end) if item.end is not None else None,
                data=dict(item.data),
                evidence_id=item.evidence_id,
                start_received=item.phase == "start",
                end_received=item.phase == "end",
                received_at=now,
                updated_at=now,
            )
            session.add(row)
            rows[item.id] = row
            counts.stored += 1
            changed[row.id] = row
            continue
        if getattr(row, flag):
            counts.duplicates += 1
            continue
        if item.phase == "end" and item.end is not None:
            row.ended_at = item.end
            row.duration_s = max(0.0, _seconds(row.started_at, item.end))
            row.data = {**(row.data or {}), **item.data}
        else:  # a start after its end: the end's figures win
            row.data = {**item.data, **(row.data or {})}
        if row.evidence_id is None and item.evidence_id is not None:
            row.evidence_id = item.evidence_id
        setattr(row, flag, True)
        row.updated_at = now
        counts.stored += 1
        changed[row.id] = row
    for row in changed.values():
        if row.kind is EventKind.counter_unattended:
            start = _utc(row.started_at)
            end = _utc(row.ended_at) if row.ended_at is not None else max(start, _utc(now))
            touched.add(start, end)
    return counts


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


def _store_samples(session: Session, batch: Batch, targets: list[tuple[Camera, Zone]]) -> Counts:
    counts = Counts()
    if not batch.samples:
        return counts
    times = [_utc(s.t) for s in batch.samples]
    stored = {
        (cid, zone, _utc(at))
        for cid, zone, at in repo.sample_keys(
            session, (c.id for c, _ in targets), min(times), max(times)
        )
    }
    rows: list[dict[str, Any]] = []
    for item, at, (camera, zone) in zip(batch.samples, times, targets, strict=True):
        key = (camera.id, item.zone, at)
        if key in stored:
            counts.duplicates += 1
            continue
        stored.add(key)
        rows.append(
            {
                "camera_id": camera.id,
                "zone_code": item.zone,
                "at": at,
                "counter_id": zone.counter_id,
                "outlet_id": camera.outlet_id,
                "count": item.count,
                "smoothed": item.smoothed,
                "wait_s": item.wait_s,
            }
        )
        counts.stored += 1
    repo.insert_samples(session, rows)
    return counts


def _store_waits(
    session: Session,
    batch: Batch,
    targets: list[tuple[Camera, Zone]],
    *,
    now: datetime,
    touched: _Span,
) -> Counts:
    """Store the completed waits: ``wait_s`` is recomputed from the times, ``within_sla`` is
    ``wait_s <= sla_s``; the counter and outlet are the queue zone's."""
    counts = Counts()
    if not batch.waits:
        return counts
    joined = [_utc(w.joined) for w in batch.waits]
    stored = {
        (cid, zone, track, _utc(at))
        for cid, zone, track, at in repo.wait_keys(
            session, (c.id for c, _ in targets), min(joined), max(joined)
        )
    }
    rows: list[dict[str, Any]] = []
    for item, joined_at, (camera, zone) in zip(batch.waits, joined, targets, strict=True):
        key = (camera.id, item.zone, item.track_id, joined_at)
        if key in stored:
            counts.duplicates += 1
            continue
        stored.add(key)
        left_at = _utc(item.left)
        wait_s = (left_at - joined_at).total_seconds()
        rows.append(
            {
                "camera_id": camera.id,
                "zone_code": item.zone,
                "track_id": item.track_id,
                "counter_id": zone.counter_id,
                "outlet_id": camera.outlet_id,
                "joined_at": joined_at,
                "left_at": left_at,
                "wait_s": wait_s,
                "sla_s": item.sla_s,
                "within_sla": wait_s <= item.sla_s,
                "received_at": now,
            }
        )
        touched.add(joined_at, left_at)
        counts.stored += 1
    repo.insert_waits(session, rows)
    return counts


def _store_states(
    session: Session, batch: Batch, targets: list[tuple[Camera, Zone]], *, now: datetime
) -> Counts:
    counts = Counts()
    rows = repo.zone_states(session, (c.id for c, _ in targets))
    for item, (camera, zone) in zip(batch.states, targets, strict=True):
        key = (camera.id, item.zone)
        row = rows.get(key)
        if row is not None and row.at >= item.t:
            counts.duplicates += 1  # a replay, or older than what is stored
            continue
        if row is None:
            row = ZoneState(camera_id=camera.id, zone_code=item.zone)
            session.add(row)
            rows[key] = row
        row.counter_id = zone.counter_id
        row.outlet_id = camera.outlet_id
        row.state = item.state
        row.since = item.since
        row.count = item.count
        row.at = item.t
        row.updated_at = now
        counts.stored += 1
    return counts


def _store_health(
    session: Session, batch: Batch, cameras: list[Camera], *, now: datetime
) -> Counts:
    counts = Counts()
    rows = repo.camera_health(session, (c.id for c in cameras))
    for item, camera in zip(batch.health, cameras, strict=True):
        row = rows.get(camera.id)
        if row is not None and row.last_seen_at >= item.t:
            counts.duplicates += 1
            continue
        if row is None:
            row = CameraHealth(camera_id=camera.id)
            session.add(row)
            rows[camera.id] = row
        row.online = item.online
        row.last_seen_at = item.t
        row.achieved_fps = item.achieved_fps
        row.configured_fps = item.configured_fps
        row.behind = is_behind(item.achieved_fps, item.configured_fps)
        row.frames_read = item.frames_read
        row.frames_analysed = item.frames_analysed
        row.updated_at = now
        counts.stored += 1
    return counts


# ---------------------------------------------------------------- reads


def event_read(row: VisionEvent, camera_code: str) -> EventRead:
    return EventRead(
        id=row.id,
        kind=row.kind,
        camera_id=row.camera_id,
        camera_code=camera_code,
        outlet_id=row.outlet_id,
        counter_id=row.counter_id,
        zone=row.zone_code,
        started_at=row.started_at,
        ended_at=row.ended_at,
        duration_s=row.duration_s,
        open=row.ended_at is None,
        data=row.data or {},
        evidence_id=row.evidence_id,
        received_at=row.received_at,
        updated_at=row.updated_at,
    )


def _check_window(start: datetime | None, end: datetime | None) -> None:
    if start is not None and end is not None and end <= start:
        raise InvalidInput("end: must be after start", field="end")


def _sample_window(
    start: datetime | None, end: datetime | None, now: datetime
) -> tuple[datetime, datetime]:
    """A time series' window: default the day before ``end`` (default now), at most 31 days."""
    if end is None:
        end = start + DEFAULT_SAMPLE_WINDOW if start is not None else now
    if start is None:
        start = end - DEFAULT_SAMPLE_WINDOW
    _check_window(start, end)
    if end - start > MAX_SAMPLE_WINDOW:
        raise InvalidInput(
            f"start: the window is at most {MAX_SAMPLE_WINDOW.days} days; ask for less at a time",
            field="start",
        )
    return start, end


def _counter_in_scope(session: Session, principal: Principal, counter_id: int) -> Counter:
    counter = session.get(Counter, counter_id)
    if counter is None:
        raise NotFound("counter", counter_id)
    principal.check_outlet(counter.outlet_id, "counter", counter_id)
    return counter


def list_events(
    session: Session,
    principal: Principal,
    *,
    outlet_id: int | None,
    counter_id: int | None,
    kind: EventKind | None,
    start: datetime | None,
    end: datetime | None,
    open_only: bool,
    limit: int,
    offset: int,
) -> EventPage:
    _check_window(start, end)
    if outlet_id is not None:
        org_service.get_outlet(session, principal, outlet_id)
    if counter_id is not None:
        _counter_in_scope(session, principal, counter_id)
    rows, total = repo.list_events(
        session,
        principal,
        outlet_ids=None if outlet_id is None else [outlet_id],
        counter_id=counter_id,
        kinds=None if kind is None else [kind],
        start=start,
        end=end,
        open_only=open_only,
        limit=limit,
        offset=offset,
    )
    return EventPage(
        items=[event_read(r, code) for r, code in rows], total=total, limit=limit, offset=offset
    )


def list_samples(
    session: Session,
    principal: Principal,
    *,
    outlet_id: int | None,
    counter_id: int | None,
    zone: str | None,
    start: datetime | None,
    end: datetime | None,
    limit: int,
    offset: int,
    now: datetime,
) -> SamplePage:
    if outlet_id is None and counter_id is None:
        raise InvalidInput(
            "outlet_id: give outlet_id or counter_id (the queue of which outlet or counter)",
            field="outlet_id",
        )
    start, end = _sample_window(start, end, now)
    if outlet_id is not None:
        org_service.get_outlet(session, principal, outlet_id)
    if counter_id is not None:
        _counter_in_scope(session, principal, counter_id)
    rows, total = repo.list_samples(
        session,
        principal,
        outlet_id=outlet_id,
        counter_id=counter_id,
        zone=zone,
        start=start,
        end=end,
        limit=limit,
        offset=offset,
    )
    items = [
        SampleRead(
            camera_id=r.camera_id,
            zone=r.zone_code,
            counter_id=r.counter_id,
            outlet_id=r.outlet_id,
            at=r.at,
            count=r.count,
            smoothed=r.smoothed,
            wait_s=r.wait_s,
        )
        for r in rows
    ]
    return SamplePage(items=items, total=total, limit=limit, offset=offset, start=start, end=end)


def list_waits(
    session: Session,
    principal: Principal,
    *,
    outlet_id: int | None,
    counter_id: int | None,
    start: datetime | None,
    end: datetime | None,
    limit: int,
    offset: int,
    now: datetime,
) -> WaitPage:
    """Completed waits that ended (``left_at``) in [start, end), oldest first."""
    if outlet_id is None and counter_id is None:
        raise InvalidInput(
            "outlet_id: give outlet_id or counter_id (the queue waits of which outlet or counter)",
            field="outlet_id",
        )
    start, end = _sample_window(start, end, now)
    if outlet_id is not None:
        org_service.get_outlet(session, principal, outlet_id)
    if counter_id is not None:
        _counter_in_scope(session, principal, counter_id)
    rows, total = repo.list_waits(
        session,
        principal,
        outlet_id=outlet_id,
        counter_id=counter_id,
        start=start,
        end=end,
        limit=limit,
        offset=offset,
    )
    items = [wait_read(r, code) for r, code in rows]
    return WaitPage(items=items, total=total, limit=limit, offset=offset, start=start, end=end)


def wait_read(r: QueueWait, code: str) -> WaitRead:
    return WaitRead(
        id=r.id,
        camera_id=code,
        zone=r.zone_code,
        counter_id=r.counter_id,
        outlet_id=r.outlet_id,
        track_id=r.track_id,
        joined_at=r.joined_at,
        left_at=r.left_at,
        wait_s=r.wait_s,
        sla_s=r.sla_s,
        within_sla=r.within_sla,
    )


def get_event(session: Session, principal: Principal, event_id: uuid.UUID) -> EventRead:
    """One finding (the link from a score's explanation), within the caller's scope."""
    row = session.get(VisionEvent, event_id)
    if row is None or not principal.sees_outlet(row.outlet_id):
        raise NotFound("finding", event_id)
    camera = session.get(Camera, row.camera_id)
    return event_read(row, camera.code if camera else "")


def get_wait(session: Session, principal: Principal, wait_id: int) -> WaitRead:
    row = session.get(QueueWait, wait_id)
    if row is None or not principal.sees_outlet(row.outlet_id):
        raise NotFound("queue wait", wait_id)
    camera = session.get(Camera, row.camera_id)
    return wait_read(row, camera.code if camera else "")


def _age(now: datetime, then: datetime | None) -> float | None:
    return None if then is None else max(0.0, round((now - then).total_seconds(), 3))


def health_read(camera: Camera, health: CameraHealth | None, *, now: datetime) -> CameraHealthRead:
    if health is None:
        return CameraHealthRead(
            camera_id=camera.id,
            camera_code=camera.code,
            camera_name=camera.name,
            outlet_id=camera.outlet_id,
            reported=False,
            online=None,
            stale=True,
            last_seen_at=None,
            seconds_since_seen=None,
            achieved_fps=None,
            configured_fps=None,
            behind=False,
            frames_read=None,
            frames_analysed=None,
        )
    age = _age(now, health.last_seen_at) or 0.0
    return CameraHealthRead(
        camera_id=camera.id,
        camera_code=camera.code,
        camera_name=camera.name,
        outlet_id=camera.outlet_id,
        reported=True,
        online=health.online,
        stale=age > STALE_AFTER_S,
        last_seen_at=health.last_seen_at,
        seconds_since_seen=age,
        achieved_fps=health.achieved_fps,
        configured_fps=health.configured_fps,
        behind=health.behind,
        frames_read=health.frames_read,
        frames_analysed=health.frames_analysed,
    )


def _camera_problem(h: CameraHealthRead) -> bool:
    return not h.reported or h.stale or not h.online or h.behind


def _health_rank(h: CameraHealthRead) -> tuple[int, str]:
    if not h.reported or h.stale or not h.online:
        return (0, h.camera_code)
    return (1 if h.behind else 2, h.camera_code)


def camera_health(
    session: Session, principal: Principal, *, outlet_id: int | None, now: datetime
) -> list[CameraHealthRead]:
    """Active cameras in scope, worst first: down (offline, stale, never reported), behind, ok."""
    if outlet_id is not None:
        org_service.get_outlet(session, principal, outlet_id)
    rows = repo.cameras_with_health(session, principal, None if outlet_id is None else [outlet_id])
    return sorted((health_read(c, h, now=now) for c, h in rows), key=_health_rank)


_STATE_RANK = {"unattended": 0, "unknown": 1, "attended": 2, "closed": 3}


def _counter_live(
    counter: Counter,
    states: list[ZoneState],
    samples: list[Any],
    alerts: int,
    *,
    now: datetime,
) -> CounterLive:
    state, since, for_s, staff, reported_at, stale = "unknown", None, None, None, None, False
    if states:
        newest = max(states, key=lambda s: s.at)
        reported_at = newest.at
        stale = (now - newest.at).total_seconds() > STALE_AFTER_S
        if not stale:
            staff = newest.count
            if newest.state is not None:
                state = newest.state.value
                since = newest.since
                for_s = _age(now, since)
    queue = max(samples, key=lambda s: (s.smoothed, s.at)) if samples else None
    return CounterLive(
        counter_id=counter.id,
        code=counter.code,
        name=counter.name,
        state=state,  # type: ignore[arg-type]
        since=since,
        for_s=for_s,
        staff_count=staff,
        reported_at=reported_at,
        stale=stale,
        queue_length=queue.smoothed if queue else None,
        queue_count=queue.count if queue else None,
        wait_s=max((s.wait_s for s in samples if s.wait_s is not None), default=None),
        queue_at=queue.at if queue else None,
        open_alerts=alerts,
    )


def live(
    session: Session, principal: Principal, *, outlet_id: int | None, now: datetime
) -> LiveView:
    """Per outlet in scope: counters' states and queues, open alerts, camera health."""
    outlets: list[Outlet]
    if outlet_id is not None:
        outlets = [org_service.get_outlet(session, principal, outlet_id)]
    else:
        outlets = org_repo.list_outlets(session, principal)
    ids = [o.id for o in outlets]
    fresh_since = now - timedelta(seconds=STALE_AFTER_S)
    counters = repo.counters_for(session, principal, ids)
    states = repo.states_for(session, principal, ids)
    samples = repo.latest_samples(session, principal, ids, fresh_since)
    alerts, _ = repo.list_events(
        session,
        principal,
        outlet_ids=ids,
        kinds=ALERT_KINDS,
        started_from=now - OPEN_ALERT_HORIZON,
        open_only=True,
        oldest_first=True,
    )
    cameras = repo.cameras_with_health(session, principal, ids)

    by_counter_states: dict[int, list[ZoneState]] = {}
    for s in states:
        by_counter_states.setdefault(s.counter_id, []).append(s)
    by_counter_samples: dict[int, list[Any]] = {}
    for q in samples:
        by_counter_samples.setdefault(q.counter_id, []).append(q)
    alerts_by_counter: dict[int, int] = {}
    alerts_by_outlet: dict[int, list[EventRead]] = {}
    for row, code in alerts:
        if row.counter_id is not None:
            alerts_by_counter[row.counter_id] = alerts_by_counter.get(row.counter_id, 0) + 1
        alerts_by_outlet.setdefault(row.outlet_id, []).append(event_read(row, code))
    counters_by_outlet: dict[int, list[CounterLive]] = {}
    for c in counters:
        counters_by_outlet.setdefault(c.outlet_id, []).append(
            _counter_live(
                c,
                by_counter_states.get(c.id, []),
                by_counter_samples.get(c.id, []),
                alerts_by_counter.get(c.id, 0),
                now=now,
            )
        )
    health_by_outlet: dict[int, list[CameraHealthRead]] = {}
    for camera, report in cameras:
        health_by_outlet.setdefault(camera.outlet_id, []).append(
            health_read(camera, report, now=now)
        )

    views = []
    for o in outlets:
        rows = sorted(
            counters_by_outlet.get(o.id, []),
            key=lambda c: (_STATE_RANK[c.state], -(c.for_s or 0.0), -c.open_alerts, c.code),
        )
        health = sorted(health_by_outlet.get(o.id, []), key=_health_rank)
        open_alerts = alerts_by_outlet.get(o.id, [])
        views.append(
            OutletLive(
                outlet_id=o.id,
                code=o.code,
                name=o.name,
                unattended=sum(1 for c in rows if c.state == "unattended"),
                open_alerts=len(open_alerts),
                camera_problems=sum(1 for h in health if _camera_problem(h)),
                counters=rows,
                alerts=open_alerts,
                cameras=health,
            )
        )
    views.sort(key=lambda v: (-v.unattended, -v.open_alerts, -v.camera_problems, v.code))
    return LiveView(generated_at=now, outlets=views)
