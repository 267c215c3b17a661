"""Opening hours in the outlet's local time: weekly hours, exceptions, time zones."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from vision.analytics.hours import OpeningSchedule, is_open, next_change
from vision.config import OutletHours

WEEKDAY_9_TO_17 = {
    day: [{"opens": "09:00", "closes": "17:00"}] for day in ("mon", "tue", "wed", "thu", "fri")
}


def hours(tz="Asia/Shanghai", weekly=None, exceptions=()) -> OutletHours:
    return OutletHours(
        code="SH-01",
        timezone=tz,
        opening_hours=WEEKDAY_9_TO_17 if weekly is None else weekly,
        hours_exceptions=list(exceptions),
    )


def at(tz: str, y: int, mo: int, d: int, h: int, mi: int = 0, s: int = 0) -> float:
    """Epoch seconds of a local wall time."""
    return datetime(y, mo, d, h, mi, s, tzinfo=ZoneInfo(tz)).timestamp()


SH = "Asia/Shanghai"


@pytest.mark.parametrize(
    ("t", "expected"),
    [
        pytest.param(at(SH, 2026, 11, 23, 8, 59, 59), False, id="mon-before-opening"),
        pytest.param(at(SH, 2026, 11, 23, 9, 0), True, id="mon-opening-instant"),
        pytest.param(at(SH, 2026, 11, 23, 16, 59, 59), True, id="mon-last-second"),
        pytest.param(at(SH, 2026, 11, 23, 17, 0), False, id="mon-closing-instant"),
        pytest.param(at(SH, 2026, 11, 22, 12, 0), False, id="sunday-not-listed"),
        # 02:00 UTC on Monday is 10:00 in Shanghai: open there, although UTC says 02:00.
        pytest.param(at("UTC", 2026, 11, 23, 2, 0), True, id="utc-instant-read-locally"),
        # 16:30 UTC on Friday is 00:30 Saturday in Shanghai.
        pytest.param(at("UTC", 2026, 11, 27, 16, 30), False, id="local-date-not-utc-date"),
    ],
)
def test_weekly_hours_in_local_time(t, expected):
    assert is_open(t, hours()) is expected
    assert OpeningSchedule(hours())(t) is expected


def test_same_instant_differs_between_time_zones():
    t = at("UTC", 2026, 11, 23, 2, 0)  # 10:00 in Shanghai, 02:00 in UTC
    assert is_open(t, hours(tz="Asia/Shanghai"))
    assert not is_open(t, hours(tz="UTC"))


def test_no_hours_means_always_open():
    assert is_open(at(SH, 2026, 11, 22, 3, 0), None)
    assert next_change(at(SH, 2026, 11, 22, 3, 0), None) is None


@pytest.mark.parametrize(
    ("exception", "t", "expected"),
    [
        pytest.param(
            {"day": date(2026, 11, 23), "closed": True, "note": "holiday"},
            at(SH, 2026, 11, 23, 10, 0),
            False,
            id="holiday-closes-a-weekday",
        ),
        pytest.param(
            {"day": date(2026, 11, 23), "closed": True},
            at(SH, 2026, 11, 24, 10, 0),
            True,
            id="holiday-only-that-date",
        ),
        pytest.param(
            {
                "day": date(2026, 11, 22),
                "closed": False,
                "intervals": [{"opens": "10:00", "closes": "12:00"}],
            },
            at(SH, 2026, 11, 22, 11, 0),
            True,
            id="sunday-opening-replaces",
        ),
        pytest.param(
            {
                "day": date(2026, 11, 23),
                "closed": False,
                "intervals": [{"opens": "13:00", "closes": "15:00"}],
            },
            at(SH, 2026, 11, 23, 10, 0),
            False,
            id="exception-intervals-replace-weekday",
        ),
    ],
)
def test_exceptions_by_local_date(exception, t, expected):
    assert is_open(t, hours(exceptions=[exception])) is expected


def test_closing_at_midnight_and_split_days():
    weekly = {
        "fri": [{"opens": "09:00", "closes": "12:00"}, {"opens": "20:00", "closes": "24:00"}],
        "sat": [{"opens": "00:00", "closes": "02:00"}],
    }
    h = hours(weekly=weekly)
    assert is_open(at(SH, 2026, 11, 27, 23, 59, 59), h)
    assert is_open(at(SH, 2026, 11, 28, 1, 0), h)
    assert not is_open(at(SH, 2026, 11, 27, 15, 0), h)  # between the two intervals
    assert not is_open(at(SH, 2026, 11, 28, 2, 0), h)


@pytest.mark.parametrize(
    ("t", "h", "expected"),
    [
        pytest.param(
            at(SH, 2026, 11, 23, 10, 0), hours(), at(SH, 2026, 11, 23, 17, 0), id="open-to-closing"
        ),
        pytest.param(
            at(SH, 2026, 11, 23, 7, 0), hours(), at(SH, 2026, 11, 23, 9, 0), id="closed-to-opening"
        ),
        pytest.param(
            at(SH, 2026, 11, 27, 18, 0), hours(), at(SH, 2026, 11, 30, 9, 0), id="over-the-weekend"
        ),
        pytest.param(
            at(SH, 2026, 11, 27, 18, 0),
            hours(exceptions=[{"day": date(2026, 11, 30), "closed": True}]),
            at(SH, 2026, 12, 1, 9, 0),
            id="over-a-holiday",
        ),
        pytest.param(at(SH, 2026, 11, 23, 10, 0), hours(weekly={}), None, id="never-open"),
    ],
)
def test_next_change(t, h, expected):
    assert next_change(t, h) == expected


@pytest.mark.parametrize(
    ("h", "message"),
    [
        (hours(tz="Mars/Olympus"), "unknown time zone 'Mars/Olympus'"),
        (hours(weekly={"monday": [{"opens": "09:00", "closes": "17:00"}]}), "unknown weekday"),
        (hours(weekly={"mon": [{"opens": "22:00", "closes": "02:00"}]}), "split it"),
        (hours(weekly={"mon": [{"opens": "9am", "closes": "17:00"}]}), "must be HH:MM"),
        (hours(weekly={"mon": [{"opens": "09:00", "closes": "25:00"}]}), "not a time of day"),
        (
            hours(exceptions=[{"day": date(2026, 11, 23), "closed": True}] * 2),
            "two exceptions",
        ),
    ],
)
def test_unusable_hours_are_named(h, message):
    with pytest.raises(ValueError, match=message):
        OpeningSchedule(h)


def test_time_must_be_finite():
    with pytest.raises(ValueError, match="finite"):
        is_open(float("nan"), hours())
