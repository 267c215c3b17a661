"""The ingestion batch (docs/vision-contract.md) and the dashboard's read models."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
)

from audit_service.cameras.schemas import CODE_PATTERN
from audit_service.models.vision import CounterState, EventKind

MAX_ITEMS = 1000
MAX_DATA_CHARS = 8000
MAX_COUNT = 100_000
MAX_FPS = 1000.0
MAX_SECONDS = 30 * 86_400.0
MAX_FRAMES = 2**63 - 1
MAX_TRACK_ID = 2**63 - 1
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)


def _plausible(value: datetime) -> datetime:
    if not EARLIEST <= value < LATEST:
        raise ValueError("must be between 2000-01-01 and 2100-01-01 (check the worker's clock)")
    return value


Instant = Annotated[
    AwareDatetime,
    AfterValidator(_plausible),
    Field(description="An instant with its UTC offset, e.g. 2026-11-20T09:00:00+08:00"),
]
CameraCode = Annotated[
    str, Field(pattern=CODE_PATTERN, description="The camera's code (CameraConfig.camera_id)")
]
ZoneCode = Annotated[str, Field(pattern=CODE_PATTERN, description="The zone's id in the config")]


# ---------------------------------------------------------------- ingestion


class EventIn(BaseModel):
    """One phase of a finding. ``start`` records have no end; the ``end`` record repeats the
    event's id, kind, camera, zone and start, and sets ``end``."""

    model_config = ConfigDict(extra="forbid")
    id: uuid.UUID = Field(description="The finding's id, the same in its start and end records")
    phase: Literal["start", "end"]
    kind: EventKind
    camera_id: CameraCode
    zone: ZoneCode | None = Field(None, description="The zone; null only for camera-level findings")
    start: Instant
    end: Instant | None = None
    data: dict[str, Any] = Field(
        default_factory=dict, description="Kind-specific figures (duration_s, peak, ...)"
    )
    evidence_id: uuid.UUID | None = Field(
        None, description="A snapshot uploaded through /evidence for the camera's outlet"
    )

    @field_validator("end")
    @classmethod
    def _end_fits_phase(cls, value: datetime | None, info: ValidationInfo) -> datetime | None:
        phase, start = info.data.get("phase"), info.data.get("start")
        if phase == "end" and value is None:
            raise ValueError("an 'end' record needs end (when the finding was over)")
        if phase == "start" and value is not None:
            raise ValueError(
                "a 'start' record has no end; send the end as a record with phase 'end'"
            )
        if value is not None and start is not None and value < start:
            raise ValueError("end is before start")
        return value

    @field_validator("data")
    @classmethod
    def _small_json(cls, value: dict[str, Any]) -> dict[str, Any]:
        try:
            text = json.dumps(value, allow_nan=False)
        except ValueError as exc:
            raise ValueError("data must be plain JSON (no NaN or Infinity)") from exc
        if len(text) > MAX_DATA_CHARS:
            raise ValueError(f"data is {len(text)} characters of JSON; at most {MAX_DATA_CHARS}")
        return value


class SampleIn(BaseModel):
    """A queue zone at ``t``: people now, the smoothed count and the current wait."""

    model_config = ConfigDict(extra="forbid")
    camera_id: CameraCode
    zone: ZoneCode
    t: Instant
    count: int = Field(ge=0, le=MAX_COUNT)
    smoothed: float = Field(ge=0, le=MAX_COUNT)
    wait_s: float | None = Field(None, ge=0, le=MAX_SECONDS)


class WaitIn(BaseModel):
    """One person's completed wait in a queue zone: joined the queue, left it (service began).
    The server recomputes ``wait_s`` as ``left - joined``; ``sla_s`` is the zone's SLA the worker
    judged it by."""

    model_config = ConfigDict(extra="forbid")
    camera_id: CameraCode
    zone: ZoneCode
    track_id: int = Field(ge=0, le=MAX_TRACK_ID, description="The person's track id (per camera)")
    joined: Instant
    left: Instant
    wait_s: float = Field(ge=0, le=MAX_SECONDS, description="left - joined, as the worker saw it")
    sla_s: float = Field(gt=0, le=MAX_SECONDS, description="The zone's wait SLA (seconds)")

    @field_validator("left")
    @classmethod
    def _left_after_joined(cls, value: datetime, info: ValidationInfo) -> datetime:
        joined = info.data.get("joined")
        if joined is not None:
            if value < joined:
                raise ValueError("left is before joined")
            if (value - joined).total_seconds() > MAX_SECONDS:
                raise ValueError(f"left is more than {MAX_SECONDS / 86_400:.0f} days after joined")
        return value


class StateIn(BaseModel):
    """A counter zone's debounced state at ``t``; null state: not decided yet."""

    model_config = ConfigDict(extra="forbid")
    camera_id: CameraCode
    zone: ZoneCode
    state: CounterState | None
    since: Instant | None = None
    count: int = Field(0, ge=0, le=MAX_COUNT, description="Staff seen in the zone")
    t: Instant


class HealthIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    camera_id: CameraCode
    t: Instant
    online: bool
    achieved_fps: float = Field(ge=0, le=MAX_FPS)
    configured_fps: float = Field(ge=0, le=MAX_FPS)
    frames_read: int = Field(ge=0, le=MAX_FRAMES)
    frames_analysed: int = Field(ge=0, le=MAX_FRAMES)


class Batch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    events: list[EventIn] = Field(default_factory=list, max_length=MAX_ITEMS)
    samples: list[SampleIn] = Field(default_factory=list, max_length=MAX_ITEMS)
    states: list[StateIn] = Field(default_factory=list, max_length=MAX_ITEMS)
    health: list[HealthIn] = Field(default_factory=list, max_length=MAX_ITEMS)
    waits: list[WaitIn] = Field(default_factory=list, max_length=MAX_ITEMS)


class Counts(BaseModel):
    stored: int = 0
    duplicates: int = Field(0, description="Replays (and, for states and health, stale reports)")


class BatchResult(BaseModel):
    events: Counts
    samples: Counts
    states: Counts
    health: Counts
    waits: Counts


# ---------------------------------------------------------------- reads


class EventRead(BaseModel):
    id: uuid.UUID
    kind: EventKind
    camera_id: int
    camera_code: str
    outlet_id: int
    counter_id: int | None
    zone: str | None
    started_at: datetime
    ended_at: datetime | None
    duration_s: float | None
    open: bool = Field(description="No end received yet")
    data: dict[str, Any]
    evidence_id: uuid.UUID | None
    received_at: datetime
    updated_at: datetime


class EventPage(BaseModel):
    items: list[EventRead]
    total: int
    limit: int
    offset: int


class SampleRead(BaseModel):
    camera_id: int
    zone: str
    counter_id: int
    outlet_id: int
    at: datetime
    count: int
    smoothed: float
    wait_s: float | None


class SamplePage(BaseModel):
    items: list[SampleRead]
    total: int
    limit: int
    offset: int
    start: datetime
    end: datetime


class WaitRead(BaseModel):
    id: int
    camera_id: str = Field(description="The camera's code")
    zone: str
    counter_id: int
    outlet_id: int
    track_id: int
    joined_at: datetime
    left_at: datetime
    wait_s: float = Field(description="left_at - joined_at, in seconds")
    sla_s: float = Field(description="The zone's wait SLA when the wait was measured")
    within_sla: bool = Field(description="wait_s <= sla_s")


class WaitPage(BaseModel):
    items: list[WaitRead]
    total: int
    limit: int
    offset: int
    start: datetime
    end: datetime


class CameraHealthRead(BaseModel):
    camera_id: int
    camera_code: str
    camera_name: str
    outlet_id: int
    reported: bool = Field(description="A health report was ever received")
    online: bool | None = Field(description="As last reported; null: never reported")
    stale: bool = Field(description="No report for a while: the worker may be down")
    last_seen_at: datetime | None
    seconds_since_seen: float | None
    achieved_fps: float | None
    configured_fps: float | None
    behind: bool = Field(description="achieved_fps below 80% of configured_fps")
    frames_read: int | None
    frames_analysed: int | None


LiveState = Literal["attended", "unattended", "closed", "unknown"]


class CounterLive(BaseModel):
    counter_id: int
    code: str
    name: str
    state: LiveState = Field(description="unknown: no fresh report (or not decided yet)")
    since: datetime | None
    for_s: float | None = Field(description="Seconds in this state, by the server clock")
    staff_count: int | None
    reported_at: datetime | None
    stale: bool
    queue_length: float | None = Field(description="Latest smoothed queue length")
    queue_count: int | None
    wait_s: float | None
    queue_at: datetime | None
    open_alerts: int


class OutletLive(BaseModel):
    outlet_id: int
    code: str
    name: str
    unattended: int = Field(description="Counters unattended now")
    open_alerts: int
    camera_problems: int = Field(description="Cameras offline, stale, behind or never reported")
    counters: list[CounterLive] = Field(description="Worst first")
    alerts: list[EventRead] = Field(description="Open findings, oldest first")
    cameras: list[CameraHealthRead]


class LiveView(BaseModel):
    generated_at: datetime
    outlets: list[OutletLive] = Field(description="Worst first")
