"""Score periods: week (ISO, Monday first), month and quarter, named by a key and bounded in the
organisation's period time zone. Pure functions."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from audit_service.core.errors import InvalidInput
from audit_service.models import PeriodKind

_PATTERNS = {
    PeriodKind.week: re.compile(r"^(\d{4})-W(\d{2})$"),
    PeriodKind.month: re.compile(r"^(\d{4})-(\d{2})$"),
    PeriodKind.quarter: re.compile(r"^(\d{4})-Q([1-4])$"),
}
KEY_HELP = "use 2026-W48 (ISO week), 2026-11 (month) or 2026-Q4 (quarter)"


@dataclass(frozen=True)
class Period:
    kind: PeriodKind
    key: str
    first_day: date  # local dates, inclusive
    last_day: date
    starts_at: datetime  # UTC, inclusive
    ends_at: datetime  # UTC, exclusive

    @property
    def label(self) -> str:
        if self.kind is PeriodKind.week:
            return f"{self.key} ({self.first_day:%m-%d}–{self.last_day:%m-%d})"
        return self.key


def _bounds(kind: PeriodKind, year: int, n: int) -> tuple[date, date]:
    if kind is PeriodKind.week:
        first = date.fromisocalendar(year, n, 1)
        return first, first + timedelta(days=6)
    if kind is PeriodKind.month:
        first = date(year, n, 1)
        nxt = date(year + (n == 12), n % 12 + 1, 1)
        return first, nxt - timedelta(days=1)
    first = date(year, 3 * (n - 1) + 1, 1)
    nxt = date(year + (n == 4), (3 * n) % 12 + 1, 1)
    return first, nxt - timedelta(days=1)


def _key(kind: PeriodKind, day: date) -> str:
    if kind is PeriodKind.week:
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    if kind is PeriodKind.month:
        return f"{day.year}-{day.month:02d}"
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def _make(kind: PeriodKind, first: date, last: date, tz: ZoneInfo) -> Period:
    def at(day: date) -> datetime:
        return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)

    return Period(kind, _key(kind, first), first, last, at(first), at(last + timedelta(days=1)))


def parse(key: str, tz_name: str) -> Period:
    """The period a key names; the kind follows from the key's shape."""
    tz = ZoneInfo(tz_name)
    for kind, pattern in _PATTERNS.items():
        m = pattern.match(key.strip())
        if not m:
            continue
        year, n = int(m.group(1)), int(m.group(2))
        try:
            first, last = _bounds(kind, year, n)
        except ValueError:
            break
        if not 2000 <= year <= 2100:
            break
        return _make(kind, first, last, tz)
    raise InvalidInput(f"period '{key}' is not a period key; {KEY_HELP}", field="period")


def containing(kind: PeriodKind, at: datetime, tz_name: str) -> Period:
    """The period of ``kind`` holding the instant ``at``."""
    local = at.astimezone(ZoneInfo(tz_name)).date()
    return parse(_key(kind, local), tz_name)


def previous(period: Period, count: int, tz_name: str) -> list[Period]:
    """``count`` periods of the same kind ending with ``period``, oldest first."""
    out = [period]
    while len(out) < count:
        out.append(containing(period.kind, out[-1].starts_at - timedelta(seconds=1), tz_name))
    return out[::-1]
