"""Counter attendance: hysteresis, grace for missed frames, passers-by, opening hours."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vision.analytics.attendance import CounterAttendance
from vision.analytics.events import EventKind, VisionEvent
from vision.analytics.hours import OpeningSchedule
from vision.config import OutletHours, ZoneConfig

FPS = 2.0
STEP = 1 / FPS  # 0.5 s: exact in binary, so stream times compare exactly
MIN_PRESENCE = 2.0
UNATTENDED_AFTER = 60.0


def machine(is_open=None, **kw) -> CounterAttendance:
    return CounterAttendance("cam-1", "till-1", MIN_PRESENCE, UNATTENDED_AFTER, is_open, **kw)


def run(
    m: CounterAttendance, script: list[tuple[float, int]], t0: float = 0.0
) -> tuple[list[tuple[float, VisionEvent]], float]:
    """Feed ``script`` — (seconds, present) segments — at 2 fps from ``t0``.

    Returns the events with the frame time that emitted them, and the next frame's time.
    """
    out = []
    t = t0
    for seconds, present in script:
        for _ in range(round(seconds * FPS)):
            out.extend((t, e) for e in m.update(t, present))
            t += STEP
    return out, t


def flicker(seconds: float) -> list[tuple[float, int]]:
    """Present and absent on alternate frames."""
    return [(STEP, 1), (STEP, 0)] * round(seconds / (2 * STEP))


def summary(events):
    return [(e.phase, e.start, e.end) for _, e in events]


@pytest.mark.parametrize(
    ("script", "expected_events", "state", "since"),
    [
        pytest.param([(600, 1)], [], "attended", 0.0, id="standing-still-10-min"),
        pytest.param([(1.5, 1)], [], None, 0.0, id="too-short-to-decide"),
        pytest.param([(10, 1), *flicker(600)], [], "attended", 0.0, id="flicker-stays-attended"),
        pytest.param(
            # Missed frame at 1.0 s: the run still began at 0.
            [(1, 1), (STEP, 0), (2, 1)],
            [],
            "attended",
            0.0,
            id="one-frame-miss-before-decision",
        ),
        pytest.param(
            # Two missed frames (1.0 and 1.5 s) break the run: presence restarts at 2.0 s.
            [(1, 1), (1, 0), (3, 1)],
            [],
            "attended",
            2.0,
            id="two-frame-miss-restarts-run",
        ),
        pytest.param(
            [(10, 1), (STEP, 0), (600, 1)], [], "attended", 0.0, id="one-frame-miss-when-attended"
        ),
        pytest.param(
            [(10, 1), (59.5, 0), (10, 1)], [], "attended", 0.0, id="absent-just-under-threshold"
        ),
        pytest.param(
            # Gone from 10.0 s; declared at 70.0 s; back at 80 s (confirmed at 82 s).
            [(10, 1), (70, 0), (10, 1)],
            [("start", 10.0, None), ("end", 10.0, 80.0)],
            "attended",
            80.0,
            id="leaves-and-returns",
        ),
        pytest.param(
            # Nobody from the first frame (t=0): the spell starts at the first observed time.
            [(61, 0)],
            [("start", 0.0, None)],
            "unattended",
            0.0,
            id="empty-from-the-start",
        ),
        pytest.param(
            # A passer-by at 30-31 s doesn't restart the empty clock that began at 10 s.
            [(10, 1), (20, 0), (1, 1), (40, 0)],
            [("start", 10.0, None)],
            "unattended",
            10.0,
            id="passer-by-doesnt-reset-empty-clock",
        ),
        pytest.param(
            # Unattended, then a passer-by for 1.5 s (< min_presence_s): no end.
            [(10, 1), (80, 0), (1.5, 1), (10, 0)],
            [("start", 10.0, None)],
            "unattended",
            10.0,
            id="passer-by-doesnt-end-spell",
        ),
        pytest.param(
            # Someone arrives at 69 s, before the 70 s threshold, and stays: no spell at all.
            [(10, 1), (59, 0), (10, 1)],
            [],
            "attended",
            0.0,
            id="arrival-just-before-threshold",
        ),
        pytest.param(
            # A passer-by 69-70.5 s straddles the threshold: the declaration waits for them to
            # go, and the spell still starts at 10 s.
            [(10, 1), (59, 0), (1.5, 1), (5, 0)],
            [("start", 10.0, None)],
            "unattended",
            10.0,
            id="passer-by-at-threshold-defers-declaration",
        ),
    ],
)
def test_attendance_table(script, expected_events, state, since):
    m = machine()
    events, _ = run(m, script)
    assert summary(events) == expected_events
    assert (m.state, m.since) == (state, since)
    for emitted_at, event in events:
        assert event.kind is EventKind.counter_unattended
        assert (event.camera_id, event.zone) == ("cam-1", "till-1")
        if event.phase == "start":
            assert emitted_at >= event.start + UNATTENDED_AFTER
            assert event.data == {"unattended_after_s": UNATTENDED_AFTER}
        else:
            assert emitted_at >= event.end + MIN_PRESENCE


def test_end_reuses_the_start_id_and_reports_duration():
    events, _ = run(machine(), [(10, 1), (70, 0), (10, 1)])
    (_, start), (emitted, end) = events
    assert end.id == start.id
    assert end.data == {"unattended_after_s": 60.0, "ended_by": "attended", "duration_s": 70.0}
    assert emitted == 80.0 + MIN_PRESENCE  # declared once the presence was confirmed


def test_unattended_is_declared_exactly_at_the_threshold():
    m = machine()
    events, _ = run(m, [(10, 1), (59.5, 0)])  # last frame at 69.5 s
    assert events == [] and m.state == "attended"  # hysteresis: still attended
    assert [e.phase for e in m.update(70.0, 0)] == ["start"]
    assert m.state == "unattended" and m.since == 10.0


def test_min_presence_zero_confirms_on_the_first_frame():
    m = CounterAttendance("cam-1", "till-1", 0.0, 60.0)
    m.update(5.0, 1)
    assert (m.state, m.since) == ("attended", 5.0)


def test_miss_grace_is_configurable():
    # At 1 fps a single miss is a 2 s gap between present frames.
    tight = machine()
    loose = machine(miss_grace_s=2.0)
    for t, present in [(0, 1), (1, 1), (2, 0), (3, 1), (4, 1), (5, 1)]:
        tight.update(t, present)
        loose.update(t, present)
    assert (tight.state, tight.since) == ("attended", 3.0)
    assert (loose.state, loose.since) == ("attended", 0.0)


def test_finish_ends_an_open_spell():
    m = machine()
    events, t = run(m, [(10, 1), (70, 0)])
    (ended,) = m.finish(t)
    assert ended.phase == "end" and ended.id == events[0][1].id
    assert ended.data["ended_by"] == "stream_end" and ended.end == t
    assert m.finish(t + 1) == []


@pytest.mark.parametrize(
    ("feed", "message"),
    [
        ([(10.0, 1), (9.5, 1)], "backwards from 10.0 to 9.5"),
        ([(float("nan"), 0)], "finite"),
        ([(0.0, -1)], "negative"),
    ],
)
def test_bad_input_raises(feed, message):
    m = machine()
    with pytest.raises(ValueError, match=message):
        for t, present in feed:
            m.update(t, present)


def test_repeated_timestamp_is_not_backwards():
    m = machine()
    m.update(1.0, 1)
    assert m.update(1.0, 1) == []


def test_invalid_parameters_are_named():
    with pytest.raises(ValueError, match="unattended_after_s"):
        CounterAttendance("cam-1", "till-1", 2.0, 0.0)


def test_from_zone_uses_zone_thresholds():
    z = ZoneConfig(
        id="till-3",
        kind="counter",
        polygon=[[0, 0], [1, 0], [1, 1]],
        min_presence_s=4.0,
        unattended_after_s=30.0,
    )
    m = CounterAttendance.from_zone("cam-9", z)
    assert (m.zone_id, m.min_presence_s, m.unattended_after_s) == ("till-3", 4.0, 30.0)
    queue = ZoneConfig(id="q", kind="queue", polygon=[[0, 0], [1, 0], [1, 1]])
    with pytest.raises(ValueError, match="counter zone"):
        CounterAttendance.from_zone("cam-9", queue)


# --- opening hours -------------------------------------------------------------------------


def window(opens: float, closes: float):
    """A plain callable (no next_change): open for opens <= t < closes."""
    return lambda t: opens <= t < closes


def test_no_spell_while_closed_and_the_clock_starts_at_opening():
    m = machine(is_open=window(100.2, 10_000.0))  # opens between the frames at 100.0 and 100.5
    events, _ = run(m, [(100.5, 0)])
    assert events == [] and (m.state, m.since) == ("closed", 0.0)
    events, _ = run(m, [(61, 0)], t0=100.5)
    assert m.state == "unattended"
    assert summary(events) == [("start", pytest.approx(100.2, abs=1e-3), None)]


def test_staff_present_at_opening_are_attended():
    m = machine(is_open=window(100.0, 10_000.0))
    run(m, [(100, 1), (5, 1)])
    assert m.state == "attended" and m.since == 100.0


def test_open_spell_ends_at_closing_time():
    m = machine(is_open=window(0.0, 200.2))  # closes between the frames at 200.0 and 200.5
    events, _ = run(m, [(10, 1), (300, 0)])
    assert [e.phase for _, e in events] == ["start", "end"]
    end = events[1][1]
    assert end.end == pytest.approx(200.2, abs=1e-3)
    assert end.data["ended_by"] == "closing"
    assert m.state == "closed" and m.since == pytest.approx(200.2, abs=1e-3)


def test_attended_counter_just_closes():
    m = machine(is_open=window(0.0, 100.0))
    events, _ = run(m, [(150, 1)])
    assert events == [] and m.state == "closed"


SH = ZoneInfo("Asia/Shanghai")
MON_9_TO_17 = {"mon": [{"opens": "09:00", "closes": "17:00"}]}


def outlet(tz: str, exceptions=()) -> OpeningSchedule:
    return OpeningSchedule(
        OutletHours(timezone=tz, opening_hours=MON_9_TO_17, hours_exceptions=list(exceptions))
    )


@pytest.mark.parametrize(
    ("tz", "exceptions", "expected"),
    [
        # 08:30-08:35 UTC is 16:30-16:35 in Shanghai: open; empty from 16:30, declared 16:31.
        pytest.param("Asia/Shanghai", [], [("start", "16:30")], id="shanghai-open"),
        # The same instants are 08:30 UTC, before a UTC outlet opens at 09:00.
        pytest.param("UTC", [], [], id="utc-still-closed"),
        pytest.param(
            "Asia/Shanghai",
            [{"day": "2026-11-23", "closed": True, "note": "holiday"}],
            [],
            id="holiday-closed",
        ),
    ],
)
def test_time_zone_and_holidays(tz, exceptions, expected):
    t0 = datetime(2026, 11, 23, 8, 30, tzinfo=ZoneInfo("UTC")).timestamp()  # a Monday
    m = machine(is_open=outlet(tz, exceptions))
    events, _ = run(m, [(300, 0)], t0=t0)
    local = [(e.phase, datetime.fromtimestamp(e.start, SH).strftime("%H:%M")) for _, e in events]
    assert local == expected
    assert m.state == ("unattended" if expected else "closed")


def test_spell_ends_exactly_at_local_closing_time():
    # 16:58:20 Shanghai, the counter empty; closes 17:00. OpeningSchedule gives the exact instant.
    t0 = datetime(2026, 11, 23, 16, 58, 20, 250_000, tzinfo=SH).timestamp()
    m = machine(is_open=outlet("Asia/Shanghai"))
    events, _ = run(m, [(300, 0)], t0=t0)
    assert [e.phase for _, e in events] == ["start", "end"]
    assert events[1][1].end == datetime(2026, 11, 23, 17, 0, tzinfo=SH).timestamp()
    assert events[1][1].data["ended_by"] == "closing"


# --- properties ----------------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(
    steps=st.lists(
        st.tuples(st.sampled_from([0.5, 0.5, 0.5, 1.0, 3.0, 40.0]), st.integers(0, 2)),
        max_size=400,
    ),
    with_hours=st.booleans(),
)
def test_spells_are_well_formed(steps, with_hours):
    """Every end follows its start (same id), spells don't overlap, every spell lasts at least
    unattended_after_s, and no spell starts while closed."""
    is_open = (lambda t: (t % 500.0) < 350.0) if with_hours else None
    m = machine(is_open=is_open)
    t = 0.0
    open_spell: VisionEvent | None = None
    for dt, present in steps:
        t += dt
        for event in m.update(t, present):
            assert event.start <= t
            if event.phase == "start":
                assert open_spell is None
                assert is_open is None or is_open(t)
                assert m.state == "unattended"
                open_spell = event
            else:
                assert open_spell is not None and event.id == open_spell.id
                assert event.start == open_spell.start
                assert event.end is not None and event.start <= event.end <= t
                assert event.end - event.start >= UNATTENDED_AFTER - 1e-3
                open_spell = None
        if is_open is not None and not is_open(t):
            assert m.state == "closed" and open_spell is None
        if open_spell is not None:
            assert m.state == "unattended"
