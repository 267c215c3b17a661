"""Queue monitoring: smoothing, per-person waits, over-threshold events, periodic samples."""

from __future__ import annotations

import statistics

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vision.analytics.events import EventKind, QueueSample
from vision.analytics.queue import CompletedWait, QueueMonitor, QueueUpdate
from vision.config import ZoneConfig

STEP = 0.5  # 2 fps


def monitor(**kw) -> QueueMonitor:
    options = {"max_queue": 5, "wait_sla_s": 60.0, **kw}
    return QueueMonitor("cam-1", "queue-a", **options)


def people(n: int, first_id: int = 1) -> list[int]:
    return list(range(first_id, first_id + n))


def feed_counts(m: QueueMonitor, counts: list[int], t0: float = 0.0) -> list[QueueUpdate]:
    """One frame per count, 2 fps, untracked persons."""
    return [m.update(t0 + i * STEP, [-1] * c) for i, c in enumerate(counts)]


@pytest.mark.parametrize(
    ("counts", "expected_smoothed"),
    [
        pytest.param([3, 3, 3, 0, 3, 3], [3, 3, 3, 3, 3, 3], id="single-frame-drop-to-zero"),
        pytest.param([3, 3, 3, 12, 3, 3], [3, 3, 3, 3, 3, 3], id="single-frame-spike"),
        pytest.param([3, 3, 3, 0, 0, 3, 3], [3, 3, 3, 3, 3, 3, 3], id="two-frame-drop"),
        pytest.param(
            [3, 3, 3, 0, 0, 0, 0, 0], [3, 3, 3, 3, 3, 0, 0, 0], id="real-drop-after-three-frames"
        ),
        pytest.param([2, 4], [2, 3], id="even-window-at-start-averages-middle-pair"),
    ],
)
def test_smoothed_is_a_rolling_median(counts, expected_smoothed):
    updates = feed_counts(monitor(), counts)
    assert [u.smoothed for u in updates] == expected_smoothed
    assert [u.count for u in updates] == counts  # the raw count is reported as seen


def test_count_defaults_to_the_number_of_ids_and_can_be_given():
    m = monitor()
    assert m.update(0.0, [1, 2, -1]).count == 3
    assert m.update(0.5, [1, 2], count=4).count == 4


def test_over_threshold_start_and_end_with_peak():
    m = monitor(max_queue=5, over_for_s=10.0)
    # 3 people for 10 s, 7 for 20 s, 9 for 5 s, back to 2.
    counts = [3] * 20 + [7] * 40 + [9] * 10 + [2] * 10
    updates = feed_counts(m, counts)
    events = [(i * STEP, e) for i, u in enumerate(updates) for e in u.events]
    assert [e.phase for _, e in events] == ["start", "end"]
    (t_start, start), (t_end, end) = events
    # The median of 5 turns over on the third frame at 7: t = 10.0 + 2 * 0.5.
    assert start.start == 11.0 and t_start == 21.0  # declared after over_for_s
    assert start.kind is EventKind.queue_over_threshold and start.zone == "queue-a"
    assert start.data == {"max_queue": 5}
    assert end.id == start.id
    assert end.end == t_end == 36.0  # third frame at 2
    assert end.data == {
        "max_queue": 5,
        "peak": 9,
        "ended_by": "below_threshold",
        "duration_s": 25.0,
    }
    assert m.open_event is None


@pytest.mark.parametrize(
    ("over_frames", "over_for_s", "phases"),
    [
        pytest.param(12, 10.0, [], id="short-crowd-below-over_for_s"),
        pytest.param(30, 10.0, ["start", "end"], id="long-enough"),
        pytest.param(1, 0.0, [], id="single-frame-spike-never-over"),
        pytest.param(3, 0.0, ["start", "end"], id="no-delay"),
    ],
)
def test_over_for_s_filters_short_crowds(over_frames, over_for_s, phases):
    m = monitor(max_queue=5, over_for_s=over_for_s)
    updates = feed_counts(m, [2] * 10 + [8] * over_frames + [2] * 10)
    assert [e.phase for u in updates for e in u.events] == phases


def test_two_short_crowds_dont_add_up():
    # Each crowd is over for about 6 s; together they span more than over_for_s.
    m = monitor(max_queue=5, over_for_s=10.0)
    updates = feed_counts(m, ([2] * 10 + [8] * 12) * 2 + [2] * 10)
    assert [e for u in updates for e in u.events] == []


def test_equal_to_max_queue_is_not_over():
    updates = feed_counts(monitor(max_queue=5, over_for_s=0.0), [5] * 20)
    assert all(not u.events for u in updates)


def test_finish_ends_an_open_over_threshold_event():
    m = monitor(over_for_s=0.0)
    feed_counts(m, [8] * 10)
    (ended,) = m.finish(10.0)
    assert ended.phase == "end" and ended.data["ended_by"] == "stream_end"
    assert ended.data["peak"] == 8


@pytest.mark.parametrize(
    ("times", "every", "expected"),
    [
        pytest.param([i * 0.5 for i in range(121)], 10.0, [0, 10, 20, 30, 40, 50, 60], id="2fps"),
        pytest.param(
            [3.25 + i * 0.5 for i in range(41)], 10.0, [3.25, 13.25, 23.25], id="first-at-first"
        ),
        pytest.param(
            # A gap from 12 s to 47 s: no catch-up samples, the grid is kept (50 is due next).
            [0, 5, 10, 12, 47, 49.5, 50, 55, 60],
            10.0,
            [0, 10, 47, 50, 60],
            id="gap-keeps-the-grid",
        ),
        pytest.param([0, 1, 2, 3], 1.0, [0, 1, 2, 3], id="every-frame"),
    ],
)
def test_samples_every_n_seconds(times, every, expected):
    m = monitor(sample_every_s=every)
    samples = [s for t in times for s in m.update(t, [1, 2]).samples]
    assert [s.t for s in samples] == expected
    assert samples[0] == QueueSample(
        camera_id="cam-1", zone="queue-a", t=times[0], count=2, smoothed=2.0, wait_s=0.0
    )


def track_script(m: QueueMonitor, presence: dict[int, list[tuple[float, float]]], until: float):
    """Feed 2 fps frames to ``until``; track id → list of [from, to) seconds it is in the zone."""
    updates = {}
    t = 0.0
    while t < until:
        ids = [tid for tid, spans in presence.items() if any(a <= t < b for a, b in spans)]
        updates[t] = m.update(t, ids)
        t += STEP
    return updates


def test_completed_waits_with_over_sla():
    m = monitor(wait_sla_s=60.0, leave_grace_s=2.0)
    updates = track_script(m, {1: [(0, 100)], 2: [(10, 40)]}, until=120)
    done = [(t, w) for t, u in updates.items() for w in u.completed_waits]
    assert done == [
        # Track 2 last seen at 39.5 s; completed once unseen for more than 2 s.
        (42.0, CompletedWait(2, joined=10.0, left=39.5, wait_s=29.5, over_sla=False)),
        (102.0, CompletedWait(1, joined=0.0, left=99.5, wait_s=99.5, over_sla=True)),
    ]
    assert [w.track_id for w in m.completed] == [2, 1]
    assert m.median_recent_wait_s == pytest.approx((29.5 + 99.5) / 2)


def test_reentry_restarts_the_wait():
    m = monitor(leave_grace_s=2.0)
    updates = track_script(m, {5: [(0, 20), (40, 50)]}, until=60)
    assert updates[45.0].wait_s == 5.0  # not 45: the timer restarted on re-entry
    assert [(w.joined, w.left) for w in m.completed] == [(0.0, 19.5), (40.0, 49.5)]


def test_reentry_after_a_gap_in_the_stream_restarts_the_wait():
    # No frames between 1 s and 30 s: the track is seen again, but after more than the grace.
    m = monitor(leave_grace_s=2.0)
    m.update(0.0, [5])
    m.update(1.0, [5])
    update = m.update(30.0, [5])
    assert update.completed_waits == [CompletedWait(5, 0.0, 1.0, 1.0, over_sla=False)]
    assert update.wait_s == 0.0 and m.in_queue == {5: 30.0}


def test_short_miss_within_grace_keeps_one_wait():
    m = monitor(leave_grace_s=2.0)
    updates = track_script(m, {5: [(0, 10), (11.5, 30)]}, until=40)  # unseen for 1.5 s
    assert updates[20.0].wait_s == 20.0
    assert [(w.joined, w.left) for w in m.completed] == [(0.0, 29.5)]


def test_wait_is_the_longest_dwell_and_untracked_have_none():
    m = monitor(leave_grace_s=10.0)
    m.update(0.0, [1])
    m.update(5.0, [1, 2])
    assert m.update(10.0, [1, 2, -1]).wait_s == 10.0
    fresh = monitor()
    update = fresh.update(0.0, [-1, -1])
    assert (update.count, update.wait_s) == (2, None)
    assert fresh.in_queue == {}


def test_min_wait_drops_pass_throughs():
    m = monitor(min_wait_s=5.0, leave_grace_s=1.0)
    track_script(m, {1: [(0, 2)], 2: [(0, 20)]}, until=30)
    assert [w.track_id for w in m.completed] == [2]


def test_median_recent_wait_uses_the_last_n():
    m = monitor(recent_waits=2, leave_grace_s=2.0)
    track_script(m, {1: [(0, 100)], 2: [(110, 120)], 3: [(130, 150)]}, until=160)
    assert [w.wait_s for w in m.completed] == [99.5, 9.5, 19.5]
    assert m.median_recent_wait_s == 14.5
    assert monitor().median_recent_wait_s is None


@pytest.mark.parametrize(
    ("feed", "message"),
    [
        ([(5.0, [1]), (4.5, [1])], "backwards from 5.0 to 4.5"),
        ([(float("inf"), [1])], "finite"),
    ],
)
def test_bad_time_raises(feed, message):
    m = monitor()
    with pytest.raises(ValueError, match=message):
        for t, ids in feed:
            m.update(t, ids)


def test_negative_count_and_bad_parameters_raise():
    with pytest.raises(ValueError, match="negative"):
        monitor().update(0.0, [], count=-1)
    with pytest.raises(ValueError, match="smooth_window"):
        monitor(smooth_window=0)


def test_from_zone_uses_zone_limits():
    z = ZoneConfig(
        id="q-1", kind="queue", polygon=[[0, 0], [1, 0], [1, 1]], max_queue=8, wait_sla_s=120.0
    )
    m = QueueMonitor.from_zone("cam-2", z, smooth_window=3)
    assert (m.zone_id, m.max_queue, m.wait_sla_s, m.smooth_window) == ("q-1", 8, 120.0, 3)


# --- properties ----------------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(
    counts=st.lists(st.integers(0, 20), min_size=1, max_size=200),
    window=st.integers(1, 9),
)
def test_smoothed_stays_within_the_window(counts, window):
    m = monitor(smooth_window=window)
    for i, count in enumerate(counts):
        update = m.update(i * STEP, [], count=count)
        recent = counts[max(0, i - window + 1) : i + 1]
        assert min(recent) <= update.smoothed <= max(recent)
        assert update.smoothed == statistics.median(recent)


@settings(max_examples=150, deadline=None)
@given(
    frames=st.lists(
        st.tuples(st.sampled_from([0.5, 0.5, 1.0, 5.0]), st.integers(0, 12)), max_size=300
    ),
)
def test_over_threshold_events_alternate_and_waits_are_consistent(frames):
    m = monitor(max_queue=5, over_for_s=2.0, leave_grace_s=2.0)
    t = 0.0
    open_id = None
    for dt, n in frames:
        t += dt
        update = m.update(t, people(n))
        for event in update.events:
            if event.phase == "start":
                assert open_id is None
                open_id = event.id
            else:
                assert event.id == open_id and event.data["peak"] > 5
                open_id = None
        for wait in update.completed_waits:
            assert wait.joined <= wait.left < t
            assert wait.wait_s == wait.left - wait.joined
            assert wait.over_sla == (wait.wait_s > 60.0)
        assert (update.wait_s is None) == (not m.in_queue)
