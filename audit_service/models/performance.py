"""Staff performance: the score settings, the facts scores are built from, the scores per
period, disputes of findings, and the cross-check of shopper reports against the cameras.

``score_facts`` and ``staff_scores`` are materialised: rebuilt in SQL from the audits, vision
events, queue waits and the roster whenever a period they cover is marked stale
(``score_periods.stale``). See docs/performance.md for the rules.
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from audit_service.core.db import GUID, Base, UTCDateTime


def _enum(cls: type[enum.Enum]) -> Enum:
    return Enum(cls, native_enum=False, length=16)


class Component(enum.StrEnum):
    audit = "audit"  # weighted mean of attributed checklist item scores
    attendance = "attendance"  # share of rostered open minutes the counter was attended
    queue = "queue"  # share of completed waits within the SLA at the person's counter


class SourceKind(enum.StrEnum):
    audit_item = "audit_item"
    shift = "shift"  # rostered open minutes (the attendance denominator)
    vision_event = "vision_event"  # unattended minutes within a shift (or nobody rostered)
    queue_wait = "queue_wait"


class FactAttribution(enum.StrEnum):
    roster = "roster"  # the shift at that counter (or the lobby-manager shift) at that time
    badge = "badge"  # the auditor saw the badge number
    outlet_manager = "outlet_manager"  # outlet-level: nobody rostered, or an outlet item
    unresolved = "unresolved"  # counts for the outlet only


class PeriodKind(enum.StrEnum):
    week = "week"
    month = "month"
    quarter = "quarter"


class DisputeStatus(enum.StrEnum):
    open = "open"
    upheld = "upheld"  # the finding is removed from every score
    rejected = "rejected"


class CrossCheckStatus(enum.StrEnum):
    agreed = "agreed"
    flagged = "flagged"  # a disagreement beyond tolerance, waiting for review
    reviewed = "reviewed"
    no_data = "no_data"  # the cameras measured nothing to compare with


class CrossCheckVerdict(enum.StrEnum):
    shopper = "shopper"  # the shopper's report stands (the camera was wrong)
    camera = "camera"  # the camera stands (the report was wrong)
    unclear = "unclear"


class ScoreSettings(Base):
    """The organisation's score model (one row, id 1). Weights need not sum to 1."""

    __tablename__ = "score_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    weight_audit: Mapped[float] = mapped_column(Float, default=0.5)
    weight_attendance: Mapped[float] = mapped_column(Float, default=0.3)
    weight_queue: Mapped[float] = mapped_column(Float, default=0.2)
    # Prior strength: how many observations the prior counts as (items, minutes, waits).
    prior_audit: Mapped[float] = mapped_column(Float, default=10.0)
    prior_attendance: Mapped[float] = mapped_column(Float, default=480.0)
    prior_queue: Mapped[float] = mapped_column(Float, default=20.0)
    # Below these a component is provisional (items, minutes, waits).
    min_audit: Mapped[float] = mapped_column(Float, default=5.0)
    min_attendance: Mapped[float] = mapped_column(Float, default=960.0)
    min_queue: Mapped[float] = mapped_column(Float, default=10.0)
    interval_z: Mapped[float] = mapped_column(Float, default=1.645)  # 90 % two-sided
    period_timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    # Cross-check tolerances: a wait agrees within max(s, ratio × reported); a queue within n.
    wait_tolerance_s: Mapped[float] = mapped_column(Float, default=120.0)
    wait_tolerance_ratio: Mapped[float] = mapped_column(Float, default=0.5)
    queue_tolerance: Mapped[float] = mapped_column(Float, default=2.0)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)


class ScorePeriod(Base):
    """A period whose scores are materialised; ``stale`` when an input changed since."""

    __tablename__ = "score_periods"

    kind: Mapped[PeriodKind] = mapped_column(_enum(PeriodKind), primary_key=True)
    key: Mapped[str] = mapped_column(String(16), primary_key=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    computed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    stale: Mapped[bool] = mapped_column(Boolean, default=True)


class OpenInterval(Base):
    """An outlet's opening hours on one day as UTC instants (materialised from the weekly hours
    and exceptions) so SQL can intersect shifts and findings with them."""

    __tablename__ = "open_intervals"

    outlet_id: Mapped[int] = mapped_column(
        ForeignKey("outlets.id", ondelete="CASCADE"), primary_key=True
    )
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime(), primary_key=True)
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime())


class OpenHoursCoverage(Base):
    """A UTC range for which every outlet's open intervals are materialised. Cleared when any
    opening hours change, so the next rebuild regenerates them."""

    __tablename__ = "open_hours_coverage"

    starts_at: Mapped[datetime] = mapped_column(UTCDateTime(), primary_key=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime(), primary_key=True)


class FactDay(Base):
    """A UTC day whose score facts are built; ``stale`` when an input of that day changed.
    Facts are rebuilt day by day, so a period's rebuild redoes only the days that changed."""

    __tablename__ = "fact_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    stale: Mapped[bool] = mapped_column(Boolean, default=False)
    built_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ScoreFact(Base):
    """One record a score is built from: ``good`` out of ``observed`` (item points of possible,
    attended minutes of rostered minutes, waits within SLA of waits). A finding's record has
    ``finding`` set; unattended minutes are negative ``good`` against their shift's minutes."""

    __tablename__ = "score_facts"
    __table_args__ = (
        Index("ix_score_facts_staff_at", "staff_id", "at"),
        Index("ix_score_facts_outlet_at", "outlet_id", "at"),
        Index("ix_score_facts_at", "at"),
        Index("ix_score_facts_source", "source_kind", "source_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    component: Mapped[Component] = mapped_column(_enum(Component))
    source_kind: Mapped[SourceKind] = mapped_column(_enum(SourceKind))
    source_id: Mapped[str] = mapped_column(String(36))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), default=None)
    outlet_id: Mapped[int] = mapped_column(ForeignKey("outlets.id"))
    counter_id: Mapped[int | None] = mapped_column(ForeignKey("counters.id"), default=None)
    shift_id: Mapped[int | None] = mapped_column(Integer, default=None)
    audit_id: Mapped[int | None] = mapped_column(Integer, default=None)
    evidence_id: Mapped[uuid.UUID | None] = mapped_column(GUID(), default=None)
    attribution: Mapped[FactAttribution] = mapped_column(_enum(FactAttribution))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    observed: Mapped[float] = mapped_column(Float)
    good: Mapped[float] = mapped_column(Float)
    finding: Mapped[bool] = mapped_column(Boolean, default=False)
    # An upheld dispute: kept for the explanation, left out of every score.
    excluded: Mapped[bool] = mapped_column(Boolean, default=False)


class StaffScore(Base):
    """One staff member's scores for one period (materialised; see ScorePeriod)."""

    __tablename__ = "staff_scores"
    __table_args__ = (
        Index("ix_staff_scores_period_outlet", "period_kind", "period_key", "outlet_id"),
    )

    period_kind: Mapped[PeriodKind] = mapped_column(_enum(PeriodKind), primary_key=True)
    period_key: Mapped[str] = mapped_column(String(16), primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), primary_key=True)
    outlet_id: Mapped[int] = mapped_column(ForeignKey("outlets.id"))
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"))
    team_lead_id: Mapped[int | None] = mapped_column(Integer, default=None)
    audit_n: Mapped[float] = mapped_column(Float, default=0.0)
    audit_raw: Mapped[float | None] = mapped_column(Float, default=None)
    audit_score: Mapped[float | None] = mapped_column(Float, default=None)
    audit_low: Mapped[float | None] = mapped_column(Float, default=None)
    audit_high: Mapped[float | None] = mapped_column(Float, default=None)
    attendance_n: Mapped[float] = mapped_column(Float, default=0.0)
    attendance_raw: Mapped[float | None] = mapped_column(Float, default=None)
    attendance_score: Mapped[float | None] = mapped_column(Float, default=None)
    attendance_low: Mapped[float | None] = mapped_column(Float, default=None)
    attendance_high: Mapped[float | None] = mapped_column(Float, default=None)
    queue_n: Mapped[float] = mapped_column(Float, default=0.0)
    queue_raw: Mapped[float | None] = mapped_column(Float, default=None)
    queue_score: Mapped[float | None] = mapped_column(Float, default=None)
    queue_low: Mapped[float | None] = mapped_column(Float, default=None)
    queue_high: Mapped[float | None] = mapped_column(Float, default=None)
    score: Mapped[float | None] = mapped_column(Float, default=None)
    low: Mapped[float | None] = mapped_column(Float, default=None)
    high: Mapped[float | None] = mapped_column(Float, default=None)
    n_observations: Mapped[int] = mapped_column(Integer, default=0)
    provisional: Mapped[bool] = mapped_column(Boolean, default=True)
    rank_outlet: Mapped[int | None] = mapped_column(Integer, default=None)
    outlet_size: Mapped[int | None] = mapped_column(Integer, default=None)
    rank_region: Mapped[int | None] = mapped_column(Integer, default=None)
    region_size: Mapped[int | None] = mapped_column(Integer, default=None)
    percentile_region: Mapped[float | None] = mapped_column(Float, default=None)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Dispute(Base):
    """A staff member's or outlet manager's objection to a finding, and its resolution."""

    __tablename__ = "disputes"
    __table_args__ = (
        Index("ix_disputes_source", "source_kind", "source_id"),
        Index("ix_disputes_outlet_status", "outlet_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source_kind: Mapped[SourceKind] = mapped_column(_enum(SourceKind))
    source_id: Mapped[str] = mapped_column(String(36))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), default=None)
    outlet_id: Mapped[int] = mapped_column(ForeignKey("outlets.id"))
    raised_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime())
    comment: Mapped[str] = mapped_column(Text)
    evidence_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[DisputeStatus] = mapped_column(_enum(DisputeStatus), default=DisputeStatus.open)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    resolution_comment: Mapped[str] = mapped_column(Text, default="")


class CrossCheck(Base):
    """What a shopper reported at a visit against what the cameras measured then and there."""

    __tablename__ = "cross_checks"
    __table_args__ = (Index("ix_cross_checks_outlet_status", "outlet_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    audit_id: Mapped[int] = mapped_column(ForeignKey("audits.id"), unique=True)
    outlet_id: Mapped[int] = mapped_column(ForeignKey("outlets.id"))
    counter_id: Mapped[int | None] = mapped_column(ForeignKey("counters.id"), default=None)
    auditor_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    # [{name, reported, measured, tolerance, agrees}]
    fields: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    status: Mapped[CrossCheckStatus] = mapped_column(_enum(CrossCheckStatus))
    # For the shopper's reliability: None when nothing could be compared or the review was unclear.
    agrees: Mapped[bool | None] = mapped_column(Boolean, default=None)
    verdict: Mapped[CrossCheckVerdict | None] = mapped_column(
        _enum(CrossCheckVerdict), default=None
    )
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    review_comment: Mapped[str] = mapped_column(Text, default="")
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime())
