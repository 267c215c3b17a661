"""Person tracking: stable ids across analysed frames, with Ultralytics' ByteTrack underneath.

ByteTrack's settings (those of Ultralytics' ``bytetrack.yaml``) are built here in code, so nothing
is read from or fetched to disk. The worker analyses ~2 frames a second, so the time a lost track
is kept is given in seconds and turned into frames.

Two things make ByteTrack work at ~2 fps as it does at 25:
- **Low-score boxes.** ByteTrack's second stage continues a tracked person with a weak box (score
  ``track_low_thresh``-``track_high_thresh``: blurred, half occluded, small). The detector must
  therefore hand over boxes down to ``track_low_thresh`` (``PersonTracker.min_conf``); ``confirmed``
  keeps the strong ones and the weak ones that continued someone, and drops the rest.
- **Buffered IoU.** A walking person moves about their own width in half a second, so their boxes
  in two analysed frames hardly overlap and plain IoU starts a new track every frame (then the
  second stage has nobody to continue). Boxes are enlarged on every side, in proportion to the time
  between analysed frames, before ByteTrack sees them (the "buffered IoU" of C-BIoU, Yang et al.,
  WACV 2023); at 25 fps the buffer is ~0, i.e. plain ByteTrack.

The boxes returned are the detector's own (not ByteTrack's Kalman-smoothed ones), in the same
order, so keypoints stay aligned with them; only ``track_id`` is filled.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import numpy as np

from vision.detections import Detections


@dataclass(frozen=True)
class TrackerSettings:
    """ByteTrack settings. Scores are 0-1; ``match_thresh`` is the largest IoU *distance*
    (1 - IoU, fused with the score when ``fuse_score``) accepted as the same person."""

    track_high_thresh: float = 0.25
    track_low_thresh: float = 0.1
    new_track_thresh: float = 0.25
    match_thresh: float = 0.8
    # Off, unlike bytetrack.yaml: at ~2 fps a weakly detected person (score ~0.3) needs a much
    # higher IoU to match when scores are fused, and on the 7-Eleven clip it was given new ids.
    fuse_score: bool = False
    # Buffered IoU: each box grows on every side by this fraction of its width (height) per second
    # between analysed frames, at most ``max_buffer`` (0.5 at 2 fps, 0.04 at 25 fps).
    buffer_per_s: float = 1.0
    max_buffer: float = 1.0

    def buffer(self, fps: float) -> float:
        """How much each box grows on every side, as a fraction of its size, at ``fps``."""
        return min(self.max_buffer, max(0.0, self.buffer_per_s / fps))


class _TrackInput:
    """What ByteTrack reads from a detector result: ``conf``, ``cls``, ``xywh`` (centre x, y,
    width, height), ``len`` and boolean indexing."""

    def __init__(self, xywh: np.ndarray, conf: np.ndarray) -> None:
        self.xywh = xywh
        self.conf = conf
        self.cls = np.zeros(len(conf), dtype=np.float32)

    def __len__(self) -> int:
        return len(self.conf)

    def __getitem__(self, index: Any) -> _TrackInput:
        return _TrackInput(self.xywh[index], self.conf[index])


class PersonTracker:
    """Assigns track ids to each analysed frame's persons.

    Args:
        fps: frames analysed per second (the worker's ``analysis_fps``).
        lost_after_s: how long, in seconds, a person may go undetected (occluded, bent down
            behind the counter) and still get their old id back.
        settings: ByteTrack thresholds.
    """

    def __init__(
        self,
        *,
        fps: float = 2.0,
        lost_after_s: float = 30.0,
        settings: TrackerSettings | None = None,
    ) -> None:
        if fps <= 0 or lost_after_s < 0:
            raise ValueError(f"fps must be > 0 and lost_after_s >= 0, got {fps} and {lost_after_s}")
        from vision.detector import import_ultralytics

        import_ultralytics()  # sets the offline switches before the tracker module loads
        from ultralytics.trackers.byte_tracker import BYTETracker

        self.settings = settings or TrackerSettings()
        self.fps = fps
        self.lost_after_s = lost_after_s
        self.track_buffer = max(1, round(fps * lost_after_s))
        self.box_buffer = self.settings.buffer(fps)
        bytetrack = {
            k: v for k, v in self.settings.__dict__.items() if k not in ("buffer_per_s", "max_buffer")
        }
        args = SimpleNamespace(tracker_type="bytetrack", track_buffer=self.track_buffer, **bytetrack)
        self._tracker = BYTETracker(args)

    def update(self, dets: Detections, frame_shape: tuple[int, ...] | None = None) -> Detections:
        """``dets`` with ``track_id`` filled (-1 for a low-score person not matched to a track).

        Call once per analysed frame, in order, also with empty detections (time passes for the
        lost tracks). ``frame_shape`` (H, W, ...) clips boxes to the frame when given.
        """
        xyxy = dets.xyxy.astype(np.float32)
        if frame_shape is not None and len(xyxy):
            h, w = frame_shape[:2]
            xyxy = xyxy.copy()
            xyxy[:, [0, 2]] = xyxy[:, [0, 2]].clip(0, w)
            xyxy[:, [1, 3]] = xyxy[:, [1, 3]].clip(0, h)
        # Buffered boxes: the same centres, every side grown by ``box_buffer`` of the size.
        xywh = np.concatenate(
            [(xyxy[:, :2] + xyxy[:, 2:]) / 2, (xyxy[:, 2:] - xyxy[:, :2]) * (1 + 2 * self.box_buffer)],
            axis=1,
        ).reshape(-1, 4)
        self._tracker.update(_TrackInput(xywh, dets.conf.astype(np.float32)))
        ids = np.full(len(dets), -1, dtype=np.int64)
        frame_id = self._tracker.frame_id
        for track in self._tracker.tracked_stracks:
            # New tracks count from their first frame (ByteTrack confirms them on the second).
            if track.frame_id == frame_id and 0 <= int(track.idx) < len(ids):
                ids[int(track.idx)] = track.track_id
        return Detections(xyxy=dets.xyxy, conf=dets.conf, keypoints=dets.keypoints, track_id=ids)

    @property
    def min_conf(self) -> float:
        """The lowest score ByteTrack uses (its second stage): give it boxes down to this."""
        return self.settings.track_low_thresh

    def confirmed(self, dets: Detections) -> np.ndarray:
        """(N,) bool over ``update``'s output: the persons to report, i.e. every strong box
        (score >= ``track_high_thresh``) and the weak ones that continue a tracked person. A weak
        box that matched nobody is ByteTrack's background (most are not people) and is left out."""
        return (dets.track_id >= 0) | (dets.conf >= self.settings.track_high_thresh)

    def reset(self) -> None:
        """Forget every track (e.g. the camera moved or the stream restarted); ids restart at 1."""
        self._tracker.reset()
