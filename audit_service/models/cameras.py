"""Cameras of an outlet and their zones: the configuration vision workers fetch."""

from __future__ import annotations

import enum
from typing import Any

from sqlalchemy import JSON, Enum, Float, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from audit_service.core.db import Base, TimestampMixin
from audit_service.models.organisation import Counter, Outlet


class ZoneKind(enum.StrEnum):
    counter = "counter"  # the staff station behind a counter
    queue = "queue"  # the customers' waiting area in front of it


class Anchor(enum.StrEnum):
    center = "center"
    bottom_center = "bottom_center"


class Camera(TimestampMixin, Base):
    __tablename__ = "cameras"

    id: Mapped[int] = mapped_column(primary_key=True)
    outlet_id: Mapped[int] = mapped_column(ForeignKey("outlets.id"), index=True)
    # The camera_id of the vision config, e.g. "outlet-07-cam-2"; unique organisation-wide.
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    # Encrypted with the service secret (Fernet): stream URLs carry camera passwords.
    stream_url_encrypted: Mapped[str | None] = mapped_column(Text, default=None)
    analysis_fps: Mapped[float] = mapped_column(Float, default=2.0)
    model_options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    blur_faces: Mapped[bool] = mapped_column(default=True)
    active: Mapped[bool] = mapped_column(default=True)

    outlet: Mapped[Outlet] = relationship()
    zones: Mapped[list[Zone]] = relationship(
        back_populates="camera", order_by="Zone.code", cascade="all, delete-orphan"
    )


class Zone(TimestampMixin, Base):
    __tablename__ = "zones"
    __table_args__ = (UniqueConstraint("camera_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    camera_id: Mapped[int] = mapped_column(ForeignKey("cameras.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(64))
    kind: Mapped[ZoneKind] = mapped_column(Enum(ZoneKind, native_enum=False, length=16))
    counter_id: Mapped[int] = mapped_column(ForeignKey("counters.id"), index=True)
    # [[x, y], ...] relative to the frame: 0-1 on both axes.
    polygon: Mapped[list[list[float]]] = mapped_column(JSON)
    anchor: Mapped[Anchor] = mapped_column(
        Enum(Anchor, native_enum=False, length=16), default=Anchor.center
    )
    min_presence_s: Mapped[float] = mapped_column(Float, default=2.0)
    unattended_after_s: Mapped[float] = mapped_column(Float, default=60.0)
    max_queue: Mapped[int | None] = mapped_column(default=None)
    wait_sla_s: Mapped[float | None] = mapped_column(Float, default=None)

    camera: Mapped[Camera] = relationship(back_populates="zones")
    counter: Mapped[Counter] = relationship()
