"""What the analytics emit: events (with a start and an end), periodic queue samples, and each
person's completed queue wait.

Times are seconds on the pipeline's clock: the position in the stream for files, epoch seconds
for live cameras. The worker turns them into UTC timestamps when it delivers them.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal


class EventKind(StrEnum):
    counter_unattended = "counter_unattended"
    queue_over_threshold = "queue_over_threshold"
    camera_offline = "camera_offline"
    camera_online = "camera_online"


@dataclass
class VisionEvent:
    """One finding. ``start`` is emitted when it begins (``end`` None); the same ``id`` is emitted
    again with ``phase="end"`` and ``end`` set when it is over. ``data`` holds kind-specific
    figures (e.g. ``duration_s``, ``max_queue``, ``peak``)."""

    kind: EventKind
    camera_id: str
    zone: str | None
    start: float
    end: float | None = None
    phase: Literal["start", "end"] = "start"
    data: dict[str, Any] = field(default_factory=dict)
    id: uuid.UUID = field(default_factory=uuid.uuid4)

    @property
    def duration_s(self) -> float | None:
        return None if self.end is None else max(0.0, self.end - self.start)

    def ended(self, end: float, **data: Any) -> VisionEvent:
        """The 'end' record of this event."""
        return VisionEvent(
            kind=self.kind,
            camera_id=self.camera_id,
            zone=self.zone,
            start=self.start,
            end=end,
            phase="end",
            data={**self.data, **data, "duration_s": round(end - self.start, 3)},
            id=self.id,
        )


@dataclass(frozen=True)
class QueueSample:
    """A queue zone's state at ``t``: people now, smoothed count, and the current wait (s)."""

    camera_id: str
    zone: str
    t: float
    count: int
    smoothed: float
    wait_s: float | None


@dataclass(frozen=True)
class QueueWait:
    """One person's completed wait in a queue zone: ``joined`` and ``left`` (seconds, like
    ``t``), ``wait_s = left - joined``, and the zone's SLA (``sla_s``) when it was measured."""

    camera_id: str
    zone: str
    track_id: int
    joined: float
    left: float
    wait_s: float
    sla_s: float
