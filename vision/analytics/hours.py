"""Opening hours: is the outlet open at an instant (epoch seconds), in the outlet's local time?

Pure: the instant is passed in, nothing reads a clock. Rules:

- The instant is converted to the outlet's local wall time (``OutletHours.timezone``, IANA name).
- Weekly hours are keyed ``mon`` … ``sun``; each interval is ``"HH:MM"`` (or ``"HH:MM:SS"``) and
  is open for ``opens <= local time < closes``. ``closes`` may be ``"24:00"`` (end of the day).
  An interval can't run past midnight: split it into two days. A missing or empty day is closed.
  Overlapping intervals are allowed (open if any interval is). ``extended`` hours count as open.
- An exception for a local date replaces that date's weekly hours: ``closed: true`` closes the
  whole day (its intervals, if any, are ignored); otherwise its intervals are the day's hours.
- ``hours`` None means "no hours known": always open.

Build an ``OpeningSchedule`` once and call it per frame; ``is_open(t, hours)`` parses each time.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from vision.config import HoursInterval, OutletHours

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_S = 86_400

_CLOCK = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?")

Intervals = tuple[tuple[float, float], ...]  # (opens, closes) in seconds after local midnight


def _seconds(value: str, *, where: str) -> int:
    m = _CLOCK.fullmatch(value.strip())
    if m is None:
        raise ValueError(f"{where}: time '{value}' must be HH:MM, e.g. 09:00")
    h, mnt, sec = int(m[1]), int(m[2]), int(m[3] or 0)
    if mnt > 59 or sec > 59 or h > 24 or (h == 24 and (mnt or sec)):
        raise ValueError(f"{where}: time '{value}' is not a time of day (00:00-24:00)")
    return h * 3600 + mnt * 60 + sec


def _intervals(items: list[HoursInterval], *, where: str) -> Intervals:
    out = []
    for item in items:
        opens = _seconds(item.opens, where=where)
        closes = _seconds(item.closes, where=where)
        if opens == DAY_S:
            raise ValueError(f"{where}: an interval can't open at 24:00; use 00:00 the next day")
        if closes <= opens:
            raise ValueError(
                f"{where}: interval {item.opens}-{item.closes} closes before it opens; intervals "
                "can't cross midnight, split it (e.g. 22:00-24:00 and 00:00-02:00 the next day)"
            )
        out.append((float(opens), float(closes)))
    return tuple(sorted(out))


class OpeningSchedule:
    """An outlet's parsed hours. Callable: ``schedule(t)`` is ``schedule.is_open(t)``.

    Raises ValueError naming the day and the fix when the hours can't be used.
    """

    def __init__(self, hours: OutletHours | None) -> None:
        self.always_open = hours is None
        self._weekly: dict[int, Intervals] = {}
        self._exceptions: dict[date, Intervals] = {}
        if hours is None:
            self.tz = ZoneInfo("UTC")
            return
        outlet = f"outlet '{hours.code}'" if hours.code else "outlet hours"
        try:
            self.tz = ZoneInfo(hours.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"{outlet}: unknown time zone '{hours.timezone}'; use an IANA name such as "
                "'Asia/Shanghai'"
            ) from None
        for key, items in hours.opening_hours.items():
            day = key.strip().lower()
            if day not in WEEKDAYS:
                raise ValueError(f"{outlet}: unknown weekday '{key}'; use one of {WEEKDAYS}")
            self._weekly[WEEKDAYS.index(day)] = _intervals(items, where=f"{outlet} {day}")
        for exc in hours.hours_exceptions:
            where = f"{outlet} exception {exc.day.isoformat()}"
            if exc.day in self._exceptions:
                raise ValueError(f"{where}: the date has two exceptions; keep one")
            self._exceptions[exc.day] = () if exc.closed else _intervals(exc.intervals, where=where)

    def intervals_on(self, day: date) -> Intervals:
        """The (opens, closes) of a local date, in seconds after its local midnight."""
        if day in self._exceptions:
            return self._exceptions[day]
        return self._weekly.get(day.weekday(), ())

    def is_open(self, t: float) -> bool:
        """Whether the outlet is open at ``t`` (epoch seconds, UTC based)."""
        if not math.isfinite(t):
            raise ValueError(f"opening hours: time must be a finite epoch second, got {t}")
        if self.always_open:
            return True
        local = datetime.fromtimestamp(t, self.tz)
        now = local.hour * 3600 + local.minute * 60 + local.second + local.microsecond / 1e6
        return any(opens <= now < closes for opens, closes in self.intervals_on(local.date()))

    __call__ = is_open

    def _instant(self, day: date, seconds: float) -> float:
        """Epoch seconds of a local wall time (seconds after ``day``'s midnight; 86400 = next
        midnight). Wall times in a DST gap resolve with the offset before the change."""
        naive = datetime.combine(day, time()) + timedelta(seconds=seconds)
        return naive.replace(tzinfo=self.tz).timestamp()

    def next_change(self, t: float, *, within_days: int = 400) -> float | None:
        """The first instant after ``t`` (epoch seconds) at which ``is_open`` flips, or None if
        it doesn't within ``within_days`` days (e.g. no hours at all, or always open)."""
        if self.always_open:
            return None
        state = self.is_open(t)
        first = datetime.fromtimestamp(t, self.tz).date()
        for offset in range(within_days + 1):
            day = first + timedelta(days=offset)
            # is_open only changes at an interval's edge: open across midnight means one interval
            # closing at 24:00 and another opening at 00:00.
            edges = {edge for interval in self.intervals_on(day) for edge in interval}
            for instant in sorted(self._instant(day, s) for s in edges):
                if instant > t and self.is_open(instant) != state:
                    return instant
        return None


def is_open(t_epoch: float, hours: OutletHours | None) -> bool:
    """Whether the outlet is open at ``t_epoch`` (epoch seconds); None hours → always open."""
    return OpeningSchedule(hours).is_open(t_epoch)


def next_change(t_epoch: float, hours: OutletHours | None) -> float | None:
    """The next instant (epoch seconds) after ``t_epoch`` at which the outlet opens or closes."""
    return OpeningSchedule(hours).next_change(t_epoch)
