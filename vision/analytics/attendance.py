"""Counter attendance: is somebody at the staff station? A state machine over (t, present).

Feed it, per analysed frame, the stream time ``t`` (seconds) and ``present``, the number of
persons stationed in the counter zone (``ZoneGeometry.stationed``). Times must not go backwards.

Rules (all durations in seconds):

- **Presence run.** Frames with ``present > 0`` form a run while consecutive present frames are at
  most ``miss_grace_s`` apart, so one or two missed detections don't break it. A run begins at its
  first present frame.
- **Attended.** A run becomes *confirmed* once it has lasted ``min_presence_s`` (checked on present
  frames: ``t - run start >= min_presence_s``). The state is then "attended", ``since`` the run's
  start, and any open unattended spell ends at the run's start.
- **Empty clock.** The zone counts as empty from the first frame observed without anybody after a
  confirmed run ends (a run ends when no one has been present for more than ``miss_grace_s``). An
  unconfirmed run (a passer-by, shorter than ``min_presence_s``) neither makes the counter
  attended nor restarts the empty clock.
- **Unattended.** Once the zone has been empty for ``unattended_after_s`` a ``counter_unattended``
  event starts, with ``start`` = when it became empty. If an unconfirmed run is in progress at
  that moment and began before the threshold was reached, the decision waits for it: if it
  confirms, there was no spell; if it fades out, the spell is declared then (still starting when
  the zone became empty). Hence every spell lasts at least ``unattended_after_s``.
- **Hysteresis.** Between the last confirmed presence and the declaration the state stays
  "attended"; after a declaration it stays "unattended" until a run is confirmed.
- **Start.** Until the first decision the state is None. The empty clock starts at the first
  observed time (or at opening time), so a counter nobody shows up at becomes unattended
  ``unattended_after_s`` after the first frame, with the spell starting at that frame.
- **Opening hours.** While ``is_open(t)`` is False the state is "closed": no spell starts and
  presence isn't tracked. An open spell ends at closing time (``data["ended_by"] = "closing"``).
  At opening the state becomes None again and the empty clock starts at opening time. The
  instant of opening or closing between two frames comes from ``is_open.next_change`` when the
  callable has it (``hours.OpeningSchedule`` does), otherwise by bisection to 1 ms.

Events: the start carries ``data={"unattended_after_s": ...}``; its end (same ``id``) adds
``duration_s`` and ``ended_by`` ("attended", "closing" or "stream_end").
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Literal

from vision.analytics.events import EventKind, VisionEvent
from vision.config import ZoneConfig, ZoneKind

AttendanceState = Literal["attended", "unattended", "closed"]

_BISECT_PRECISION_S = 1e-3


class CounterAttendance:
    """Debounced attendance of one counter zone; see the module docstring for the rules.

    ``min_presence_s``, ``unattended_after_s`` and ``miss_grace_s`` are seconds; ``is_open``
    maps a time (the same clock as ``update``'s ``t``) to whether the outlet is open (None:
    always open). A good ``miss_grace_s`` is ``max(1.0, 2 / analysis_fps)``: one missed frame.
    """

    def __init__(
        self,
        camera_id: str,
        zone_id: str,
        min_presence_s: float,
        unattended_after_s: float,
        is_open: Callable[[float], bool] | None = None,
        *,
        miss_grace_s: float = 1.0,
    ) -> None:
        where = f"counter zone '{zone_id}'"
        if not min_presence_s >= 0:
            raise ValueError(f"{where}: min_presence_s must be >= 0, got {min_presence_s}")
        if not unattended_after_s > 0:
            raise ValueError(f"{where}: unattended_after_s must be > 0, got {unattended_after_s}")
        if not miss_grace_s >= 0:
            raise ValueError(f"{where}: miss_grace_s must be >= 0, got {miss_grace_s}")
        self.camera_id = camera_id
        self.zone_id = zone_id
        self.min_presence_s = float(min_presence_s)
        self.unattended_after_s = float(unattended_after_s)
        self.miss_grace_s = float(miss_grace_s)
        self._is_open = is_open

        self._state: AttendanceState | None = None
        self._since: float | None = None
        self._last_t: float | None = None
        self._was_open: bool | None = None
        # The current presence run.
        self._run_start: float | None = None
        self._last_present: float | None = None
        self._first_absent: float | None = None  # first empty frame after _last_present
        self._confirmed = False
        # When the zone became empty (None while a confirmed run goes on, or while closed).
        self._empty_since: float | None = None
        self._spell: VisionEvent | None = None

    @classmethod
    def from_zone(
        cls,
        camera_id: str,
        zone: ZoneConfig,
        is_open: Callable[[float], bool] | None = None,
        *,
        miss_grace_s: float = 1.0,
    ) -> CounterAttendance:
        """From a counter ``ZoneConfig`` (its ``min_presence_s`` and ``unattended_after_s``)."""
        if zone.kind is not ZoneKind.counter:
            raise ValueError(f"zone '{zone.id}': attendance needs a counter zone, not {zone.kind}")
        assert zone.min_presence_s is not None and zone.unattended_after_s is not None
        return cls(
            camera_id,
            zone.id,
            zone.min_presence_s,
            zone.unattended_after_s,
            is_open,
            miss_grace_s=miss_grace_s,
        )

    @property
    def state(self) -> AttendanceState | None:
        """ "attended", "unattended", "closed", or None before the first decision."""
        return self._state

    @property
    def since(self) -> float | None:
        """When the current state began (seconds); for None, the first time observed."""
        return self._since

    @property
    def open_spell(self) -> VisionEvent | None:
        """The start event of the unattended spell in progress, if any."""
        return self._spell

    def update(self, t: float, present: int) -> list[VisionEvent]:
        """Take one analysed frame: ``present`` persons stationed at ``t`` (seconds).

        Returns the events this frame decided (starts and ends). Raises ValueError if ``t`` is
        earlier than the previous frame's or not finite, or ``present`` is negative.
        """
        t = self._check_time(t)
        if present < 0:
            raise ValueError(f"counter zone '{self.zone_id}': present can't be negative")
        prev_t, was_open = self._last_t, self._was_open
        open_now = True if self._is_open is None else bool(self._is_open(t))
        self._last_t, self._was_open = t, open_now
        events: list[VisionEvent] = []

        if not open_now:
            if prev_t is None or not was_open:
                if self._state != "closed":  # the first frame is at a closed time
                    self._enter("closed", t)
                return events
            closing = self._change_between(prev_t, t)
            if self._spell is not None:
                events.append(self._spell.ended(closing, ended_by="closing"))
                self._spell = None
            self._enter("closed", closing)
            self._forget_presence()
            return events

        if prev_t is None:
            self._enter(None, t)
            self._empty_since = t
        elif not was_open:
            opening = self._change_between(prev_t, t)
            self._enter(None, opening)
            self._empty_since = opening

        if self._last_present is not None and t - self._last_present > self.miss_grace_s:
            self._end_run(t)
        if present > 0:
            if self._run_start is None:
                self._run_start, self._confirmed = t, False
            self._last_present, self._first_absent = t, None
            if not self._confirmed and t - self._run_start >= self.min_presence_s:
                self._confirmed = True
                self._empty_since = None
                if self._spell is not None:
                    events.append(self._spell.ended(self._run_start, ended_by="attended"))
                    self._spell = None
                if self._state != "attended":
                    self._enter("attended", self._run_start)
        elif self._run_start is not None and self._first_absent is None:
            self._first_absent = t

        if self._spell is None and self._empty_since is not None:
            due = self._empty_since + self.unattended_after_s
            pending = None if self._run_start is None or self._confirmed else self._run_start
            if t >= due and (pending is None or pending >= due):
                self._spell = VisionEvent(
                    kind=EventKind.counter_unattended,
                    camera_id=self.camera_id,
                    zone=self.zone_id,
                    start=self._empty_since,
                    data={"unattended_after_s": self.unattended_after_s},
                )
                events.append(self._spell)
                self._enter("unattended", self._empty_since)
        return events

    def finish(self, t: float) -> list[VisionEvent]:
        """End of the stream at ``t`` (seconds): ends an open spell (``ended_by="stream_end"``)."""
        t = self._check_time(t)
        self._last_t = t
        if self._spell is None:
            return []
        ended = self._spell.ended(t, ended_by="stream_end")
        self._spell = None
        return [ended]

    def _check_time(self, t: float) -> float:
        t = float(t)
        if not math.isfinite(t):
            raise ValueError(f"counter zone '{self.zone_id}': time must be finite, got {t}")
        if self._last_t is not None and t < self._last_t:
            raise ValueError(
                f"counter zone '{self.zone_id}': time went backwards from {self._last_t} to {t}; "
                "feed frames in order, or start a new CounterAttendance for a new stream"
            )
        return t

    def _enter(self, state: AttendanceState | None, since: float) -> None:
        self._state, self._since = state, since

    def _end_run(self, t: float) -> None:
        """The presence run is over (nobody for more than the grace); ``t`` is the current frame."""
        if self._confirmed:
            self._empty_since = self._first_absent if self._first_absent is not None else t
        self._run_start = self._last_present = self._first_absent = None
        self._confirmed = False

    def _forget_presence(self) -> None:
        self._run_start = self._last_present = self._first_absent = None
        self._confirmed = False
        self._empty_since = None

    def _change_between(self, before: float, after: float) -> float:
        """The instant in (before, after] at which ``is_open`` changed (seconds)."""
        assert self._is_open is not None
        next_change = getattr(self._is_open, "next_change", None)
        if callable(next_change):
            instant = next_change(before)
            if instant is not None and before < instant <= after:
                return float(instant)
        target = bool(self._is_open(after))
        lo, hi = before, after
        for _ in range(64):
            if hi - lo <= _BISECT_PRECISION_S:
                break
            mid = (lo + hi) / 2
            if bool(self._is_open(mid)) == target:
                hi = mid
            else:
                lo = mid
        return hi
