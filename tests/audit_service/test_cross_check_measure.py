"""The cross-check's pure rules (audit_service/cross_checks/measure.py) on constructed records."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from audit_service.cross_checks.measure import (
    CounterRecords,
    Interval,
    Measured,
    QueueReading,
    Sighting,
    StateReport,
    Tolerances,
    compare_field,
    measure,
    outcome,
    staffed_at,
)
from audit_service.models import CrossCheckStatus

T = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
CAM, OTHER_CAM = 1, 2


def s(seconds: float) -> datetime:
    return T + timedelta(seconds=seconds)


def counter(**kw) -> CounterRecords:  # type: ignore[no-untyped-def]
    return CounterRecords(counter_id=kw.pop("counter_id", 1), **kw)


# ---------------------------------------------------------------- staffed


def test_interval_covers_start_but_not_end():
    assert Interval(T, s(60)).covers(T)
    assert not Interval(s(-60), T).covers(T)
    assert Interval(s(-60), None).covers(T)
    assert not Interval(s(1), None).covers(T)


@pytest.mark.parametrize(
    ("records", "expected"),
    [
        # An open unattended finding that began before the arrival.
        (counter(unattended=[Interval(s(-120), None, CAM)]), False),
        # ... even when a camera also reported then.
        (counter(unattended=[Interval(s(-120), s(30))], sightings=[Sighting(CAM, T)]), False),
        # A state held since before the arrival and still reported after it.
        (counter(states=[StateReport("unattended", s(-600), s(600))]), False),
        (counter(states=[StateReport("closed", s(-600), s(600))]), False),
        (counter(states=[StateReport("attended", s(-600), s(600))]), True),
        # Two zones of the counter: one sees staff, so it was staffed.
        (
            counter(
                states=[
                    StateReport("unattended", s(-600), s(600)),
                    StateReport("attended", s(-60), s(60)),
                ]
            ),
            True,
        ),
        # A state that began after the arrival says nothing about it; nor does an undecided one.
        (counter(states=[StateReport("unattended", s(10), s(600))]), None),
        (counter(states=[StateReport(None, s(-600), s(600))]), None),
        # Coverage: a camera of the counter reported within 5 minutes.
        (counter(sightings=[Sighting(CAM, s(300))]), True),
        (counter(sightings=[Sighting(CAM, s(-300))]), True),
        (counter(sightings=[Sighting(CAM, s(301))]), None),
        # ... unless that camera was offline at the arrival.
        (
            counter(
                sightings=[Sighting(CAM, s(10))],
                offline=[Interval(s(-30), s(200), CAM)],
            ),
            None,
        ),
        (
            counter(
                sightings=[Sighting(CAM, s(10)), Sighting(OTHER_CAM, s(20))],
                offline=[Interval(s(-30), None, CAM)],
            ),
            True,
        ),
        # An unattended finding that ended just before, or began just after: attended then.
        (counter(unattended=[Interval(s(-900), s(-60))]), True),
        (counter(unattended=[Interval(s(-900), s(-301))]), None),
        (counter(unattended=[Interval(s(240), None)]), True),
        (counter(unattended=[Interval(s(400), None)]), None),
        (counter(), None),
    ],
)
def test_staffed_at(records: CounterRecords, expected: bool | None):
    assert staffed_at(T, records) is expected


@pytest.mark.parametrize(
    ("states", "expected"),
    [
        ((True, None), True),
        ((False, True), True),
        ((False, False), False),
        ((False, None), None),  # the other counter may have been staffed
        ((None, None), None),
        ((), None),
    ],
)
def test_staffed_over_the_outlets_counters(states: tuple[bool | None, ...], expected):
    built = {
        True: counter(sightings=[Sighting(CAM, T)]),
        False: counter(unattended=[Interval(s(-60), None)]),
        None: counter(),
    }
    assert measure(T, [built[x] for x in states]).counter_staffed is expected


# ---------------------------------------------------------------- queue and wait


def test_queue_is_the_nearest_sample_within_two_minutes():
    samples = [
        QueueReading(s(-90), 5, None),
        QueueReading(s(40), 2, None),
        QueueReading(s(-40), 3, None),  # as near as the one after: the earlier wins
        QueueReading(s(121), 9, None),  # outside the window
    ]
    assert measure(T, [counter(samples=samples)]).queue_length == 3
    assert measure(T, [counter(samples=[QueueReading(s(120), 4, None)])]).queue_length == 4
    assert measure(T, [counter(samples=[QueueReading(s(-121), 4, None)])]).queue_length is None


def test_queue_adds_up_the_outlets_counters():
    one = counter(counter_id=1, samples=[QueueReading(s(10), 2, None)])
    two = counter(counter_id=2, samples=[QueueReading(s(-10), 3, None)])
    none = counter(counter_id=3)
    assert measure(T, [one, two, none]).queue_length == 5


def test_wait_is_the_completed_wait_that_began_nearest_the_arrival():
    waits = [(s(-170), 100.0), (s(30), 250.0), (s(-50), 400.0), (s(181), 10.0)]
    records = counter(waits=waits, samples=[QueueReading(T, 2, 999.0)])
    assert measure(T, [records]).wait_s == 250.0
    assert measure(T, [counter(waits=[(s(180), 70.0)])]).wait_s == 70.0
    assert measure(T, [counter(waits=[(s(-181), 70.0)])]).wait_s is None


def test_wait_falls_back_on_the_nearest_sample_with_an_estimate():
    samples = [QueueReading(s(5), 2, None), QueueReading(s(-30), 2, 180.0)]
    assert measure(T, [counter(samples=samples)]).wait_s == 180.0
    assert measure(T, [counter(samples=[QueueReading(s(5), 2, None)])]).wait_s is None


# ---------------------------------------------------------------- comparing

TOL = Tolerances(wait_s=120.0, wait_ratio=0.5, queue=2.0)


@pytest.mark.parametrize(
    ("reported", "measured", "tolerance", "agrees"),
    [
        (300, 450.0, 150.0, True),  # 0.5 x 300 = 150 > 120; |diff| = 150 is still within
        (300, 451.0, 150.0, False),
        (100, 220.0, 120.0, True),  # 0.5 x 100 = 50 < 120
        (100, 221.0, 120.0, False),
        (0, 120.0, 120.0, True),
        (None, 200.0, 120.0, None),
        (200, None, 120.0, None),
    ],
)
def test_wait_tolerance(reported, measured, tolerance, agrees):
    assert compare_field("wait_s", reported, measured, TOL) == {
        "name": "wait_s",
        "reported": reported,
        "measured": measured,
        "tolerance": tolerance,
        "agrees": agrees,
    }


@pytest.mark.parametrize(
    ("reported", "measured", "agrees"),
    [(3.0, 5, True), (3.0, 6, False), (7.0, 5, True), (8.0, 5, False), (None, 5, None)],
)
def test_queue_tolerance(reported, measured, agrees):
    result = compare_field("queue_length", reported, measured, TOL)
    assert (result["tolerance"], result["agrees"]) == (2.0, agrees)


@pytest.mark.parametrize(
    ("reported", "measured", "agrees"),
    [
        (True, True, True),
        (False, False, True),
        (True, False, False),
        (False, True, False),
        (True, None, None),
        (None, False, None),
    ],
)
def test_staffed_must_be_equal(reported, measured, agrees):
    result = compare_field("counter_staffed", reported, measured, TOL)
    assert (result["tolerance"], result["agrees"]) == (None, agrees)


def test_outcome_status():
    reported = {"queue_length": 3.0, "wait_s": 300, "counter_staffed": True}
    agreed = outcome(reported, Measured(250.0, True, 4), TOL)
    assert (agreed.status, agreed.agrees) == (CrossCheckStatus.agreed, True)
    assert [f["name"] for f in agreed.fields] == ["wait_s", "counter_staffed", "queue_length"]
    flagged = outcome(reported, Measured(250.0, False, 4), TOL)
    assert (flagged.status, flagged.agrees) == (CrossCheckStatus.flagged, False)
    # Fields that can't be compared don't decide: one agreeing field is an agreement.
    partial = outcome(reported, Measured(None, None, 2), TOL)
    assert (partial.status, partial.agrees) == (CrossCheckStatus.agreed, True)
    nothing = outcome(reported, Measured(), TOL)
    assert (nothing.status, nothing.agrees) == (CrossCheckStatus.no_data, None)
    # Measured but not reported: nothing to compare either.
    unanswered = outcome({"wait_s": None}, Measured(wait_s=300.0), TOL)
    assert unanswered.status is CrossCheckStatus.no_data
    assert [f["name"] for f in unanswered.fields] == ["wait_s"]  # only what the checklist observes


def test_unknown_field_is_a_programming_error():
    with pytest.raises(ValueError, match="unknown cross-check field"):
        compare_field("mood", 1, 1, TOL)
