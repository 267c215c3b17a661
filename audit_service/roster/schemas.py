from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from audit_service.core.types import DbId
from audit_service.models.staff import ShiftRole

MAX_SHIFT = timedelta(hours=16)
MIN_TIME = datetime(2000, 1, 1, tzinfo=UTC)
MAX_TIME = datetime(2100, 1, 1, tzinfo=UTC)


def time_in_range(value: datetime) -> datetime:
    # Bounded so converting to UTC can never overflow (and typos like year 20026 stand out).
    if not MIN_TIME.year <= value.year < MAX_TIME.year:
        raise ValueError(
            f"{value.isoformat()} is out of range; use a time between the years "
            f"{MIN_TIME.year} and {MAX_TIME.year - 1}"
        )
    return value


ShiftTime = Annotated[AwareDatetime, AfterValidator(time_in_range)]


def check_shift(
    role: ShiftRole, counter_given: bool, starts_at: datetime, ends_at: datetime
) -> None:
    if role is ShiftRole.counter and not counter_given:
        raise ValueError(
            "counter_id is required for a 'counter' shift (or use role 'lobby_manager')"
        )
    if role is ShiftRole.lobby_manager and counter_given:
        raise ValueError("counter_id must be null for a 'lobby_manager' shift")
    if ends_at <= starts_at:
        raise ValueError(
            f"ends_at ({ends_at.isoformat()}) must be after starts_at ({starts_at.isoformat()})"
        )
    if ends_at - starts_at > MAX_SHIFT:
        hours = (ends_at - starts_at).total_seconds() / 3600
        raise ValueError(
            f"a shift lasts at most {MAX_SHIFT.total_seconds() / 3600:.0f} h; "
            f"this one lasts {hours:.1f} h - split it into several shifts"
        )


class ShiftCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    staff_id: DbId
    outlet_id: DbId
    role: ShiftRole = Field(description="'counter' (needs counter_id) or 'lobby_manager'")
    counter_id: DbId | None = Field(
        None, description="A counter of the outlet; null for lobby_manager"
    )
    starts_at: ShiftTime = Field(description="With an offset, e.g. 2026-11-20T09:00:00+08:00")
    ends_at: ShiftTime = Field(description="After starts_at, at most 16 h later")

    @model_validator(mode="after")
    def _rules(self) -> ShiftCreate:
        check_shift(self.role, self.counter_id is not None, self.starts_at, self.ends_at)
        return self


class ShiftRead(BaseModel):
    id: int
    staff_id: int
    employee_no: str
    outlet_id: int
    counter_id: int | None
    role: ShiftRole
    starts_at: datetime
    ends_at: datetime
    import_batch: str | None
    shared_counter: bool = Field(
        description="Someone else is on the same counter for at least part of this shift"
    )
    shared_counter_with: list[int] = Field(description="Ids of those other shifts")
    created_at: datetime


class CounterConflict(BaseModel):
    """A period during which two or more people are rostered on one counter."""

    counter_id: int
    counter_code: str
    starts_at: datetime
    ends_at: datetime
    shift_ids: list[int]
    staff_ids: list[int]


class ImportIssue(BaseModel):
    row: int | None = Field(
        description="Row as a spreadsheet shows it (the header is row 1); null for the whole file"
    )
    column: str | None = Field(description="Column name; null for the whole row or file")
    message: str


class RosterImportReport(BaseModel):
    ok: bool = Field(description="No errors: the rows were (or, for a dry run, would be) stored")
    dry_run: bool
    rows: int = Field(description="Data rows read (blank lines are skipped)")
    imported: int = Field(description="Shifts stored (0 for a dry run or when not ok)")
    batch_id: str | None = Field(None, description="import_batch of the stored shifts")
    errors: list[ImportIssue] = Field(default_factory=list)
    errors_total: int = Field(0, description="All errors; the list stops after 1000")
    warnings: list[ImportIssue] = Field(default_factory=list)
