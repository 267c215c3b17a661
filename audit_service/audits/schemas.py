"""Request and response bodies of visits, audits and their review."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from audit_service.core.types import DbId
from audit_service.models.audits import (
    Attribution,
    AuditEventKind,
    AuditStatus,
    VisitKind,
    VisitStatus,
)


class VisitCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    outlet_id: DbId
    version_id: DbId = Field(description="A published checklist version")
    auditor_id: DbId = Field(description="The account that makes the visit (auditor or supervisor)")
    window_start: AwareDatetime
    window_end: AwareDatetime
    notes: str = Field("", max_length=2000)

    @model_validator(mode="after")
    def _window(self) -> VisitCreate:
        if self.window_end <= self.window_start:
            raise ValueError("window_end must be after window_start")
        return self


class ScheduleRequest(BaseModel):
    """Unannounced visits at random instants within the outlets' opening hours."""

    model_config = ConfigDict(extra="forbid")
    version_id: DbId
    outlet_ids: list[DbId] = Field(min_length=1, max_length=200)
    auditor_ids: list[DbId] = Field(min_length=1, max_length=200)
    window_start: AwareDatetime
    window_end: AwareDatetime
    visits_per_outlet: int = Field(1, ge=1, le=20)
    lockout_days: int = Field(
        30, ge=0, le=365, description="Never the same auditor at the same outlet within this"
    )
    seed: int | None = Field(None, ge=0, le=2**31, description="Repeatable plans (tests, audits)")
    notes: str = Field("", max_length=2000)

    @model_validator(mode="after")
    def _window(self) -> ScheduleRequest:
        if self.window_end <= self.window_start:
            raise ValueError("window_end must be after window_start")
        if (self.window_end - self.window_start).days > 92:
            raise ValueError("the window may span at most 92 days; schedule quarter by quarter")
        return self


class OutletRef(BaseModel):
    id: int
    code: str
    name: str


class VisitRead(BaseModel):
    id: int
    outlet: OutletRef
    version_id: int
    template_code: str
    template_name: dict[str, str]
    auditor_id: int
    auditor: str
    kind: VisitKind
    status: VisitStatus
    window_start: datetime
    window_end: datetime
    planned_at: datetime | None
    notes: str
    audit_id: int | None
    audit_status: AuditStatus | None


class Location(BaseModel):
    model_config = ConfigDict(extra="forbid")
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    accuracy_m: float | None = Field(None, ge=0, le=100_000)


class AuditSubmission(BaseModel):
    """What the phone sends. ``answers`` is checked against the visit's checklist version."""

    model_config = ConfigDict(extra="forbid")
    started_at: AwareDatetime
    ended_at: AwareDatetime
    location: Location | None = None
    counter_id: DbId | None = Field(None, description="The counter that served the auditor")
    answers: dict[str, Any] = Field(max_length=1000)
    client_score: float | None = Field(None, description="Ignored: only the server scores")

    @model_validator(mode="after")
    def _times(self) -> AuditSubmission:
        if self.ended_at < self.started_at:
            raise ValueError("ended_at must not be before started_at")
        if (self.ended_at - self.started_at).total_seconds() > 24 * 3600:
            raise ValueError("a visit lasts at most 24 hours; check started_at and ended_at")
        return self


class ReviewAction(BaseModel):
    model_config = ConfigDict(extra="forbid")
    action: Literal["start_review", "approve", "return", "reject"]
    comment: str = Field("", max_length=2000)

    @model_validator(mode="after")
    def _why(self) -> ReviewAction:
        if self.action in ("return", "reject") and not self.comment.strip():
            raise ValueError(f"comment: say why you {self.action} the audit")
        return self


class AnswerEdit(BaseModel):
    """A reviewer's correction of one answer; the old answer stays in the history."""

    model_config = ConfigDict(extra="forbid")
    value: Any = None
    na: bool = False
    comment: str | None = Field(None, max_length=2000)
    badge: str | None = Field(None, max_length=32)
    reason: str = Field(min_length=3, max_length=2000, description="Why the answer changes")


class StaffRef(BaseModel):
    id: int
    name: str
    employee_no: str


class ItemResult(BaseModel):
    item: str
    section: str
    label: dict[str, str]
    type: str
    role: str | None
    standard: str | None
    critical: bool
    answer: dict[str, Any] | None
    na: bool
    hidden: bool
    points: float
    possible: float
    fraction: float | None
    failed: bool
    staff: StaffRef | None
    attribution: Attribution


class SectionResult(BaseModel):
    name: str
    label: dict[str, str]
    weight: float
    points: float
    possible: float
    percent: float | None


class HistoryEntry(BaseModel):
    kind: AuditEventKind
    at: datetime
    by: str | None
    from_status: str | None
    to_status: str | None
    item: str | None
    old_answer: dict[str, Any] | None
    new_answer: dict[str, Any] | None
    comment: str


class AuditRead(BaseModel):
    id: int
    visit_id: int
    version_id: int
    template_code: str
    template_name: dict[str, str]
    outlet: OutletRef
    auditor_id: int
    auditor: str
    status: AuditStatus
    started_at: datetime
    ended_at: datetime
    submitted_at: datetime
    reviewed_at: datetime | None
    location: Location | None
    counter_id: int | None = Field(None, description="The counter that served the auditor")
    score: float | None
    passed: bool | None
    critical_failed: bool
    capped: bool
    sections: list[SectionResult]
    items: list[ItemResult]
    history: list[HistoryEntry]
    corrective_action_ids: list[int]


class AuditSummary(BaseModel):
    id: int
    visit_id: int
    outlet_id: int
    template_code: str
    auditor_id: int
    status: AuditStatus
    started_at: datetime
    submitted_at: datetime
    score: float | None
    passed: bool | None
    critical_failed: bool


class AuditPage(BaseModel):
    items: list[AuditSummary]
    total: int
    limit: int
    offset: int
