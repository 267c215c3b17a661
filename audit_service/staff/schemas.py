from __future__ import annotations

import unicodedata
from datetime import date, datetime
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from audit_service.core.types import DbId
from audit_service.models.staff import StaffRole
from audit_service.organisation.schemas import CODE_PATTERN

MIN_DATE = date(1900, 1, 1)
MAX_DATE = date(2199, 12, 31)


def _date_in_range(value: date) -> date:
    # Bounded so date arithmetic (the day before a transfer) can never overflow.
    if not MIN_DATE <= value <= MAX_DATE:
        raise ValueError(
            f"date {value.isoformat()} is out of range; use a date between "
            f"{MIN_DATE.isoformat()} and {MAX_DATE.isoformat()}"
        )
    return value


def _printable(value: str) -> str:
    if any(unicodedata.category(ch) == "Cc" for ch in value):
        raise ValueError("must not contain control characters (tabs, line breaks, NUL)")
    return value


StaffDate = Annotated[date, AfterValidator(_date_in_range)]
EmployeeNo = Annotated[str, StringConstraints(strip_whitespace=True, pattern=CODE_PATTERN)]
PersonName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    AfterValidator(_printable),
]


def _check_period(active_from: date | None, active_to: date | None) -> None:
    if active_from is not None and active_to is not None and active_to < active_from:
        raise ValueError(
            f"active_to ({active_to.isoformat()}) must be on or after active_from "
            f"({active_from.isoformat()})"
        )


class StaffCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    employee_no: EmployeeNo = Field(description="Unique employee number, e.g. E1024")
    name: PersonName
    role: StaffRole
    outlet_id: DbId = Field(description="The outlet the person starts at (opens the history)")
    team_lead_id: DbId | None = Field(None, description="Another staff member")
    active_from: StaffDate
    active_to: StaffDate | None = Field(None, description="Last working day; null = open-ended")

    @model_validator(mode="after")
    def _period(self) -> StaffCreate:
        _check_period(self.active_from, self.active_to)
        return self


class StaffUpdate(BaseModel):
    """All optional. ``team_lead_id`` / ``active_to`` may be null (clears them).

    The outlet is not changed here: use ``POST /staff/{id}/transfer`` so history is kept.
    A ``role`` given here corrects the role of the current period; to record a role change
    as of a date, transfer to the same outlet with the new role.
    """

    model_config = ConfigDict(extra="forbid")
    employee_no: EmployeeNo | None = None
    name: PersonName | None = None
    role: StaffRole | None = None
    team_lead_id: DbId | None = None
    active_from: StaffDate | None = None
    active_to: StaffDate | None = None
    outlet_id: int | None = Field(
        None, description="Not accepted: use POST /staff/{id}/transfer (keeps the history)"
    )

    @model_validator(mode="after")
    def _rules(self) -> StaffUpdate:
        if "outlet_id" in self.model_fields_set:
            raise ValueError(
                "outlet_id cannot be changed with PATCH; use "
                "POST /api/v1/staff/{id}/transfer so the outlet history is kept"
            )
        for name in ("employee_no", "name", "role", "active_from"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null; leave it out to keep the current value")
        _check_period(self.active_from, self.active_to)
        return self


class StaffRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    employee_no: str
    name: str
    role: StaffRole
    outlet_id: int
    team_lead_id: int | None
    active_from: date
    active_to: date | None
    created_at: datetime
    updated_at: datetime


class AssignmentRead(BaseModel):
    id: int
    outlet_id: int
    outlet_code: str
    role: StaffRole
    valid_from: date
    valid_to: date | None = Field(description="Last day at the outlet; null = current period")
    current: bool


class TransferCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    outlet_id: DbId = Field(description="The outlet the person moves to")
    effective: StaffDate = Field(
        description="First day at the new outlet; the current period ends the day before"
    )
    role: StaffRole | None = Field(None, description="Role from that day; default: unchanged")


class TransferRead(StaffRead):
    assignment: AssignmentRead = Field(description="The period the transfer opened")
    shifts_elsewhere: list[int] = Field(
        default_factory=list,
        description="Ids of this person's shifts starting on or after the effective date at "
        "another outlet than the new one: review or delete them",
    )
