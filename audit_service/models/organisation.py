"""Regions → outlets → counters, with each outlet's time zone and opening hours."""

from __future__ import annotations

import enum
from datetime import date
from typing import Any

from sqlalchemy import JSON, Enum, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from audit_service.core.db import Base, TimestampMixin


class CounterKind(enum.StrEnum):
    issuance = "issuance"
    claims = "claims"
    consultation = "consultation"
    lobby_desk = "lobby_desk"
    other = "other"


class Region(TimestampMixin, Base):
    __tablename__ = "regions"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))

    outlets: Mapped[list[Outlet]] = relationship(back_populates="region")


class Outlet(TimestampMixin, Base):
    __tablename__ = "outlets"

    id: Mapped[int] = mapped_column(primary_key=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"), index=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(500), default="")
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    # {"mon": [{"opens": "09:00", "closes": "17:00", "extended": false}, ...], ...}
    opening_hours: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    region: Mapped[Region] = relationship(back_populates="outlets")
    counters: Mapped[list[Counter]] = relationship(back_populates="outlet", order_by="Counter.code")
    hours_exceptions: Mapped[list[OutletHoursException]] = relationship(
        back_populates="outlet", order_by="OutletHoursException.day", cascade="all, delete-orphan"
    )


class OutletHoursException(TimestampMixin, Base):
    """A date on which the weekly hours do not apply: a holiday (closed) or special hours."""

    __tablename__ = "outlet_hours_exceptions"
    __table_args__ = (UniqueConstraint("outlet_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    outlet_id: Mapped[int] = mapped_column(ForeignKey("outlets.id", ondelete="CASCADE"))
    day: Mapped[date]
    closed: Mapped[bool] = mapped_column(default=True)
    # Same interval shape as one weekday of ``Outlet.opening_hours``; empty when closed.
    intervals: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    note: Mapped[str] = mapped_column(String(200), default="")

    outlet: Mapped[Outlet] = relationship(back_populates="hours_exceptions")


class Counter(TimestampMixin, Base):
    __tablename__ = "counters"
    __table_args__ = (UniqueConstraint("outlet_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    outlet_id: Mapped[int] = mapped_column(ForeignKey("outlets.id"), index=True)
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200), default="")
    kind: Mapped[CounterKind] = mapped_column(
        Enum(CounterKind, native_enum=False, length=32, validate_strings=True)
    )
    active: Mapped[bool] = mapped_column(default=True)

    outlet: Mapped[Outlet] = relationship(back_populates="counters")
