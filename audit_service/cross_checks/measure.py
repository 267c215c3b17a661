"""The cross-check's rules as pure functions: what the cameras measured at the shopper's arrival,
and whether the shopper's report agrees with it (docs/performance.md, "Cross-check").

Nothing here touches the database or the clock: the service loads the camera records around the
arrival instant into the plain records below and passes them in.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from audit_service.models.performance import CrossCheckStatus

# How far from the arrival instant each kind of camera record still counts.
COVERAGE_WINDOW = timedelta(minutes=5)  # a camera reported on the counter: it was watching
QUEUE_WINDOW = timedelta(minutes=2)  # a queue sample is "the queue on arrival"
WAIT_WINDOW = timedelta(minutes=3)  # a completed wait that began then is the shopper's own

FIELD_ORDER = ("wait_s", "counter_staffed", "queue_length")


@dataclass(frozen=True)
class Interval:
    """A finding from ``start`` until ``end`` (None: still open), of one camera."""

    start: datetime
    end: datetime | None
    camera_id: int | None = None

    def covers(self, t: datetime) -> bool:
        return self.start <= t and (self.end is None or self.end > t)


@dataclass(frozen=True)
class StateReport:
    """A counter zone's state ``state`` held from ``since`` at least until ``at``."""

    state: str | None  # attended | unattended | closed | None (undecided)
    since: datetime | None
    at: datetime


@dataclass(frozen=True)
class Sighting:
    """A camera reported something about the counter at ``at`` (a sample, a state, health)."""

    camera_id: int
    at: datetime


@dataclass(frozen=True)
class QueueReading:
    at: datetime
    count: int
    wait_s: float | None


@dataclass(frozen=True)
class CounterRecords:
    """Everything the cameras said about one counter around the arrival instant."""

    counter_id: int
    unattended: Sequence[Interval] = ()  # counter_unattended findings of the counter
    offline: Sequence[Interval] = ()  # camera_offline findings of the counter's cameras
    states: Sequence[StateReport] = ()  # the counter zones' latest states
    sightings: Sequence[Sighting] = ()
    samples: Sequence[QueueReading] = ()  # the counter's queue zone samples
    waits: Sequence[tuple[datetime, float]] = ()  # completed waits: (joined_at, wait_s)


@dataclass(frozen=True)
class Measured:
    wait_s: float | None = None
    counter_staffed: bool | None = None
    queue_length: int | None = None

    def get(self, name: str) -> Any:
        return getattr(self, name)


@dataclass(frozen=True)
class Tolerances:
    wait_s: float = 120.0
    wait_ratio: float = 0.5
    queue: float = 2.0


@dataclass(frozen=True)
class Outcome:
    fields: list[dict[str, Any]] = field(default_factory=list)
    status: CrossCheckStatus = CrossCheckStatus.no_data
    agrees: bool | None = None


# ---------------------------------------------------------------- measuring


def _near(at: datetime, t: datetime, window: timedelta) -> bool:
    return abs(at - t) <= window


def staffed_at(t: datetime, records: CounterRecords) -> bool | None:
    """Whether the counter was staffed at ``t``: False inside an unattended finding (or a state
    report that was unattended/closed since before ``t``); True when a camera was demonstrably
    watching it then; None when nothing says either way."""
    if any(event.covers(t) for event in records.unattended):
        return False
    held = {
        r.state
        for r in records.states
        if r.state is not None and r.since is not None and r.since <= t <= r.at
    }
    if held:
        return "attended" in held
    blind = {event.camera_id for event in records.offline if event.covers(t)}
    if any(s.camera_id not in blind and _near(s.at, t, COVERAGE_WINDOW) for s in records.sightings):
        return True
    # An unattended finding that ended just before, or began just after: the camera was
    # watching the counter zone, and the counter was attended at t.
    for event in records.unattended:
        if event.end is not None and t - COVERAGE_WINDOW <= event.end <= t:
            return True
        if t < event.start <= t + COVERAGE_WINDOW:
            return True
    return None


def _nearest_sample(t: datetime, samples: Iterable[QueueReading]) -> QueueReading | None:
    near = [s for s in samples if _near(s.at, t, QUEUE_WINDOW)]
    return min(near, key=lambda s: (abs(s.at - t), s.at), default=None)


def measure(t: datetime, counters: Sequence[CounterRecords]) -> Measured:
    """What the cameras measured at ``t``: one counter (the shopper's), or several (the outlet's,
    when the shopper named none)."""
    # Staffed: one staffed counter is enough; unstaffed only if every counter was seen unstaffed.
    states = [staffed_at(t, c) for c in counters]
    if any(s is True for s in states):
        staffed: bool | None = True
    elif states and all(s is False for s in states):
        staffed = False
    else:
        staffed = None
    # Queue: each counter's sample nearest to t, added up over the counters that have one.
    nearest = [s for c in counters if (s := _nearest_sample(t, c.samples)) is not None]
    queue = sum(s.count for s in nearest) if nearest else None
    # Wait: the completed wait that began nearest to t, else the sample's estimate at t.
    waits = [
        (joined, wait_s)
        for c in counters
        for joined, wait_s in c.waits
        if _near(joined, t, WAIT_WINDOW)
    ]
    wait: float | None = None
    if waits:
        wait = min(waits, key=lambda w: (abs(w[0] - t), w[0]))[1]
    else:
        estimate = _nearest_sample(
            t, (s for c in counters for s in c.samples if s.wait_s is not None)
        )
        wait = estimate.wait_s if estimate is not None else None
    return Measured(wait_s=wait, counter_staffed=staffed, queue_length=queue)


# ---------------------------------------------------------------- comparing


def compare_field(
    name: str, reported: Any, measured: Any, tolerances: Tolerances
) -> dict[str, Any]:
    """One field of a cross-check: ``{name, reported, measured, tolerance, agrees}``."""
    tolerance: float | None = None
    agrees: bool | None = None
    if name == "wait_s":
        tolerance = tolerances.wait_s
        if reported is not None:
            tolerance = max(tolerances.wait_s, tolerances.wait_ratio * float(reported))
        if reported is not None and measured is not None:
            agrees = abs(float(reported) - float(measured)) <= tolerance
    elif name == "queue_length":
        tolerance = tolerances.queue
        if reported is not None and measured is not None:
            agrees = abs(float(reported) - float(measured)) <= tolerance
    elif name == "counter_staffed":
        if reported is not None and measured is not None:
            agrees = bool(reported) == bool(measured)
    else:
        raise ValueError(f"unknown cross-check field {name!r}")
    return {
        "name": name,
        "reported": reported,
        "measured": measured,
        "tolerance": tolerance,
        "agrees": agrees,
    }


def outcome(reported: dict[str, Any], measured: Measured, tolerances: Tolerances) -> Outcome:
    """Compare every reported field (``reported``: observed name -> the shopper's value or None;
    only the fields the checklist observes). no_data when nothing could be compared, flagged
    when a field disagrees, else agreed."""
    fields = [
        compare_field(name, reported[name], measured.get(name), tolerances)
        for name in FIELD_ORDER
        if name in reported
    ]
    verdicts = [f["agrees"] for f in fields if f["agrees"] is not None]
    if not verdicts:
        return Outcome(fields, CrossCheckStatus.no_data, None)
    if not all(verdicts):
        return Outcome(fields, CrossCheckStatus.flagged, False)
    return Outcome(fields, CrossCheckStatus.agreed, True)
