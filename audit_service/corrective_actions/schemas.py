"""Request and response bodies of corrective actions."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from audit_service.models.audits import ActionStatus


class ActionRead(BaseModel):
    id: int
    audit_id: int
    outlet_id: int
    item: str
    critical: bool
    title: str
    assignee_staff_id: int | None
    assignee: str | None
    due_on: date
    overdue: bool
    status: ActionStatus
    created_at: datetime
    fix_note: str
    fix_evidence_ids: list[uuid.UUID]
    fixed_at: datetime | None
    verified_at: datetime | None
    verify_comment: str


class ActionFix(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: str = Field(min_length=3, max_length=2000, description="What was done")
    evidence_ids: list[uuid.UUID] = Field(
        default_factory=list, max_length=10, description="Photos of the fix (POST /evidence)"
    )


class ActionVerify(BaseModel):
    model_config = ConfigDict(extra="forbid")
    accept: bool = Field(True, description="false reopens the action")
    comment: str = Field("", max_length=2000)
