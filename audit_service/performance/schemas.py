"""Performance request and response bodies (the score model is documented on each field)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, Field

from audit_service.models import DisputeStatus, PeriodKind, SourceKind


class PeriodRead(BaseModel):
    kind: PeriodKind
    key: str = Field(description="2026-W48 (ISO week), 2026-11 (month) or 2026-Q4 (quarter)")
    label: str
    start: datetime = Field(description="First instant (UTC), inclusive")
    end: datetime = Field(description="Last instant (UTC), exclusive")


class PeriodState(PeriodRead):
    computed_at: datetime | None = None


class ComponentRead(BaseModel):
    n: float | None = Field(
        description="Evidence: audit items, rostered open minutes, or completed waits"
    )
    raw: float | None = Field(description="The unshrunk share 0..1 (null without evidence)")
    score: float | None = Field(description="Shrunk toward the outlet (or org) mean, 0..1")
    low: float | None = Field(description="Interval low (interval_z standard deviations)")
    high: float | None
    provisional: bool | None = Field(None, description="Less evidence than the minimum")


class Components(BaseModel):
    audit: ComponentRead
    attendance: ComponentRead
    queue: ComponentRead


class StaffScoreRead(BaseModel):
    staff_id: int
    employee_no: str
    name: str
    role: str
    team_lead_id: int | None
    team: str | None = Field(description="The team lead's name")
    outlet_id: int
    outlet_code: str
    outlet: str
    region_id: int
    region_code: str
    region: str
    components: Components
    score: float | None = Field(description="Weighted mean of the components present")
    low: float | None
    high: float | None
    n_observations: int = Field(description="Audit items + rostered shifts + completed waits")
    provisional: bool
    rank_outlet: int | None
    outlet_size: int | None
    rank_region: int | None
    region_size: int | None
    percentile_region: float | None = Field(description="Share of the region at or below, 0..1")


class GroupScoreRead(BaseModel):
    staff_id: int | None = None
    name: str | None = None
    employee_no: str | None = None
    outlet_id: int | None = None
    outlet: str | None = None
    outlet_code: str | None = None
    region_id: int | None = None
    components: Components
    score: float | None
    low: float | None
    high: float | None
    n_observations: int
    provisional: bool
    rank: int | None


class ScorePage(BaseModel):
    period: PeriodState
    level: Literal["staff", "team", "outlet"]
    total: int
    items: list[StaffScoreRead] | list[GroupScoreRead]


class TrendPoint(BaseModel):
    period: str
    score: float | None
    low: float | None
    high: float | None
    provisional: bool


class DisputeRef(BaseModel):
    id: int
    status: DisputeStatus


class RecordRead(BaseModel):
    id: int
    component: str
    source_kind: SourceKind
    source_id: str
    attribution: str
    at: datetime
    outlet_id: int
    counter_id: int | None
    shift_id: int | None
    audit_id: int | None
    observed: float | None = Field(description="Possible points, rostered minutes, or 1 wait")
    good: float | None = Field(
        description="Points, attended minutes (negative: unattended), or 1 within SLA"
    )
    finding: bool
    excluded: bool = Field(description="Removed from scores by an upheld dispute")
    link: str = Field(description="API path of the audit, event or wait behind it")
    evidence_id: uuid.UUID | None = Field(
        description="Open with POST /api/v1/evidence/{id}/view-url (evidence:view; logged)"
    )
    dispute: DisputeRef | None


class StaffDetail(BaseModel):
    period: PeriodRead
    score: StaffScoreRead | None
    trend: list[TrendPoint]
    records: list[RecordRead]


class Recomputed(BaseModel):
    kind: PeriodKind
    key: str
    computed_at: datetime
    facts: int = Field(description="Facts rebuilt (of the days rebuilt)")
    scores: int
    rebuilt_days: int = Field(description="UTC days whose facts were rebuilt first")
    seconds: float


class SettingsRead(BaseModel):
    weight_audit: float
    weight_attendance: float
    weight_queue: float
    prior_audit: float = Field(description="Prior strength in audit items")
    prior_attendance: float = Field(description="Prior strength in minutes")
    prior_queue: float = Field(description="Prior strength in waits")
    min_audit: float
    min_attendance: float
    min_queue: float
    interval_z: float
    period_timezone: str
    wait_tolerance_s: float
    wait_tolerance_ratio: float
    queue_tolerance: float
    updated_at: datetime | None


class SettingsUpdate(BaseModel):
    weight_audit: float | None = Field(None, ge=0, le=100)
    weight_attendance: float | None = Field(None, ge=0, le=100)
    weight_queue: float | None = Field(None, ge=0, le=100)
    prior_audit: float | None = Field(None, gt=0, le=1e6)
    prior_attendance: float | None = Field(None, gt=0, le=1e6)
    prior_queue: float | None = Field(None, gt=0, le=1e6)
    min_audit: float | None = Field(None, ge=0, le=1e6)
    min_attendance: float | None = Field(None, ge=0, le=1e6)
    min_queue: float | None = Field(None, ge=0, le=1e6)
    interval_z: float | None = Field(None, gt=0, le=5)
    period_timezone: str | None = Field(None, min_length=1, max_length=64)
    wait_tolerance_s: float | None = Field(None, ge=0, le=86400)
    wait_tolerance_ratio: float | None = Field(None, ge=0, le=10)
    queue_tolerance: float | None = Field(None, ge=0, le=1000)


class DisputeCreate(BaseModel):
    source_kind: Literal[SourceKind.audit_item, SourceKind.vision_event, SourceKind.queue_wait]
    source_id: str = Field(min_length=1, max_length=36)
    comment: str = Field(min_length=1, max_length=4000)
    evidence_ids: list[uuid.UUID] = Field(default_factory=list, max_length=10)


class DisputeResolve(BaseModel):
    decision: Literal[DisputeStatus.upheld, DisputeStatus.rejected]
    comment: str = Field("", max_length=4000)


class DisputeRead(BaseModel):
    id: int
    source_kind: SourceKind
    source_id: str
    staff_id: int | None
    outlet_id: int
    raised_by_id: int
    raised_at: AwareDatetime
    comment: str
    evidence_ids: list[str]
    status: DisputeStatus
    resolved_by_id: int | None
    resolved_at: datetime | None
    resolution_comment: str

    model_config = {"from_attributes": True}


class DisputePage(BaseModel):
    total: int
    items: list[DisputeRead]
