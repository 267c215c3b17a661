"""What vision workers report: findings (events), queue samples, live zone states, camera health,
and which cameras each worker account runs."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from audit_service.core.db import Base, utcnow


class EventKind(enum.StrEnum):
    counter_unattended = "counter_unattended"
    queue_over_threshold = "queue_over_threshold"
    camera_offline = "camera_offline"
    camera_online = "camera_online"


class CounterState(enum.StrEnum):
    attended = "attended"
    unattended = "unattended"
    closed = "closed"


class WorkerCamera(Base):
    """A camera a worker account runs: it may fetch its config and report for it, nothing else."""

    __tablename__ = "worker_cameras"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    camera_id: Mapped[int] = mapped_column(
        ForeignKey("cameras.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class VisionEvent(Base):
    """One finding, keyed by the worker's event id. Its start and end records may arrive in any
    order and more than once; ``start_received`` / ``end_received`` make each phase count once."""

    __tablename__ = "vision_events"
    __table_args__ = (
        Index("ix_vision_events_outlet_started", "outlet_id", "started_at"),
        Index("ix_vision_events_kind_started", "kind", "started_at"),
        Index("ix_vision_events_counter_started", "counter_id", "started_at"),
        # The live view's open alerts: a small partial index on both databases.
        Index(
            "ix_vision_events_open",
            "outlet_id",
            "started_at",
            sqlite_where=text("ended_at IS NULL"),
            postgresql_where=text("ended_at IS NULL"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    # History: a camera or counter with findings cannot be deleted (deactivate it instead).
    camera_id: Mapped[int] = mapped_column(ForeignKey("cameras.id"), index=True)
    outlet_id: Mapped[int] = mapped_column(ForeignKey("outlets.id"))
    counter_id: Mapped[int | None] = mapped_column(ForeignKey("counters.id"), default=None)
    zone_code: Mapped[str | None] = mapped_column(String(64), default=None)
    kind: Mapped[EventKind] = mapped_column(Enum(EventKind, native_enum=False, length=32))
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None] = mapped_column(default=None)
    duration_s: Mapped[float | None] = mapped_column(Float, default=None)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    evidence_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("evidence_items.id"), default=None, index=True
    )
    start_received: Mapped[bool] = mapped_column(default=False)
    end_received: Mapped[bool] = mapped_column(default=False)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class QueueSample(Base):
    """A queue zone at one instant. The natural key is the primary key: replays are no-ops."""

    __tablename__ = "queue_samples"
    __table_args__ = (
        Index("ix_queue_samples_outlet_at", "outlet_id", "at"),
        Index("ix_queue_samples_counter_at", "counter_id", "at"),
    )

    camera_id: Mapped[int] = mapped_column(ForeignKey("cameras.id"), primary_key=True)
    zone_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    at: Mapped[datetime] = mapped_column(primary_key=True)
    counter_id: Mapped[int] = mapped_column(ForeignKey("counters.id"))
    outlet_id: Mapped[int] = mapped_column(ForeignKey("outlets.id"))
    count: Mapped[int]
    smoothed: Mapped[float] = mapped_column(Float)
    wait_s: Mapped[float | None] = mapped_column(Float, default=None)


class ZoneState(Base):
    """The latest debounced state of a counter zone (one row per zone, newest ``at`` wins)."""

    __tablename__ = "zone_states"

    camera_id: Mapped[int] = mapped_column(
        ForeignKey("cameras.id", ondelete="CASCADE"), primary_key=True
    )
    zone_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    counter_id: Mapped[int] = mapped_column(ForeignKey("counters.id", ondelete="CASCADE"))
    outlet_id: Mapped[int] = mapped_column(ForeignKey("outlets.id"), index=True)
    # None: the worker has not decided yet (shown as "unknown").
    state: Mapped[CounterState | None] = mapped_column(
        Enum(CounterState, native_enum=False, length=16), default=None
    )
    since: Mapped[datetime | None] = mapped_column(default=None)
    count: Mapped[int] = mapped_column(default=0)
    at: Mapped[datetime]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class CameraHealth(Base):
    """The latest health report of a camera's worker (newest ``last_seen_at`` wins)."""

    __tablename__ = "camera_health"

    camera_id: Mapped[int] = mapped_column(
        ForeignKey("cameras.id", ondelete="CASCADE"), primary_key=True
    )
    online: Mapped[bool]
    last_seen_at: Mapped[datetime]
    achieved_fps: Mapped[float] = mapped_column(Float)
    configured_fps: Mapped[float] = mapped_column(Float)
    # achieved_fps < BEHIND_RATIO x configured_fps (see camera_findings.service).
    behind: Mapped[bool]
    frames_read: Mapped[int] = mapped_column(BigInteger)
    frames_analysed: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class QueueWait(Base):
    """One person's finished wait in a queue zone (joined → left), as the worker measured it.

    The natural key (camera, zone, track, joined) is unique: replays are no-ops. ``left_at`` is
    when service began, so the wait counts for whoever was rostered at the counter then.
    """

    __tablename__ = "queue_waits"
    __table_args__ = (
        UniqueConstraint("camera_id", "zone_code", "track_id", "joined_at"),
        Index("ix_queue_waits_counter_left", "counter_id", "left_at"),
        Index("ix_queue_waits_outlet_left", "outlet_id", "left_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    camera_id: Mapped[int] = mapped_column(ForeignKey("cameras.id"))
    zone_code: Mapped[str] = mapped_column(String(64))
    track_id: Mapped[int] = mapped_column(BigInteger)
    counter_id: Mapped[int] = mapped_column(ForeignKey("counters.id"))
    outlet_id: Mapped[int] = mapped_column(ForeignKey("outlets.id"))
    joined_at: Mapped[datetime]
    left_at: Mapped[datetime]
    wait_s: Mapped[float] = mapped_column(Float)
    # The zone's SLA when the wait was measured (a later zone change does not rewrite history).
    sla_s: Mapped[float] = mapped_column(Float)
    within_sla: Mapped[bool]
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
