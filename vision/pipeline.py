"""One camera's analysis: detections → tracks → zone analytics → records, events, snapshots.

The pipeline owns no I/O and no clock: frames and their timestamps are handed in by the caller
(``vision.analyze`` for files, ``vision.worker`` for live cameras).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from vision.analytics.attendance import CounterAttendance
from vision.analytics.events import QueueSample, QueueWait, VisionEvent
from vision.analytics.hours import OpeningSchedule
from vision.analytics.queue import QueueMonitor
from vision.analytics.zones import ZoneGeometry
from vision.config import CameraConfig, ZoneKind
from vision.detections import Detections
from vision.detector import PersonDetector, accepts_conf
from vision.motion import MotionGate
from vision.snapshot import render_snapshot
from vision.tracking import PersonTracker
from vision.zonefocus import CropPlan, ZoneFocusedDetector


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
    # Queue waits that completed on this frame (the person left the queue zone).
    waits: list[QueueWait] = field(default_factory=list)
    # JPEG evidence for the events that start on this frame, by event id.
    snapshots: dict[uuid.UUID, bytes] = field(default_factory=dict)
    detections: Detections = field(default_factory=Detections)


@dataclass(frozen=True)
class PipelineOptions:
    """How the pipeline spends CPU. The defaults are what ``make bench-vision`` measures."""

    zone_focus: bool = True  # detect on crops around the zones at native resolution
    motion_gate: bool = True  # skip crops where nothing moved since their last detection
    refresh_s: float = 10.0  # detect a still crop again at least this often (seconds)
    motion_threshold: float = 0.003  # fraction of a crop's pixels that must change
    lost_after_s: float = 30.0  # a person unseen this long loses their track id
    sample_every_s: float = 10.0  # queue samples for the time series
    snapshots: bool = True  # render evidence JPEGs at event starts
    # A staff station counts a person whose track has reached this confidence at least once:
    # weaker "persons" at a till are mostly props (a red box under the cashier clip's counter
    # scores 0.25-0.34, with a pose), while a real person's score dips frame to frame.
    presence_conf: float = 0.4
    # A person the detector misses for up to this many analysed-frame intervals is still there:
    # a counter's presence run is not broken, and a queue still counts a tracked person whose
    # predicted box is in the zone (at 2 fps: 1.25 s, i.e. two missed frames).
    miss_grace_frames: float = 2.5
    use_opening_hours: bool = False  # only for live cameras, whose t is epoch seconds


class CameraPipeline:
    """``process(frame, t, frame_index)`` per analysed frame; ``finish(t)`` closes open spells.

    ``t`` is seconds on the caller's clock: the stream position for files, epoch seconds for
    live cameras (then opening hours apply, if the config has them).
    """

    def __init__(
        self,
        config: CameraConfig,
        frame_size: tuple[int, int],
        detector: PersonDetector,
        options: PipelineOptions | None = None,
    ) -> None:
        self.config = config
        self.options = opts = options or PipelineOptions()
        self.frame_size = frame_size
        self.geometry = {z.id: ZoneGeometry(z, frame_size) for z in config.zones}
        polygons = [g.polygon for g in self.geometry.values()]
        imgsz = int(getattr(detector, "imgsz", config.model_options.imgsz))
        # A zone judged by the feet (bottom_center) needs the whole body in its crop: grow it by
        # its own height above and around; a staff station needs only a little margin.
        margins = [
            1.0 if z.anchor is not None and z.anchor.value == "bottom_center" else 0.15
            for z in config.zones
        ]
        plan = (
            CropPlan.for_zones(polygons, frame_size, tile=imgsz, margin=margins)
            if opts.zone_focus
            else CropPlan.whole_frame(frame_size)
        )
        self.tracker = PersonTracker(fps=config.analysis_fps, lost_after_s=opts.lost_after_s)
        # The tracker continues people with weak boxes (ByteTrack's second stage), so it gets
        # boxes down to its low threshold; those that continue nobody are dropped after it.
        own_conf = float(getattr(detector, "conf", self.tracker.min_conf))
        low = min(own_conf, self.tracker.min_conf) if accepts_conf(detector) else None
        self.detector = ZoneFocusedDetector(detector, plan, conf=low)
        if opts.motion_gate:
            self.detector.gate = MotionGate(
                self.detector.rects, threshold=opts.motion_threshold, refresh_s=opts.refresh_s
            )
        is_open: Callable[[float], bool] | None = None
        if opts.use_opening_hours and config.outlet is not None:
            is_open = OpeningSchedule(config.outlet)
        cam = config.camera_id
        self.grace_s = opts.miss_grace_frames / config.analysis_fps
        self.attendance = {
            z.id: CounterAttendance.from_zone(cam, z, is_open, miss_grace_s=self.grace_s)
            for z in config.zones
            if z.kind is ZoneKind.counter
        }
        self.queues = {
            z.id: QueueMonitor.from_zone(cam, z, sample_every_s=opts.sample_every_s)
            for z in config.zones
            if z.kind is ZoneKind.queue
        }
        self._zone_specs = [
            (z.id, z.kind.value, g.polygon)
            for z, g in zip(config.zones, self.geometry.values(), strict=True)
        ]
        self._staff_zones = set(self.attendance)
        self._best_conf: dict[int, float] = {}  # track id -> highest confidence seen

    def process(self, frame_bgr: np.ndarray, t: float, frame_index: int) -> FrameResult:
        tracked = self.tracker.update(self.detector.detect(frame_bgr, t), frame_bgr.shape)
        dets = tracked.subset(self.tracker.confirmed(tracked))
        cam = self.config.camera_id
        zones: dict[str, dict[str, Any]] = {}
        result = FrameResult(frame=frame_index, t=t, record={}, detections=dets)
        confident = self._confident(dets)
        for zone_id, machine in self.attendance.items():
            stationed = self.geometry[zone_id].stationed_mask(dets)
            present = int((stationed & confident).sum())
            result.events += machine.update(t, present)
            zones[zone_id] = {"count": present, "state": machine.state}
            result.states.append(ZoneState(cam, zone_id, machine.state, machine.since, present, t))
        # Persons the detector missed on this frame but the tracker still expects in view.
        missing = self.tracker.missing(self.grace_s, seen=dets) if self.queues else Detections()
        for zone_id, monitor in self.queues.items():
            members = self.geometry[zone_id].members(dets)
            # Counted (a miss is not a departure) but not "seen": their dwell is not extended.
            unseen = int(self.geometry[zone_id].member_mask(missing).sum())
            update = monitor.update(
                t, [int(i) for i in members.track_id], count=len(members) + unseen
            )
            result.events += update.events
            result.samples += update.samples
            result.waits += [
                QueueWait(
                    camera_id=cam,
                    zone=zone_id,
                    track_id=int(w.track_id),
                    joined=w.joined,
                    left=w.left,
                    wait_s=w.wait_s,
                    sla_s=monitor.wait_sla_s,
                )
                for w in update.completed_waits
            ]
            zones[zone_id] = {
                "count": update.count,
                "state": None,
                "smoothed": update.smoothed,
                "wait_s": None if update.wait_s is None else round(update.wait_s, 2),
            }
        result.record = {
            "type": "frame",
            "frame": frame_index,
            "t": round(t, 3),
            "persons": len(dets),
            "zones": zones,
        }
        if self.options.snapshots:
            for event in result.events:
                if event.phase == "start":
                    result.snapshots[event.id] = self.snapshot(frame_bgr, dets, event)
        return result

    def _confident(self, dets: Detections) -> np.ndarray:
        """Which persons are confidently people: by their track's best score so far."""
        mask = dets.conf >= self.options.presence_conf
        for i, (tid, conf) in enumerate(zip(dets.track_id, dets.conf, strict=True)):
            if tid < 0:
                continue
            best = max(self._best_conf.get(int(tid), 0.0), float(conf))
            self._best_conf[int(tid)] = best
            mask[i] = best >= self.options.presence_conf
        if len(self._best_conf) > 10_000:  # bounded memory on a camera that runs for months
            live = {int(t) for t in dets.track_id}
            self._best_conf = {t: c for t, c in self._best_conf.items() if t in live}
        return mask

    def snapshot(self, frame_bgr: np.ndarray, dets: Detections, event: VisionEvent) -> bytes:
        """Evidence for an event: zones, boxes, a caption; customers' faces blurred."""
        caption = (
            f"{self.config.camera_id}  {event.kind.value}  zone {event.zone}  t={event.start:.1f}s"
        )
        return render_snapshot(
            frame_bgr,
            zones=self._zone_specs,
            dets=dets,
            caption=caption,
            highlight_zone=event.zone,
            blur_faces=self.config.blur_faces,
            staff_zone_ids=self._staff_zones,
        )

    def finish(self, t: float) -> list[VisionEvent]:
        """End the spells still open when the stream ends (``ended_by: stream_end``)."""
        events: list[VisionEvent] = []
        for machine in self.attendance.values():
            events += machine.finish(t)
        for monitor in self.queues.values():
            events += monitor.finish(t)
        return events


def build_pipeline(
    config: CameraConfig,
    frame_size: tuple[int, int],
    *,
    detector: PersonDetector | None = None,
    options: PipelineOptions | None = None,
    threads: int = 1,
) -> CameraPipeline:
    """A pipeline with the configured detector (weights, backend, input size)."""
    if detector is None:
        from vision.detector import build_detector

        detector = build_detector(config.model_options, threads=threads)
    return CameraPipeline(config, frame_size, detector, options)
