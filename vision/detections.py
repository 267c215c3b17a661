"""Person detections as a small dataclass of numpy arrays (frame pixel coordinates).

Model libraries never appear here: adapters in ``vision.detector`` build these.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

# COCO keypoint indices (YOLO pose): nose, eyes, ears, shoulders, hips, knees, ankles.
NOSE, L_EYE, R_EYE, L_EAR, R_EAR = 0, 1, 2, 3, 4
L_SHOULDER, R_SHOULDER, L_HIP, R_HIP = 5, 6, 11, 12
L_KNEE, R_KNEE, L_ANKLE, R_ANKLE = 13, 14, 15, 16


def _empty_boxes() -> np.ndarray:
    return np.zeros((0, 4), dtype=np.float32)


@dataclass
class Detections:
    """N persons. ``xyxy`` (N, 4) pixels; ``conf`` (N,); ``keypoints`` (N, 17, 3) x, y, conf or
    None; ``track_id`` (N,) int, -1 where untracked."""

    xyxy: np.ndarray = field(default_factory=_empty_boxes)
    conf: np.ndarray = field(default_factory=lambda: np.zeros((0,), dtype=np.float32))
    keypoints: np.ndarray | None = None
    track_id: np.ndarray = field(default_factory=lambda: np.zeros((0,), dtype=np.int64))

    def __post_init__(self) -> None:
        self.xyxy = np.asarray(self.xyxy, dtype=np.float32).reshape(-1, 4)
        n = len(self.xyxy)
        self.conf = np.asarray(self.conf, dtype=np.float32).reshape(-1)
        if len(self.conf) != n:
            raise ValueError(f"conf has {len(self.conf)} entries for {n} boxes")
        if self.keypoints is not None:
            kp = np.asarray(self.keypoints, dtype=np.float32)
            per_person = kp.shape[-2] if kp.ndim == 3 else 17  # reshape(0, -1, 3) is ambiguous
            self.keypoints = kp.reshape(n, per_person, 3)
        tid = np.asarray(self.track_id, dtype=np.int64).reshape(-1)
        self.track_id = tid if len(tid) == n else np.full(n, -1, dtype=np.int64)

    def __len__(self) -> int:
        return len(self.xyxy)

    @classmethod
    def empty(cls) -> Detections:
        return cls()

    def subset(self, mask: np.ndarray) -> Detections:
        idx = np.asarray(mask)
        return Detections(
            xyxy=self.xyxy[idx],
            conf=self.conf[idx],
            keypoints=None if self.keypoints is None else self.keypoints[idx],
            track_id=self.track_id[idx],
        )

    @classmethod
    def concat(cls, parts: list[Detections]) -> Detections:
        parts = [p for p in parts if len(p)]
        if not parts:
            return cls()
        kps = None
        if all(p.keypoints is not None for p in parts):
            kps = np.concatenate([p.keypoints for p in parts])  # type: ignore[misc]
        return cls(
            xyxy=np.concatenate([p.xyxy for p in parts]),
            conf=np.concatenate([p.conf for p in parts]),
            keypoints=kps,
            track_id=np.concatenate([p.track_id for p in parts]),
        )

    def anchors(self, anchor: str) -> np.ndarray:
        """(N, 2) anchor points: ``center`` of the box or ``bottom_center`` (the feet)."""
        x = (self.xyxy[:, 0] + self.xyxy[:, 2]) / 2
        if anchor == "bottom_center":
            y = self.xyxy[:, 3]
        else:
            y = (self.xyxy[:, 1] + self.xyxy[:, 3]) / 2
        return np.stack([x, y], axis=1)
