"""One outlet's day on its own wall clock: opening hours, queue series, roster, unattended
spells. Plain functions that reshape API answers into chart rows; nothing is scored here.

Chart times are the outlet's wall-clock readings tagged UTC (``formatting.wall_clock``), and
the charts draw them on a UTC scale, so no browser shifts them to its own zone.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pandas as pd

from dashboard.formatting import duration, instant, local_text, wall_clock
from dashboard.i18n import t

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def day_hours(
    outlet: dict[str, Any], exceptions: list[dict[str, Any]], day: date
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """The day's opening intervals ``[{opens, closes, extended}]`` as the outlet publishes
    them (an exception for the date replaces the weekly hours), and that exception if any."""
    exception = next((e for e in exceptions if e["day"] == day.isoformat()), None)
    if exception is not None:
        return ([] if exception["closed"] else list(exception["intervals"])), exception
    return list(outlet["opening_hours"].get(WEEKDAYS[day.weekday()], [])), None


def hours_text(intervals: list[dict[str, Any]]) -> str:
    if not intervals:
        return t("outlet.closed_all_day")
    return ", ".join(
        f"{i['opens']}-{i['closes']}" + (f" ({t('outlet.extended')})" if i["extended"] else "")
        for i in intervals
    )


def hours_rows(intervals: list[dict[str, Any]], day: date) -> pd.DataFrame:
    """Opening intervals as wall-clock [start, end) rows, for a shaded band behind charts."""
    rows = [
        {
            "start": datetime.combine(day, time.fromisoformat(i["opens"]), tzinfo=UTC),
            "end": datetime.combine(day, time.fromisoformat(i["closes"]), tzinfo=UTC),
            "what": t("outlet.extended") if i["extended"] else t("outlet.open"),
        }
        for i in intervals
    ]
    return pd.DataFrame(rows, columns=["start", "end", "what"])


def view_span(day: date, *times: pd.Series) -> tuple[datetime, datetime]:
    """The part of the day worth drawing: the opening hours and the data, with half an hour
    either side, on whole hours (the whole day when there is nothing)."""
    start = datetime.combine(day, time(0), tzinfo=UTC)
    end = start + timedelta(days=1)
    present = [t for series in times for t in series.dropna()]
    if not present:
        return start, end
    lo = min(present) - timedelta(minutes=30)
    hi = max(present) + timedelta(minutes=30)
    lo = lo.replace(minute=0, second=0, microsecond=0)
    hi = hi.replace(minute=0, second=0, microsecond=0) + (
        timedelta(hours=1) if hi.minute else timedelta()
    )
    return max(start, lo), min(end, hi)


def queue_rows(
    samples: list[dict[str, Any]], counter_codes: dict[int, str], tz: str
) -> pd.DataFrame:
    """Queue samples as rows: wall-clock time, counter, people waiting (smoothed), wait (min)."""
    rows = [
        {
            "at": wall_clock(s["at"], tz),
            "counter": counter_codes.get(s["counter_id"], str(s["counter_id"])),
            "zone": s["zone"],
            "queue": s["smoothed"],
            "people": s["count"],
            "wait_min": None if s["wait_s"] is None else round(s["wait_s"] / 60, 2),
            "time": local_text(s["at"], tz, with_date=False),
        }
        for s in samples
    ]
    return pd.DataFrame(
        rows, columns=["at", "counter", "zone", "queue", "people", "wait_min", "time"]
    )


def _clip(
    start: str | None, end: str | None, window: tuple[datetime, datetime], now: datetime
) -> tuple[datetime, datetime] | None:
    """[start, end) cut to the window; a spell still open runs until now (or the window end)."""
    lo, hi = window
    began = instant(start)
    ended = instant(end) or min(now, hi)
    if began is None or ended <= lo or began >= hi:
        return None
    return max(began, lo), min(ended, hi)


def attendance_rows(
    events: list[dict[str, Any]],
    shifts: list[dict[str, Any]],
    counter_codes: dict[int, str],
    staff_names: dict[int, str],
    tz: str,
    window: tuple[datetime, datetime],
    now: datetime,
) -> pd.DataFrame:
    """Bars per counter: rostered shifts and unattended spells (``counter_unattended``
    findings), each cut to the day."""
    lobby = t("outlet.lobby")
    rows: list[dict[str, Any]] = []
    for s in shifts:
        span = _clip(s["starts_at"], s["ends_at"], window, now)
        if span is None:
            continue
        who = staff_names.get(s["staff_id"], "")
        rows.append(
            {
                "counter": counter_codes.get(s["counter_id"], lobby) if s["counter_id"] else lobby,
                "what": t("outlet.rostered"),
                "start": wall_clock(span[0], tz),
                "end": wall_clock(span[1], tz),
                "detail": f"{s['employee_no']} {who}".strip(),
                "span": f"{local_text(span[0], tz, with_date=False)}-"
                f"{local_text(span[1], tz, with_date=False)}",
            }
        )
    for e in events:
        if e["kind"] != "counter_unattended" or e["counter_id"] is None:
            continue
        span = _clip(e["started_at"], e["ended_at"], window, now)
        if span is None:
            continue
        still_open = e["ended_at"] is None
        rows.append(
            {
                "counter": counter_codes.get(e["counter_id"], str(e["counter_id"])),
                "what": t("outlet.unattended_open") if still_open else t("outlet.unattended"),
                "start": wall_clock(span[0], tz),
                "end": wall_clock(span[1], tz),
                "detail": duration((span[1] - span[0]).total_seconds()),
                "span": f"{local_text(span[0], tz, with_date=False)}-"
                f"{local_text(span[1], tz, with_date=False)}",
            }
        )
    return pd.DataFrame(rows, columns=["counter", "what", "start", "end", "detail", "span"])


def attendance_summary(
    events: list[dict[str, Any]],
    counters: list[dict[str, Any]],
    window: tuple[datetime, datetime],
    now: datetime,
) -> pd.DataFrame:
    """Per counter: how many unattended spells the cameras reported that day and how long
    they lasted in all (cut to the day)."""
    rows = []
    for c in counters:
        clipped = [
            _clip(e["started_at"], e["ended_at"], window, now)
            for e in events
            if e["kind"] == "counter_unattended" and e["counter_id"] == c["id"]
        ]
        spans = [s for s in clipped if s is not None]
        total = sum((b - a).total_seconds() for a, b in spans)
        rows.append(
            {
                "counter": f"{c['code']} · {c['name']}",
                "spells": len(spans),
                "unattended": duration(total) if spans else "",
            }
        )
    return pd.DataFrame(rows, columns=["counter", "spells", "unattended"])


def events_table(
    events: list[dict[str, Any]], counter_codes: dict[int, str], tz: str
) -> pd.DataFrame:
    rows = [
        {
            "kind": t("event." + e["kind"]),
            "counter": counter_codes.get(e["counter_id"], "") if e["counter_id"] else "",
            "camera": e["camera_code"],
            "started": local_text(e["started_at"], tz, with_date=False),
            "ended": local_text(e["ended_at"], tz, with_date=False)
            if e["ended_at"]
            else t("outlet.ongoing"),
            "duration": duration(e["duration_s"]),
            "snapshot": e["evidence_id"] is not None,
        }
        for e in events
    ]
    return pd.DataFrame(
        rows, columns=["kind", "counter", "camera", "started", "ended", "duration", "snapshot"]
    )
