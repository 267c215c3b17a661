from __future__ import annotations

from datetime import date, datetime
from itertools import pairwise
from typing import Annotated
from zoneinfo import ZoneInfo, available_timezones

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from audit_service.core.types import DbId
from audit_service.models.organisation import CounterKind
from audit_service.organisation.hours import WEEKDAYS

CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$"


# Wall-clock times carry no offset (JSON Schema's "time" format would demand one): "HH:MM".
LocalTime = Annotated[str, Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$", examples=["09:00"])]


class HoursInterval(BaseModel):
    model_config = ConfigDict(extra="forbid")
    opens: LocalTime = Field(description="Local opening time, HH:MM")
    closes: LocalTime = Field(description="Local closing time, HH:MM (after opens)")
    extended: bool = Field(False, description="Extended-hours service (延时服务)")

    @model_validator(mode="after")
    def _closes_after_opens(self) -> HoursInterval:
        if self.closes <= self.opens:
            raise ValueError(f"closes ({self.closes}) must be after opens ({self.opens})")
        return self


def _no_overlap(intervals: list[HoursInterval], where: str) -> None:
    ordered = sorted(intervals, key=lambda i: i.opens)
    for a, b in pairwise(ordered):
        if b.opens < a.closes:
            raise ValueError(
                f"{where}: intervals {a.opens}-{a.closes} and {b.opens}-{b.closes} overlap"
            )


class WeeklyHours(BaseModel):
    """Opening hours per weekday; a missing or empty day means closed."""

    model_config = ConfigDict(extra="forbid")
    mon: list[HoursInterval] = Field(default_factory=list, max_length=6)
    tue: list[HoursInterval] = Field(default_factory=list, max_length=6)
    wed: list[HoursInterval] = Field(default_factory=list, max_length=6)
    thu: list[HoursInterval] = Field(default_factory=list, max_length=6)
    fri: list[HoursInterval] = Field(default_factory=list, max_length=6)
    sat: list[HoursInterval] = Field(default_factory=list, max_length=6)
    sun: list[HoursInterval] = Field(default_factory=list, max_length=6)

    @field_validator(*WEEKDAYS)
    @classmethod
    def _day_does_not_overlap(
        cls, intervals: list[HoursInterval], info: ValidationInfo
    ) -> list[HoursInterval]:
        # A field validator (not a model one) so the error's path names the day.
        _no_overlap(intervals, str(info.field_name))
        return intervals

    def to_json(self) -> dict[str, list[dict[str, object]]]:
        return {day: [i.model_dump() for i in getattr(self, day)] for day in WEEKDAYS}


def _valid_timezone(value: str) -> str:
    if value not in available_timezones():
        raise ValueError(f"unknown time zone '{value}'; use an IANA name such as 'Asia/Shanghai'")
    ZoneInfo(value)
    return value


class RegionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(pattern=CODE_PATTERN)
    name: str = Field(min_length=1, max_length=200)


class RegionUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(None, min_length=1, max_length=200)


class RegionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    code: str
    name: str


class OutletCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    region_id: DbId
    code: str = Field(pattern=CODE_PATTERN)
    name: str = Field(min_length=1, max_length=200)
    address: str = Field("", max_length=500)
    timezone: str = "Asia/Shanghai"
    opening_hours: WeeklyHours = Field(default_factory=WeeklyHours)

    _tz = field_validator("timezone")(_valid_timezone)


class OutletUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    region_id: DbId | None = None
    name: str | None = Field(None, min_length=1, max_length=200)
    address: str | None = Field(None, max_length=500)
    timezone: str | None = None
    opening_hours: WeeklyHours | None = None

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str | None) -> str | None:
        return None if v is None else _valid_timezone(v)


class OutletRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    region_id: DbId
    code: str
    name: str
    address: str
    timezone: str
    opening_hours: WeeklyHours
    created_at: datetime
    updated_at: datetime


class HoursExceptionPut(BaseModel):
    """A holiday (closed, no intervals) or special hours for one local date."""

    model_config = ConfigDict(extra="forbid")
    closed: bool = True
    intervals: list[HoursInterval] = Field(default_factory=list, max_length=6)
    note: str = Field("", max_length=200)

    @model_validator(mode="after")
    def _closed_xor_intervals(self) -> HoursExceptionPut:
        if self.closed and self.intervals:
            raise ValueError("a closed day takes no intervals; set closed=false to give hours")
        if not self.closed and not self.intervals:
            raise ValueError("closed=false needs at least one interval")
        _no_overlap(self.intervals, "intervals")
        return self


class HoursExceptionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    day: date
    closed: bool
    intervals: list[HoursInterval]
    note: str


class OpenStatus(BaseModel):
    outlet_id: int
    at: datetime
    local_time: str
    open: bool


class CounterCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(pattern=CODE_PATTERN)
    name: str = Field("", max_length=200)
    kind: CounterKind
    active: bool = True


class CounterUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(None, max_length=200)
    kind: CounterKind | None = None
    active: bool | None = None


class CounterRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    outlet_id: int
    code: str
    name: str
    kind: CounterKind
    active: bool
