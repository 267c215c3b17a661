"""Queue monitoring: how many people wait in a queue zone, for how long, and when it's too long.

A state machine over (t, track ids in the zone). Times are seconds on the stream's clock and must
not go backwards. Rules:

- **Count.** ``count`` is the number of persons in the zone this frame (``len(track_ids)`` unless
  ``count`` is given, e.g. to include persons the detector missed on this frame whom the tracker
  still places in the zone; they are counted but not "seen", so their dwell is not extended).
- **Smoothed.** The median of the last ``smooth_window`` counts (frames, not seconds). A median
  ignores up to ``(smooth_window - 1) // 2`` outlying frames, so a single frame where the
  detector misses everybody (or sees a crowd) doesn't move it; a mean would.
- **Dwell.** A track joins the queue the first time it is seen and leaves when it hasn't been
  seen for more than ``leave_grace_s``; it left at the time it was last seen, and its wait is
  ``left - joined``. A track seen again after it left starts a new wait (the timer restarts).
  Untracked persons (id -1) count in ``count`` but have no dwell.
- **Wait now.** ``wait_s`` is the longest dwell, ``t - joined``, among the tracks still in the
  queue (seen within ``leave_grace_s``); None when there are none.
- **Over threshold.** A ``queue_over_threshold`` event starts once ``smoothed > max_queue`` has held
  for ``over_for_s`` (``start`` = the first frame it went over); it ends at the first frame with
  ``smoothed <= max_queue`` (data: ``peak`` = highest smoothed count, ``max_queue``,
  ``duration_s``). If it drops back before ``over_for_s``, nothing is emitted.
- **Samples.** One ``QueueSample`` at the first update and then at the first update at or after
  each multiple of ``sample_every_s`` from it (a gap in the stream skips slots; it never emits
  catch-up samples).
"""

from __future__ import annotations

import math
import statistics
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from vision.analytics.events import EventKind, QueueSample, VisionEvent
from vision.config import ZoneConfig, ZoneKind

UNTRACKED = -1


@dataclass(frozen=True)
class CompletedWait:
    """One person's finished wait: joined and left in seconds, ``wait_s = left - joined``."""

    track_id: int
    joined: float
    left: float
    wait_s: float
    over_sla: bool


@dataclass
class QueueUpdate:
    """What one frame told about the queue (counts are persons, times seconds)."""

    count: int
    smoothed: float
    wait_s: float | None
    events: list[VisionEvent] = field(default_factory=list)
    samples: list[QueueSample] = field(default_factory=list)
    completed_waits: list[CompletedWait] = field(default_factory=list)


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else float(value)


class QueueMonitor:
    """Count, wait times and over-threshold events of one queue zone; rules in the module doc.

    ``max_queue`` persons; ``wait_sla_s``, ``sample_every_s``, ``leave_grace_s``, ``over_for_s``
    and ``min_wait_s`` seconds; ``smooth_window`` frames. Waits shorter than ``min_wait_s`` (people
    crossing the zone) are dropped from the history. ``history`` is how many completed waits are
    kept; ``median_recent_wait_s`` uses the last ``recent_waits`` of them.
    """

    def __init__(
        self,
        camera_id: str,
        zone_id: str,
        max_queue: int,
        wait_sla_s: float,
        sample_every_s: float = 10.0,
        smooth_window: int = 5,
        leave_grace_s: float = 2.0,
        over_for_s: float = 10.0,
        *,
        min_wait_s: float = 0.0,
        history: int = 500,
        recent_waits: int = 20,
    ) -> None:
        where = f"queue zone '{zone_id}'"
        checks = {
            "max_queue": (max_queue, max_queue >= 0),
            "wait_sla_s": (wait_sla_s, wait_sla_s > 0),
            "sample_every_s": (sample_every_s, sample_every_s > 0),
            "smooth_window": (smooth_window, smooth_window >= 1),
            "leave_grace_s": (leave_grace_s, leave_grace_s >= 0),
            "over_for_s": (over_for_s, over_for_s >= 0),
            "min_wait_s": (min_wait_s, min_wait_s >= 0),
            "history": (history, history >= 1),
            "recent_waits": (recent_waits, recent_waits >= 1),
        }
        for name, (value, ok) in checks.items():
            if not ok:
                raise ValueError(f"{where}: {name} is out of range, got {value}")
        self.camera_id = camera_id
        self.zone_id = zone_id
        self.max_queue = int(max_queue)
        self.wait_sla_s = float(wait_sla_s)
        self.sample_every_s = float(sample_every_s)
        self.smooth_window = int(smooth_window)
        self.leave_grace_s = float(leave_grace_s)
        self.over_for_s = float(over_for_s)
        self.min_wait_s = float(min_wait_s)
        self.recent_waits = int(recent_waits)

        self._last_t: float | None = None
        self._first_t: float | None = None
        self._next_sample: float | None = None
        self._counts: deque[int] = deque(maxlen=self.smooth_window)
        self._joined: dict[int, float] = {}  # track id → joined (s)
        self._last_seen: dict[int, float] = {}  # track id → last seen (s)
        self._completed: deque[CompletedWait] = deque(maxlen=history)
        self._over_since: float | None = None
        self._peak: float = 0.0
        self._event: VisionEvent | None = None

    @classmethod
    def from_zone(cls, camera_id: str, zone: ZoneConfig, **options: Any) -> QueueMonitor:
        """From a queue ``ZoneConfig`` (its ``max_queue`` and ``wait_sla_s``); ``options`` are
        the other constructor arguments."""
        if zone.kind is not ZoneKind.queue:
            raise ValueError(
                f"zone '{zone.id}': queue monitoring needs a queue zone, not {zone.kind}"
            )
        assert zone.max_queue is not None and zone.wait_sla_s is not None
        return cls(camera_id, zone.id, zone.max_queue, zone.wait_sla_s, **options)

    @property
    def completed(self) -> list[CompletedWait]:
        """Finished waits, oldest first (at most ``history``)."""
        return list(self._completed)

    @property
    def median_recent_wait_s(self) -> float | None:
        """Median wait (seconds) of the last ``recent_waits`` completed waits; None if none."""
        if not self._completed:
            return None
        recent = list(self._completed)[-self.recent_waits :]
        return float(statistics.median(w.wait_s for w in recent))

    @property
    def in_queue(self) -> dict[int, float]:
        """Track id → joined time (seconds) of the tracks now in the queue."""
        return dict(self._joined)

    @property
    def open_event(self) -> VisionEvent | None:
        """The start event of the over-threshold spell in progress, if any."""
        return self._event

    def update(self, t: float, track_ids: Iterable[int], count: int | None = None) -> QueueUpdate:
        """Take one analysed frame at ``t`` (seconds): the track ids of the persons in the zone
        (-1 for untracked ones), and optionally the head count if it differs from their number.

        Raises ValueError if ``t`` is earlier than the previous frame's or not finite, or
        ``count`` is negative.
        """
        t = self._check_time(t)
        ids = [int(i) for i in track_ids]
        n = len(ids) if count is None else int(count)
        if n < 0:
            raise ValueError(f"queue zone '{self.zone_id}': count can't be negative, got {n}")
        if self._first_t is None:
            self._first_t = t
        self._last_t = t

        completed = self._expire(t)
        for tid in set(ids) - {UNTRACKED}:
            self._joined.setdefault(tid, t)
            self._last_seen[tid] = t

        self._counts.append(n)
        smoothed = float(statistics.median(self._counts))
        wait_s = max((t - joined for joined in self._joined.values()), default=None)
        update = QueueUpdate(count=n, smoothed=smoothed, wait_s=wait_s, completed_waits=completed)
        self._threshold(t, smoothed, update.events)

        if self._next_sample is None or t >= self._next_sample:
            update.samples.append(
                QueueSample(
                    camera_id=self.camera_id,
                    zone=self.zone_id,
                    t=t,
                    count=n,
                    smoothed=smoothed,
                    wait_s=wait_s,
                )
            )
            slots = math.floor((t - self._first_t) / self.sample_every_s) + 1
            self._next_sample = self._first_t + slots * self.sample_every_s
        return update

    def finish(self, t: float) -> list[VisionEvent]:
        """End of the stream at ``t`` (seconds): ends an open over-threshold event
        (``ended_by="stream_end"``). Waits still in progress are not completed."""
        t = self._check_time(t)
        self._last_t = t
        if self._event is None:
            return []
        ended = self._event.ended(
            t, peak=_number(self._peak), max_queue=self.max_queue, ended_by="stream_end"
        )
        self._event = None
        self._over_since = None
        return [ended]

    def _check_time(self, t: float) -> float:
        t = float(t)
        if not math.isfinite(t):
            raise ValueError(f"queue zone '{self.zone_id}': time must be finite, got {t}")
        if self._last_t is not None and t < self._last_t:
            raise ValueError(
                f"queue zone '{self.zone_id}': time went backwards from {self._last_t} to {t}; "
                "feed frames in order, or start a new QueueMonitor for a new stream"
            )
        return t

    def _expire(self, t: float) -> list[CompletedWait]:
        """Complete the waits of tracks unseen for more than ``leave_grace_s`` (oldest first)."""
        gone = [tid for tid, seen in self._last_seen.items() if t - seen > self.leave_grace_s]
        done = []
        for tid in sorted(gone, key=lambda i: (self._joined[i], i)):
            joined, left = self._joined.pop(tid), self._last_seen.pop(tid)
            wait = left - joined
            if wait < self.min_wait_s:
                continue
            record = CompletedWait(tid, joined, left, wait, over_sla=wait > self.wait_sla_s)
            self._completed.append(record)
            done.append(record)
        return done

    def _threshold(self, t: float, smoothed: float, events: list[VisionEvent]) -> None:
        if smoothed > self.max_queue:
            if self._over_since is None:
                self._over_since, self._peak = t, smoothed
            else:
                self._peak = max(self._peak, smoothed)
            if self._event is None and t - self._over_since >= self.over_for_s:
                self._event = VisionEvent(
                    kind=EventKind.queue_over_threshold,
                    camera_id=self.camera_id,
                    zone=self.zone_id,
                    start=self._over_since,
                    data={"max_queue": self.max_queue},
                )
                events.append(self._event)
            return
        if self._event is not None:
            peak = _number(self._peak)
            ended = self._event.ended(
                t, peak=peak, max_queue=self.max_queue, ended_by="below_threshold"
            )
            events.append(ended)
            self._event = None
        self._over_since = None
