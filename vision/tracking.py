"""Person tracking: stable ids across analysed frames, with Ultralytics' ByteTrack underneath.

ByteTrack's settings (those of Ultralytics' ``bytetrack.yaml``) are built here in code, so nothing
is read from or fetched to disk. The worker analyses ~2 frames a second, so the time a lost track
is kept is given in seconds and turned into frames.

ByteTrack was made for 25-30 fps. At ~2 fps three things are adapted:
- **Weak boxes.** ByteTrack's second stage continues a tracked person with a weak box (score from
  ``track_low_thresh`` to ``track_high_thresh``: small, blurred, half hidden), which is how plain
  Ultralytics tracking (``model.track`` asks the detector for scores down to 0.1) keeps people
  whose score dips. So the detector hands over boxes down to ``PersonTracker.min_conf``, and
  ``PersonTracker.confirmed`` keeps the strong boxes and the weak ones that continued someone.
- **Buffered IoU.** A walking person moves up to about their own width in half a second (TUD-
  Stadtmitte's ground truth: median 0.4, 98th percentile 1.0 box width per 0.5 s), so their boxes
  in two analysed frames hardly overlap: plain IoU starts a new track nearly every frame, and the
  second stage (IoU > 0.5) has nobody to continue. Boxes are grown on every side in proportion to
  the time between analysed frames before ByteTrack sees them (the buffered IoU of C-BIoU, Yang et
  al., WACV 2023); at 25 fps the buffer is small.
- **Confirmed at first sight.** ByteTrack confirms a track on its second match (40 ms later at 25
  fps); an unconfirmed one that misses it is deleted, and only confirmed tracks take weak boxes.
  At 2 fps that is 0.5 s of a person nobody can continue; since tracks are reported from their
  first frame anyway, they are confirmed at once.

``missing`` gives the persons tracked a moment ago but not matched now, where the tracker predicts
them (a detector miss is not a departure). The boxes ``update`` returns are the detector's own (not
ByteTrack's Kalman-smoothed ones), in the same order, so keypoints stay aligned; only ``track_id``
is filled.
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
    # Buffered IoU: every side of a box grows by this fraction of its width (height) per second
    # between analysed frames, at most ``max_buffer``: 1.0 at 2 fps (a weak box displaced by one
    # box width still has IoU > 0.5 with its track), 0.08 at 25 fps.
    buffer_per_s: float = 2.0
    max_buffer: float = 1.0
    # Confirm a new track on its first frame rather than its second match (see the module doc).
    confirm_at_once: bool = True

    def buffer(self, fps: float) -> float:
        """How much every side of a box grows, as a fraction of its size, at ``fps``."""
        return min(self.max_buffer, max(0.0, self.buffer_per_s / fps))

    def bytetrack_args(self) -> dict[str, Any]:
        """The settings ByteTrack itself reads."""
        ours = ("buffer_per_s", "max_buffer", "confirm_at_once")
        return {k: v for k, v in self.__dict__.items() if k not in ours}


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
        args = SimpleNamespace(
            tracker_type="bytetrack",
            track_buffer=self.track_buffer,
            **self.settings.bytetrack_args(),
        )
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
        self._tracker.update(_TrackInput(self._buffered(xyxy), dets.conf.astype(np.float32)))
        ids = np.full(len(dets), -1, dtype=np.int64)
        frame_id = self._tracker.frame_id
        for track in self._tracker.tracked_stracks:
            # New tracks count from their first frame (ByteTrack confirms them on the second).
            if track.frame_id == frame_id and 0 <= int(track.idx) < len(ids):
                ids[int(track.idx)] = track.track_id
            if self.settings.confirm_at_once:
                track.is_activated = True
        return Detections(xyxy=dets.xyxy, conf=dets.conf, keypoints=dets.keypoints, track_id=ids)

    def _buffered(self, xyxy: np.ndarray) -> np.ndarray:
        """(N, 4) centre x, y, width, height of ``xyxy`` boxes grown by ``box_buffer`` per side."""
        xyxy = np.asarray(xyxy, dtype=np.float32).reshape(-1, 4)
        centre = (xyxy[:, :2] + xyxy[:, 2:]) / 2
        size = (xyxy[:, 2:] - xyxy[:, :2]) * (1 + 2 * self.box_buffer)
        return np.concatenate([centre, size], axis=1)

    @property
    def min_conf(self) -> float:
        """The lowest score ByteTrack uses (its second stage): give it boxes down to this."""
        return self.settings.track_low_thresh

    def confirmed(self, dets: Detections) -> np.ndarray:
        """(N,) bool over ``update``'s output: the persons to report, i.e. every strong box
        (score >= ``track_high_thresh``) and the weak ones that continue a tracked person. A weak
        box that matched nobody is ByteTrack's background (most are not people) and is left out."""
        return (dets.track_id >= 0) | (dets.conf >= self.settings.track_high_thresh)

    def missing(self, max_age_s: float, seen: Detections | None = None) -> Detections:
        """The persons matched within the last ``max_age_s`` seconds but not on the last
        ``update``, at the boxes the tracker predicts for now (conf: their last score).

        A track that could be one of ``seen`` (the last update's persons: its predicted box and
        theirs, buffered, overlap as much as ByteTrack's match gate, IoU >= 1 - match_thresh) is
        left out, so a person whose id changed is not counted twice.
        """
        frame_id = self._tracker.frame_id
        max_frames = max_age_s * self.fps + 1e-6
        tracks = [
            t
            for t in self._tracker.lost_stracks
            if t.is_activated and 0 < frame_id - t.frame_id <= max_frames
        ]
        if not tracks:
            return Detections()
        grown = np.array([t.xyxy for t in tracks], dtype=np.float32).reshape(-1, 4)
        centre = (grown[:, :2] + grown[:, 2:]) / 2
        half = (grown[:, 2:] - grown[:, :2]) / (2 * (1 + 2 * self.box_buffer))
        out = Detections(
            xyxy=np.concatenate([centre - half, centre + half], axis=1),
            conf=[float(t.score) for t in tracks],
            track_id=[int(t.track_id) for t in tracks],
        )
        if seen is not None and len(seen):
            from vision.zonefocus import box_iou

            gate = 1.0 - self.settings.match_thresh
            ious = box_iou(grown, _xyxy(self._buffered(seen.xyxy)))
            out = out.subset(~(ious >= gate).any(axis=1))
        return out

    def reset(self) -> None:
        """Forget every track (e.g. the camera moved or the stream restarted); ids restart at 1."""
        self._tracker.reset()


def _xyxy(xywh: np.ndarray) -> np.ndarray:
    return np.concatenate([xywh[:, :2] - xywh[:, 2:] / 2, xywh[:, :2] + xywh[:, 2:] / 2], axis=1)
