"""Pure unit tests of organisation/hours.py: weekly hours, extended hours, exceptions, zones."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from audit_service.organisation.hours import WEEKDAYS, intervals_on, is_open

NINE_TO_FIVE = [{"opens": "09:00", "closes": "17:00", "extended": False}]
WEEKDAYS_ONLY = {d: NINE_TO_FIVE for d in ("mon", "tue", "wed", "thu", "fri")} | {
    "sat": [],
    "sun": [],
}
# Split day with a lunch break and an extended-hours evening service.
SPLIT = {
    "mon": [
        {"opens": "09:00", "closes": "12:00", "extended": False},
        {"opens": "13:30", "closes": "17:00", "extended": False},
        {"opens": "18:00", "closes": "20:30", "extended": True},
    ],
}
SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def test_weekday_names_follow_python_weekday_order():
    assert WEEKDAYS == ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    # 2026-11-23 is a Monday.
    assert date(2026, 11, 23).weekday() == 0
    assert intervals_on(date(2026, 11, 23), SPLIT, {})[0] == (time(9), time(12), False)


def test_intervals_on_a_weekday_carry_the_extended_flag():
    got = intervals_on(date(2026, 11, 23), SPLIT, {})
    assert got == [
        (time(9), time(12), False),
        (time(13, 30), time(17), False),
        (time(18), time(20, 30), True),
    ]


def test_intervals_on_a_day_without_hours_is_empty():
    assert intervals_on(date(2026, 11, 22), WEEKDAYS_ONLY, {}) == []  # Sunday: empty list
    assert intervals_on(date(2026, 11, 24), SPLIT, {}) == []  # Tuesday: key missing


def test_exception_wins_over_weekly_hours():
    monday = date(2026, 11, 23)
    special = [{"opens": "10:00", "closes": "12:00"}]
    assert intervals_on(monday, SPLIT, {monday: special}) == [(time(10), time(12), False)]
    assert intervals_on(monday, SPLIT, {monday: None}) == []
    # An exception on another date leaves this one alone.
    assert len(intervals_on(monday, SPLIT, {date(2026, 11, 24): None})) == 3


@pytest.mark.parametrize(
    ("local", "expected"),
    [
        (datetime(2026, 11, 23, 8, 59), False),  # before opening
        (datetime(2026, 11, 23, 9, 0), True),  # opening minute is open
        (datetime(2026, 11, 23, 11, 59, 59), True),
        (datetime(2026, 11, 23, 12, 0), False),  # closing minute is closed
        (datetime(2026, 11, 23, 12, 45), False),  # lunch break
        (datetime(2026, 11, 23, 13, 30), True),
        (datetime(2026, 11, 23, 17, 30), False),  # between regular and extended hours
        (datetime(2026, 11, 23, 19, 0), True),  # extended hours count as open
        (datetime(2026, 11, 23, 20, 30), False),
        (datetime(2026, 11, 24, 10, 0), False),  # Tuesday: no hours
    ],
)
def test_is_open_split_day_with_extended_hours(local, expected):
    at = local.replace(tzinfo=SHANGHAI)
    assert is_open(at, timezone="Asia/Shanghai", weekly=SPLIT) is expected


def test_is_open_uses_the_outlets_local_time_not_utc():
    # Friday 2026-11-20 01:30 UTC is 09:30 in Shanghai: open there, 01:30 in UTC: closed.
    at = datetime(2026, 11, 20, 1, 30, tzinfo=UTC)
    assert is_open(at, timezone="Asia/Shanghai", weekly=WEEKDAYS_ONLY) is True
    assert is_open(at, timezone="UTC", weekly=WEEKDAYS_ONLY) is False
    # 00:30 UTC is 08:30 in Shanghai: not yet open.
    early = datetime(2026, 11, 20, 0, 30, tzinfo=UTC)
    assert is_open(early, timezone="Asia/Shanghai", weekly=WEEKDAYS_ONLY) is False


def test_is_open_any_offset_of_the_same_instant_gives_the_same_answer():
    instant = datetime(2026, 11, 20, 1, 30, tzinfo=UTC)
    for offset in (-11, -5, 0, 3, 8, 14):
        same = instant.astimezone(timezone(timedelta(hours=offset)))
        assert is_open(same, timezone="Asia/Shanghai", weekly=WEEKDAYS_ONLY) is True


def test_is_open_weekday_is_the_local_one_across_the_date_line():
    # Saturday 2026-11-21 01:00 UTC is still Friday 20:00 in New York (EST, UTC-5).
    at = datetime(2026, 11, 21, 1, 0, tzinfo=UTC)
    friday_evening = {"fri": [{"opens": "19:00", "closes": "21:00"}]}
    saturday_night = {"sat": [{"opens": "00:30", "closes": "02:00"}]}
    assert is_open(at, timezone="America/New_York", weekly=friday_evening) is True
    assert is_open(at, timezone="America/New_York", weekly=saturday_night) is False
    assert is_open(at, timezone="UTC", weekly=saturday_night) is True


def test_is_open_exception_is_keyed_by_the_local_date():
    # 2026-11-20 23:30 UTC is Saturday 2026-11-21 07:30 in Shanghai.
    at = datetime(2026, 11, 20, 23, 30, tzinfo=UTC)
    weekly = {"sat": [{"opens": "07:00", "closes": "12:00"}]}
    assert is_open(at, timezone="Asia/Shanghai", weekly=weekly) is True
    # A holiday on the UTC date (Friday) does not close the local Saturday...
    assert (
        is_open(at, timezone="Asia/Shanghai", weekly=weekly, exceptions={date(2026, 11, 20): None})
        is True
    )
    # ...a holiday on the local date does.
    assert (
        is_open(at, timezone="Asia/Shanghai", weekly=weekly, exceptions={date(2026, 11, 21): None})
        is False
    )


def test_is_open_holiday_closes_a_regular_day():
    at = datetime(2026, 11, 23, 10, 0, tzinfo=SHANGHAI)
    assert is_open(at, timezone="Asia/Shanghai", weekly=WEEKDAYS_ONLY) is True
    assert (
        is_open(
            at,
            timezone="Asia/Shanghai",
            weekly=WEEKDAYS_ONLY,
            exceptions={date(2026, 11, 23): None},
        )
        is False
    )


def test_is_open_special_hours_replace_the_weekly_ones():
    day = date(2026, 11, 22)  # a Sunday, normally closed
    special = {day: [{"opens": "10:00", "closes": "14:00", "extended": True}]}
    inside = datetime(2026, 11, 22, 13, 59, tzinfo=SHANGHAI)
    after = datetime(2026, 11, 22, 14, 0, tzinfo=SHANGHAI)
    assert is_open(inside, timezone="Asia/Shanghai", weekly=WEEKDAYS_ONLY) is False
    assert (
        is_open(inside, timezone="Asia/Shanghai", weekly=WEEKDAYS_ONLY, exceptions=special) is True
    )
    assert (
        is_open(after, timezone="Asia/Shanghai", weekly=WEEKDAYS_ONLY, exceptions=special) is False
    )
    # Shorter special hours on a weekday: 15:00 is normally open, not on that day.
    monday = date(2026, 11, 23)
    short = {monday: [{"opens": "09:00", "closes": "12:00"}]}
    at = datetime(2026, 11, 23, 15, 0, tzinfo=SHANGHAI)
    assert is_open(at, timezone="Asia/Shanghai", weekly=WEEKDAYS_ONLY) is True
    assert is_open(at, timezone="Asia/Shanghai", weekly=WEEKDAYS_ONLY, exceptions=short) is False


def test_is_open_berlin_follows_daylight_saving_time():
    # Berlin is UTC+1 in winter (CET) and UTC+2 in summer (CEST); DST starts 2026-03-29.
    winter = datetime(2026, 3, 27, 7, 30, tzinfo=UTC)  # Friday 08:30 CET
    summer = datetime(2026, 3, 30, 7, 30, tzinfo=UTC)  # Monday 09:30 CEST
    assert winter.astimezone(BERLIN).utcoffset() == timedelta(hours=1)
    assert summer.astimezone(BERLIN).utcoffset() == timedelta(hours=2)
    assert is_open(winter, timezone="Europe/Berlin", weekly=WEEKDAYS_ONLY) is False
    assert is_open(summer, timezone="Europe/Berlin", weekly=WEEKDAYS_ONLY) is True
    # Autumn: DST ends 2026-10-25. 16:30 UTC is 18:30 CEST on Friday 23rd (closed),
    # 17:30 CET on Monday 26th (closed), 15:30 UTC Monday is 16:30 CET (open).
    assert (
        is_open(
            datetime(2026, 10, 23, 14, 30, tzinfo=UTC),
            timezone="Europe/Berlin",
            weekly=WEEKDAYS_ONLY,
        )
        is True
    )  # 16:30 CEST
    assert (
        is_open(
            datetime(2026, 10, 23, 15, 30, tzinfo=UTC),
            timezone="Europe/Berlin",
            weekly=WEEKDAYS_ONLY,
        )
        is False
    )  # 17:30 CEST
    assert (
        is_open(
            datetime(2026, 10, 26, 15, 30, tzinfo=UTC),
            timezone="Europe/Berlin",
            weekly=WEEKDAYS_ONLY,
        )
        is True
    )  # 16:30 CET


def test_is_open_on_the_dst_switch_day_uses_wall_clock_hours():
    # Sunday 2026-03-29: clocks jump from 02:00 to 03:00 in Berlin.
    weekly = {"sun": [{"opens": "02:30", "closes": "03:30"}]}
    # 01:15 UTC is 03:15 CEST (wall clock inside the interval).
    assert (
        is_open(datetime(2026, 3, 29, 1, 15, tzinfo=UTC), timezone="Europe/Berlin", weekly=weekly)
        is True
    )
    # 00:45 UTC is 01:45 CET: before the interval.
    assert (
        is_open(datetime(2026, 3, 29, 0, 45, tzinfo=UTC), timezone="Europe/Berlin", weekly=weekly)
        is False
    )


def test_is_open_refuses_naive_datetimes():
    with pytest.raises(ValueError, match="tz-aware"):
        is_open(datetime(2026, 11, 23, 10, 0), timezone="Asia/Shanghai", weekly=WEEKDAYS_ONLY)


def test_is_open_with_no_hours_at_all_is_closed():
    at = datetime(2026, 11, 23, 10, 0, tzinfo=SHANGHAI)
    assert is_open(at, timezone="Asia/Shanghai", weekly={}) is False
    assert is_open(at, timezone="Asia/Shanghai", weekly={}, exceptions=None) is False
