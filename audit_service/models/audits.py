"""Checklists, visits, audits and what follows from them (review history, corrective actions).

A checklist version's definition is one JSON document (``checklists.definition``): it is written
whole while a draft and frozen once published, so a column per item would buy nothing. What later
queries need per item (points, the staff it measures) is stored row by row in ``AuditItem``.
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from audit_service.core.db import GUID, Base, UTCDateTime


def _enum(cls: type[enum.Enum]) -> Enum:
    return Enum(cls, native_enum=False, length=32)


class VersionStatus(enum.StrEnum):
    draft = "draft"
    published = "published"


class VisitKind(enum.StrEnum):
    assigned = "assigned"  # announced to the auditor with a date window
    unannounced = "unannounced"  # picked at random within a window


class VisitStatus(enum.StrEnum):
    assigned = "assigned"
    submitted = "submitted"  # an audit exists (its own status says how far review went)
    cancelled = "cancelled"


class AuditStatus(enum.StrEnum):
    submitted = "submitted"
    in_review = "in_review"
    approved = "approved"
    returned = "returned"  # back to the auditor for correction
    rejected = "rejected"


class AuditEventKind(enum.StrEnum):
    submitted = "submitted"
    resubmitted = "resubmitted"
    status = "status"  # a review step
    answer_edit = "answer_edit"  # a reviewer changed an answer


class Attribution(enum.StrEnum):
    badge = "badge"  # the auditor typed the badge number they saw
    roster = "roster"  # the shift covering the visit time
    outlet_manager = "outlet_manager"  # an outlet-level item: the manager in charge
    unresolved = "unresolved"


class ActionStatus(enum.StrEnum):
    open = "open"
    fixed = "fixed"
    verified = "verified"


class ChecklistTemplate(Base):
    __tablename__ = "checklist_templates"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)

    versions: Mapped[list[ChecklistVersion]] = relationship(
        back_populates="template", order_by="ChecklistVersion.number"
    )


class ChecklistVersion(Base):
    __tablename__ = "checklist_versions"
    __table_args__ = (UniqueConstraint("template_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    template_id: Mapped[int] = mapped_column(ForeignKey("checklist_templates.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    status: Mapped[VersionStatus] = mapped_column(_enum(VersionStatus), default=VersionStatus.draft)
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)

    template: Mapped[ChecklistTemplate] = relationship(back_populates="versions")


class Visit(Base):
    """A visit an auditor is to make: an outlet, a checklist version and a date window."""

    __tablename__ = "visits"
    __table_args__ = (Index("ix_visits_auditor_window", "auditor_id", "window_start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    outlet_id: Mapped[int] = mapped_column(ForeignKey("outlets.id"), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("checklist_versions.id"), index=True)
    auditor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[VisitKind] = mapped_column(_enum(VisitKind), default=VisitKind.assigned)
    status: Mapped[VisitStatus] = mapped_column(_enum(VisitStatus), default=VisitStatus.assigned)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime())
    window_end: Mapped[datetime] = mapped_column(UTCDateTime())
    # Unannounced visits: the instant picked at random (the auditor goes around then).
    planned_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)

    outlet = relationship("Outlet")
    version: Mapped[ChecklistVersion] = relationship()
    auditor = relationship("User", foreign_keys=[auditor_id])
    audit: Mapped[Audit | None] = relationship(back_populates="visit", uselist=False)


class Audit(Base):
    """One submitted checklist, scored on the server against its pinned version."""

    __tablename__ = "audits"
    __table_args__ = (Index("ix_audits_outlet_visited", "outlet_id", "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visits.id"), unique=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("checklist_versions.id"), index=True)
    outlet_id: Mapped[int] = mapped_column(ForeignKey("outlets.id"), index=True)
    auditor_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[AuditStatus] = mapped_column(_enum(AuditStatus), default=AuditStatus.submitted)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime] = mapped_column(UTCDateTime())
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    latitude: Mapped[float | None] = mapped_column(Float, default=None)
    longitude: Mapped[float | None] = mapped_column(Float, default=None)
    accuracy_m: Mapped[float | None] = mapped_column(Float, default=None)
    # The normalised answers ({item: {value, na, comment, photos, badge}}) as scored now.
    answers: Mapped[dict[str, Any]] = mapped_column(JSON)
    score: Mapped[float | None] = mapped_column(Float, default=None)
    passed: Mapped[bool | None] = mapped_column(Boolean, default=None)
    critical_failed: Mapped[bool] = mapped_column(Boolean, default=False)
    breakdown: Mapped[dict[str, Any]] = mapped_column(JSON)  # ScoreResult.to_dict()

    visit: Mapped[Visit] = relationship(back_populates="audit")
    version: Mapped[ChecklistVersion] = relationship()
    outlet = relationship("Outlet")
    auditor = relationship("User", foreign_keys=[auditor_id])
    items: Mapped[list[AuditItem]] = relationship(
        back_populates="audit", cascade="all, delete-orphan", order_by="AuditItem.position"
    )
    events: Mapped[list[AuditEvent]] = relationship(
        back_populates="audit", order_by="AuditEvent.id"
    )


class AuditItem(Base):
    """One item's result in an audit and the staff member it is attributed to."""

    __tablename__ = "audit_items"
    __table_args__ = (
        UniqueConstraint("audit_id", "item"),
        Index("ix_audit_items_staff", "staff_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    audit_id: Mapped[int] = mapped_column(ForeignKey("audits.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    section: Mapped[str] = mapped_column(String(64))
    item: Mapped[str] = mapped_column(String(64))
    role: Mapped[str | None] = mapped_column(String(32), default=None)
    standard: Mapped[str | None] = mapped_column(String(64), default=None)
    critical: Mapped[bool] = mapped_column(Boolean, default=False)
    na: Mapped[bool] = mapped_column(Boolean, default=False)
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    points: Mapped[float] = mapped_column(Float, default=0.0)
    possible: Mapped[float] = mapped_column(Float, default=0.0)
    fraction: Mapped[float | None] = mapped_column(Float, default=None)
    failed: Mapped[bool] = mapped_column(Boolean, default=False)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), default=None)
    attribution: Mapped[Attribution] = mapped_column(
        _enum(Attribution), default=Attribution.unresolved
    )

    audit: Mapped[Audit] = relationship(back_populates="items")
    staff = relationship("Staff")


class AuditEvent(Base):
    """The audit's history: submissions, review steps and answer edits (who, when, why)."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    audit_id: Mapped[int] = mapped_column(ForeignKey("audits.id", ondelete="CASCADE"), index=True)
    kind: Mapped[AuditEventKind] = mapped_column(_enum(AuditEventKind))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    from_status: Mapped[str | None] = mapped_column(String(32), default=None)
    to_status: Mapped[str | None] = mapped_column(String(32), default=None)
    item: Mapped[str | None] = mapped_column(String(64), default=None)
    old_answer: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    new_answer: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    comment: Mapped[str] = mapped_column(Text, default="")

    audit: Mapped[Audit] = relationship(back_populates="events")
    by = relationship("User")


class CorrectiveAction(Base):
    __tablename__ = "corrective_actions"
    __table_args__ = (
        UniqueConstraint("audit_id", "item"),
        Index("ix_corrective_actions_outlet_status", "outlet_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    audit_id: Mapped[int] = mapped_column(ForeignKey("audits.id"), index=True)
    outlet_id: Mapped[int] = mapped_column(ForeignKey("outlets.id"))
    item: Mapped[str] = mapped_column(String(64))
    critical: Mapped[bool] = mapped_column(Boolean, default=False)
    title: Mapped[str] = mapped_column(String(500))
    assignee_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), default=None)
    due_on: Mapped[date]
    status: Mapped[ActionStatus] = mapped_column(_enum(ActionStatus), default=ActionStatus.open)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    fix_note: Mapped[str] = mapped_column(Text, default="")
    fix_evidence_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    fixed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    fixed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    verified_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    verify_comment: Mapped[str] = mapped_column(Text, default="")

    audit: Mapped[Audit] = relationship()
    assignee = relationship("Staff")


class IdempotencyRecord(Base):
    """The first response to a request made with an ``Idempotency-Key``: a retry gets it again,
    the same key with another body is refused. Keys are per caller, so they can't collide
    across users."""

    __tablename__ = "idempotency_records"
    __table_args__ = (UniqueConstraint("user_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    key: Mapped[uuid.UUID] = mapped_column(GUID())
    scope: Mapped[str] = mapped_column(String(200))  # method and path
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
