"""Vision findings: the worker's ingestion endpoint and the dashboard's reads."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Query
from pydantic import AwareDatetime

from audit_service.authz import Permission
from audit_service.camera_findings import service
from audit_service.camera_findings.schemas import (
    Batch,
    BatchResult,
    CameraHealthRead,
    EventPage,
    EventRead,
    LiveView,
    SamplePage,
    WaitPage,
    WaitRead,
)
from audit_service.cameras.schemas import CODE_PATTERN
from audit_service.core.types import MAX_ID, IdPath
from audit_service.deps import ClockDep, Requires, SessionDep
from audit_service.models import EventKind

router = APIRouter(prefix="/vision", tags=["vision"])

Ingester = Requires(Permission.vision_ingest)
Reader = Requires(Permission.vision_read)


@router.post(
    "/batches",
    response_model=BatchResult,
    summary="A worker's findings, queue samples and waits, zone states, camera health (idempotent)",
    description="The whole batch is checked before anything is stored: an unknown camera or "
    "zone, a camera not assigned to this worker, or evidence of another outlet is a 422 naming "
    "each item (`events[3].camera_id`) and nothing is stored. Replays count as duplicates.",
)
def ingest(body: Batch, caller: Ingester, session: SessionDep, clock: ClockDep) -> BatchResult:
    return service.ingest(session, caller, body, now=clock())


@router.get(
    "/live",
    response_model=LiveView,
    summary="Live view per outlet: counter states, queues, open alerts, camera health",
)
def live(
    caller: Reader,
    session: SessionDep,
    clock: ClockDep,
    outlet_id: int | None = Query(None, ge=1, le=MAX_ID, description="Omit for all in scope"),
) -> LiveView:
    return service.live(session, caller, outlet_id=outlet_id, now=clock())


@router.get(
    "/events",
    response_model=EventPage,
    summary="Findings (counter unattended, queue too long, camera offline), newest first",
)
def list_events(
    caller: Reader,
    session: SessionDep,
    outlet_id: int | None = Query(None, ge=1, le=MAX_ID),
    counter_id: int | None = Query(None, ge=1, le=MAX_ID),
    kind: EventKind | None = None,
    start: AwareDatetime | None = Query(None, description="Findings still going on at or after"),
    end: AwareDatetime | None = Query(None, description="Findings started before this instant"),
    open_only: bool = Query(False, description="Only findings without an end yet"),
    limit: int = Query(100, ge=1, le=500),
    offset: int = Query(0, ge=0, le=MAX_ID),
) -> EventPage:
    return service.list_events(
        session,
        caller,
        outlet_id=outlet_id,
        counter_id=counter_id,
        kind=kind,
        start=start,
        end=end,
        open_only=open_only,
        limit=limit,
        offset=offset,
    )


@router.get("/events/{event_id}", response_model=EventRead, summary="One finding")
def get_event(event_id: uuid.UUID, caller: Reader, session: SessionDep) -> EventRead:
    return service.get_event(session, caller, event_id)


@router.get("/waits/{wait_id}", response_model=WaitRead, summary="One completed queue wait")
def get_wait(wait_id: IdPath, caller: Reader, session: SessionDep) -> WaitRead:
    return service.get_wait(session, caller, wait_id)


@router.get(
    "/queue-samples",
    response_model=SamplePage,
    summary="Queue length and wait over time for an outlet or counter (at most 31 days)",
)
def list_samples(
    caller: Reader,
    session: SessionDep,
    clock: ClockDep,
    outlet_id: int | None = Query(None, ge=1, le=MAX_ID),
    counter_id: int | None = Query(None, ge=1, le=MAX_ID),
    zone: str | None = Query(None, pattern=CODE_PATTERN, description="A queue zone's id"),
    start: AwareDatetime | None = Query(None, description="From (inclusive); default end - 1 day"),
    end: AwareDatetime | None = Query(None, description="Until (exclusive); default now"),
    limit: int = Query(1000, ge=1, le=10_000),
    offset: int = Query(0, ge=0, le=MAX_ID),
) -> SamplePage:
    return service.list_samples(
        session,
        caller,
        outlet_id=outlet_id,
        counter_id=counter_id,
        zone=zone,
        start=start,
        end=end,
        limit=limit,
        offset=offset,
        now=clock(),
    )


@router.get(
    "/waits",
    response_model=WaitPage,
    summary="Completed queue waits for an outlet or counter, oldest first (at most 31 days)",
)
def list_waits(
    caller: Reader,
    session: SessionDep,
    clock: ClockDep,
    outlet_id: int | None = Query(None, ge=1, le=MAX_ID),
    counter_id: int | None = Query(None, ge=1, le=MAX_ID),
    start: AwareDatetime | None = Query(
        None, description="Waits that ended from (inclusive); default end - 1 day"
    ),
    end: AwareDatetime | None = Query(None, description="Until (exclusive); default now"),
    limit: int = Query(1000, ge=1, le=10_000),
    offset: int = Query(0, ge=0, le=MAX_ID),
) -> WaitPage:
    return service.list_waits(
        session,
        caller,
        outlet_id=outlet_id,
        counter_id=counter_id,
        start=start,
        end=end,
        limit=limit,
        offset=offset,
        now=clock(),
    )


@router.get(
    "/cameras/health",
    response_model=list[CameraHealthRead],
    summary="Health of active cameras in scope, worst first",
)
def camera_health(
    caller: Reader,
    session: SessionDep,
    clock: ClockDep,
    outlet_id: int | None = Query(None, ge=1, le=MAX_ID),
) -> list[CameraHealthRead]:
    return service.camera_health(session, caller, outlet_id=outlet_id, now=clock())
