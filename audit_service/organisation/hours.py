"""Opening hours: pure functions over an outlet's weekly hours, exceptions and time zone."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _parse(value: str) -> time:
    return time.fromisoformat(value)


def intervals_on(
    day: date,
    weekly: Mapping[str, Sequence[Mapping[str, Any]]],
    exceptions: Mapping[date, Sequence[Mapping[str, Any]] | None],
) -> list[tuple[time, time, bool]]:
    """The (opens, closes, extended) intervals of one local date. Exceptions win; None = closed."""
    chosen = (
        (exceptions[day] or []) if day in exceptions else weekly.get(WEEKDAYS[day.weekday()], [])
    )
    return [
        (_parse(i["opens"]), _parse(i["closes"]), bool(i.get("extended", False))) for i in chosen
    ]


def is_open(
    at: datetime,
    *,
    timezone: str,
    weekly: Mapping[str, Sequence[Mapping[str, Any]]],
    exceptions: Mapping[date, Sequence[Mapping[str, Any]] | None] | None = None,
) -> bool:
    """Whether the outlet is open at the instant ``at`` (tz-aware), in its own local time."""
    if at.tzinfo is None:
        raise ValueError("is_open needs a tz-aware datetime")
    local = at.astimezone(ZoneInfo(timezone))
    now = local.time().replace(tzinfo=None)
    return any(
        opens <= now < closes
        for opens, closes, _ in intervals_on(local.date(), weekly, exceptions or {})
    )
