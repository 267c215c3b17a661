"""How instants, durations and scores read on screen. Plain functions, no Streamlit.

Every instant is shown in the outlet's own time zone: an outlet in Urumqi and one in Shanghai
each show their own wall clock, whatever the viewer's browser says.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from dashboard.i18n import t


def instant(value: str | datetime | None) -> datetime | None:
    """An API timestamp (ISO 8601 with offset) as an aware datetime; None stays None."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def local(value: str | datetime | None, tz: str) -> datetime | None:
    """The instant on the outlet's wall clock (aware, in ``tz``)."""
    moment = instant(value)
    return moment.astimezone(ZoneInfo(tz)) if moment else None


def wall_clock(value: str | datetime | None, tz: str) -> datetime | None:
    """The outlet's wall-clock reading, tagged UTC: charts draw it on a UTC scale, so every
    browser shows 09:30 at the outlet as 09:30, whatever its own time zone."""
    moment = local(value, tz)
    return moment.replace(tzinfo=UTC) if moment else None


def local_text(value: str | datetime | None, tz: str, *, with_date: bool = True) -> str:
    """``2026-11-20 17:03`` (or ``17:03``) on the outlet's clock; empty for no time."""
    moment = local(value, tz)
    if moment is None:
        return ""
    return moment.strftime("%Y-%m-%d %H:%M" if with_date else "%H:%M")


def today_in(tz: str, now: datetime | None = None) -> date:
    """The date it is now at the outlet."""
    return (now or datetime.now(UTC)).astimezone(ZoneInfo(tz)).date()


def day_bounds(day: date, tz: str) -> tuple[datetime, datetime]:
    """The outlet's local day [00:00, next 00:00) as aware UTC instants (DST-safe)."""
    zone = ZoneInfo(tz)
    start = datetime.combine(day, time(0), tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def duration(seconds: float | None) -> str:
    """``45 s``, ``12 min``, ``2 h 05 min`` (or the Chinese units); empty for unknown."""
    if seconds is None:
        return ""
    s = max(0, round(seconds))
    if s < 60:
        return t("unit.seconds", n=s)
    minutes = s // 60
    if minutes < 60:
        return t("unit.minutes", n=minutes)
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return t("unit.hours_minutes", h=hours, m=minutes)
    return t("unit.days_hours", d=hours // 24, h=hours % 24)


def mm_ss(seconds: float | None) -> str:
    if seconds is None:
        return ""
    s = max(0, round(seconds))
    return f"{s // 60}:{s % 60:02d}"


def label(value: dict[str, str] | str | None, lang: str) -> str:
    """A ``{zh, en}`` label from the API in the chosen language (falls back to the other)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    first, second = ("zh", "en") if lang == "zh-CN" else ("en", "zh")
    return value.get(first) or value.get(second) or ""


def share(value: float | None, digits: int = 0) -> str:
    """A 0-1 share as a percentage: ``0.873`` → ``87%``."""
    if value is None:
        return ""
    return f"{value * 100:.{digits}f}%"


def answer_text(answer: dict[str, Any] | None, item_type: str) -> str:
    """What the auditor answered, as text (N/A, yes/no, mm:ss, lists)."""
    if not answer:
        return ""
    if answer.get("na"):
        return t("answer.na")
    value = answer.get("value")
    if value is None:
        photos = answer.get("photos") or []
        return t("answer.photos", n=len(photos)) if photos else ""
    if item_type == "yes_no" or isinstance(value, bool):
        return t("answer.yes") if value else t("answer.no")
    if item_type == "duration" and isinstance(value, int | float):
        return mm_ss(value)
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)
