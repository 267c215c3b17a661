"""One camera's analysis: detections → tracks → zone analytics → records, events, snapshots.

(Interface first; the implementation lands with the analytics and detector modules.)
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from vision.analytics.events import QueueSample, VisionEvent


@dataclass(frozen=True)
class ZoneState:
    """A counter zone's debounced state at ``t`` (for the live view)."""

    camera_id: str
    zone: str
    state: str | None  # attended | unattended | closed | None (not decided yet)
    since: float | None
    count: int
    t: float


@dataclass
class FrameResult:
    """What one analysed frame produced. ``record`` is the ``analyze`` JSON line."""

    frame: int
    t: float
    record: dict[str, Any]
    events: list[VisionEvent] = field(default_factory=list)
    samples: list[QueueSample] = field(default_factory=list)
    states: list[ZoneState] = field(default_factory=list)
    # JPEG evidence for the events that start on this frame, by event id.
    snapshots: dict[uuid.UUID, bytes] = field(default_factory=dict)


class CameraPipeline:
    """``process(frame, t, frame_index)`` per analysed frame; ``finish(t)`` closes open spells."""

    def process(self, frame_bgr: np.ndarray, t: float, frame_index: int) -> FrameResult:
        raise NotImplementedError

    def finish(self, t: float) -> list[VisionEvent]:
        raise NotImplementedError
