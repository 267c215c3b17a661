"""Staff, their outlet history, and the roster of shifts."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import CheckConstraint, Enum, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from audit_service.core.db import Base, TimestampMixin
from audit_service.models.organisation import Counter, Outlet


class StaffRole(enum.StrEnum):
    lobby_manager = "lobby_manager"
    counter_clerk = "counter_clerk"
    outlet_manager = "outlet_manager"
    other = "other"


class ShiftRole(enum.StrEnum):
    counter = "counter"  # at one counter
    lobby_manager = "lobby_manager"  # lobby manager of the whole outlet


class Staff(TimestampMixin, Base):
    __tablename__ = "staff"

    id: Mapped[int] = mapped_column(primary_key=True)
    employee_no: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[StaffRole] = mapped_column(Enum(StaffRole, native_enum=False, length=32))
    # The current outlet; the full history is in staff_assignments.
    outlet_id: Mapped[int] = mapped_column(ForeignKey("outlets.id"), index=True)
    team_lead_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), default=None)
    active_from: Mapped[date]
    active_to: Mapped[date | None] = mapped_column(default=None)

    outlet: Mapped[Outlet] = relationship()
    team_lead: Mapped[Staff | None] = relationship(remote_side=[id])
    assignments: Mapped[list[StaffAssignment]] = relationship(
        back_populates="staff", order_by="StaffAssignment.valid_from"
    )


class StaffAssignment(TimestampMixin, Base):
    """One period of a staff member at an outlet in a role. ``valid_to`` None = current."""

    __tablename__ = "staff_assignments"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), index=True)
    outlet_id: Mapped[int] = mapped_column(ForeignKey("outlets.id"), index=True)
    role: Mapped[StaffRole] = mapped_column(Enum(StaffRole, native_enum=False, length=32))
    valid_from: Mapped[date]
    valid_to: Mapped[date | None] = mapped_column(default=None)

    staff: Mapped[Staff] = relationship(back_populates="assignments")
    outlet: Mapped[Outlet] = relationship()


class Shift(TimestampMixin, Base):
    """One staff member at one counter, or as lobby manager of the outlet, from start to end."""

    __tablename__ = "shifts"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint(
            "(role = 'counter' AND counter_id IS NOT NULL) OR "
            "(role = 'lobby_manager' AND counter_id IS NULL)",
            name="counter_matches_role",
        ),
        # Who was rostered at a counter at a time (score attribution, audit attribution).
        Index("ix_shifts_counter_starts", "counter_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), index=True)
    outlet_id: Mapped[int] = mapped_column(ForeignKey("outlets.id"), index=True)
    counter_id: Mapped[int | None] = mapped_column(ForeignKey("counters.id"), index=True)
    role: Mapped[ShiftRole] = mapped_column(Enum(ShiftRole, native_enum=False, length=32))
    starts_at: Mapped[datetime] = mapped_column(index=True)
    ends_at: Mapped[datetime]
    # Which roster import created it, if any (for traceability).
    import_batch: Mapped[str | None] = mapped_column(String(36), default=None)

    staff: Mapped[Staff] = relationship()
    outlet: Mapped[Outlet] = relationship()
    counter: Mapped[Counter | None] = relationship()
