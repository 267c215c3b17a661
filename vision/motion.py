"""Motion gating: re-run the detector on a region only when something moved there.

Each region (a zone crop) remembers a small grey copy of itself from the frame of its last
detection. A new frame is compared with that copy; if enough pixels changed, the region is
detected again. Otherwise the last detection stays valid, so a cashier standing still stays
"present", and is refreshed anyway every ``refresh_s`` seconds. Comparing against the last
*detected* frame (not the previous frame) means slow drift still adds up to motion.

Pure numpy/cv2 and no clock of its own: timestamps are the frames' (seconds).
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

Rect = tuple[int, int, int, int]  # x1, y1, x2, y2 in frame pixels


def prepare_gray(frame_bgr: np.ndarray, *, scale: float = 0.25, blur_px: int = 5) -> np.ndarray:
    """The frame downscaled by ``scale``, in grey, Gaussian-blurred (kernel ``blur_px``, odd):
    cheap to compare and blind to sensor noise and compression speckle."""
    gray = frame_bgr if frame_bgr.ndim == 2 else cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2GRAY)
    if scale != 1:
        h, w = gray.shape[:2]
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        gray = cv2.resize(gray, size, interpolation=cv2.INTER_AREA)
    if blur_px > 1:
        k = blur_px | 1
        gray = cv2.GaussianBlur(gray, (k, k), 0)
    return gray


def changed_fraction(a: np.ndarray, b: np.ndarray, *, pixel_delta: int = 15) -> float:
    """Fraction (0-1) of pixels whose grey level differs by more than ``pixel_delta`` (0-255)."""
    if a.shape != b.shape:
        raise ValueError(f"changed_fraction: shapes differ, {a.shape} vs {b.shape}")
    if a.size == 0:
        return 0.0
    return float(np.count_nonzero(cv2.absdiff(a, b) > pixel_delta)) / a.size


class MotionGate:
    """Decides per region whether the detector must run again.

    Args:
        rects: regions in frame pixels (x1, y1, x2, y2), e.g. ``CropPlan.rects``.
        threshold: fraction (0-1) of a region's pixels that must change to count as motion.
        refresh_s: detect again after this many seconds even without motion.
        scale: downscale factor of the grey frames (0.25: a quarter of the width and height).
        blur_px: Gaussian kernel (pixels of the downscaled frame) applied before comparing.
        pixel_delta: grey-level change (0-255) that makes a pixel count as changed.
    """

    def __init__(
        self,
        rects: Sequence[Rect],
        *,
        threshold: float = 0.003,
        refresh_s: float = 10.0,
        scale: float = 0.25,
        blur_px: int = 5,
        pixel_delta: int = 15,
    ) -> None:
        if not 0 <= threshold < 1:
            raise ValueError(f"threshold is a fraction of pixels within 0-1, got {threshold}")
        if refresh_s <= 0:
            raise ValueError(f"refresh_s must be positive seconds, got {refresh_s}")
        if not 0 < scale <= 1:
            raise ValueError(f"scale must be within (0, 1], got {scale}")
        self.rects: tuple[Rect, ...] = tuple(
            (int(a), int(b), int(c), int(d)) for a, b, c, d in rects
        )
        self.threshold = threshold
        self.refresh_s = refresh_s
        self.scale = scale
        self.blur_px = blur_px
        self.pixel_delta = pixel_delta
        self._ref: list[np.ndarray | None] = [None] * len(self.rects)
        self._t: list[float | None] = [None] * len(self.rects)

    def prepare(self, frame_bgr: np.ndarray) -> np.ndarray:
        """The grey frame that ``should_detect`` and ``mark_detected`` take."""
        return prepare_gray(frame_bgr, scale=self.scale, blur_px=self.blur_px)

    def _patch(self, zone_idx: int, gray: np.ndarray) -> np.ndarray:
        if gray.ndim != 2:
            raise ValueError("gray: expected MotionGate.prepare(frame), a 2-D grey image")
        x1, y1, x2, y2 = self.rects[zone_idx]
        s = self.scale
        return gray[
            int(y1 * s) : max(int(y1 * s) + 1, round(y2 * s)),
            int(x1 * s) : max(int(x1 * s) + 1, round(x2 * s)),
        ]

    def motion(self, zone_idx: int, gray: np.ndarray) -> float:
        """Fraction of the region's pixels changed since its last detection (1.0 if none yet)."""
        ref = self._ref[zone_idx]
        if ref is None:
            return 1.0
        patch = self._patch(zone_idx, gray)
        if patch.shape != ref.shape:  # the frame size changed: treat it all as new
            return 1.0
        return changed_fraction(patch, ref, pixel_delta=self.pixel_delta)

    def should_detect(self, zone_idx: int, gray: np.ndarray, t: float) -> bool:
        """True if region ``zone_idx`` has never been detected, moved since its last detection,
        or was last detected ``refresh_s`` or more seconds before ``t`` (or ``t`` went back)."""
        last = self._t[zone_idx]
        if last is None or t < last or t - last >= self.refresh_s:
            return True
        return self.motion(zone_idx, gray) > self.threshold

    def mark_detected(self, zone_idx: int, gray: np.ndarray, t: float) -> None:
        """Remember this frame (``prepare``'d) and time ``t`` (s) as the region's last detection."""
        self._ref[zone_idx] = self._patch(zone_idx, gray).copy()
        self._t[zone_idx] = t

    def reset(self) -> None:
        """Forget every region's last detection: all will be detected on the next frame."""
        self._ref = [None] * len(self.rects)
        self._t = [None] * len(self.rects)
