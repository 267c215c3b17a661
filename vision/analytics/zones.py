"""Zone geometry: which detected persons are in a counter or queue zone.

Everything is in frame pixels. Membership is decided by one anchor point per person (the box
``center`` or its ``bottom_center``, the feet) tested against the zone polygon; points on the
polygon's boundary count as inside. Counter zones can also use the pose (``stationed``) so that a
passer-by who only grazes the zone is not taken for the member of staff at the station.
"""

from __future__ import annotations

import numpy as np

from vision.config import Anchor, ZoneConfig, ZoneKind
from vision.detections import (
    L_HIP,
    L_KNEE,
    L_SHOULDER,
    R_HIP,
    R_KNEE,
    R_SHOULDER,
    Detections,
)

# A point closer than this to an edge is "on the edge", hence inside (pixels). Anchors arrive as
# float32, so exact equality with an edge can't be relied on.
EDGE_TOLERANCE_PX = 1e-3
# Keypoints at or below this confidence (0-1) are ignored.
KEYPOINT_MIN_CONF = 0.3
# The torso may lie outside the zone by this fraction of the zone's size (sqrt of its area).
TORSO_NEAR_FRACTION = 0.15
# Seated when the thighs' vertical extent is below this fraction of the torso's length.
SEATED_MAX_THIGH_RATIO = 0.6


def _as_points(points: np.ndarray) -> np.ndarray:
    return np.asarray(points, dtype=np.float64).reshape(-1, 2)


def distance_to_boundary(points: np.ndarray, polygon: np.ndarray) -> np.ndarray:
    """(N,) distance in pixels from each (x, y) point to the nearest edge of ``polygon`` (M, 2)."""
    pts = _as_points(points)
    poly = _as_points(polygon)
    if len(pts) == 0:
        return np.zeros(0, dtype=np.float64)
    a = poly[None, :, :]  # (1, M, 2) edge starts
    ab = np.roll(poly, -1, axis=0)[None, :, :] - a  # (1, M, 2) edge vectors
    ap = pts[:, None, :] - a  # (N, M, 2)
    length2 = (ab**2).sum(axis=-1)  # (1, M)
    # Projection of each point on each edge, clamped to the segment (a degenerate edge is a point).
    s = np.clip((ap * ab).sum(axis=-1) / np.where(length2 > 0, length2, 1.0), 0.0, 1.0)
    nearest = a + s[..., None] * ab
    return np.linalg.norm(pts[:, None, :] - nearest, axis=-1).min(axis=1)


def points_in_polygon(
    points: np.ndarray, polygon: np.ndarray, *, tolerance_px: float = EDGE_TOLERANCE_PX
) -> np.ndarray:
    """(N,) bool: whether each (x, y) point (pixels) lies inside ``polygon`` (M, 2), which may be
    concave. Points within ``tolerance_px`` of an edge or vertex count as inside.

    Even-odd rule: a ray cast towards +x from the point crosses the boundary an odd number of
    times when the point is inside. Vectorised over points × edges.
    """
    pts = _as_points(points)
    poly = _as_points(polygon)
    if len(pts) == 0:
        return np.zeros(0, dtype=bool)
    px, py = pts[:, 0:1], pts[:, 1:2]  # (N, 1)
    x1, y1 = poly[None, :, 0], poly[None, :, 1]  # (1, M)
    nxt = np.roll(poly, -1, axis=0)
    x2, y2 = nxt[None, :, 0], nxt[None, :, 1]
    # Half-open test on y so that a ray through a vertex is counted once.
    straddles = (y1 > py) != (y2 > py)
    dy = np.where(y2 != y1, y2 - y1, 1.0)  # horizontal edges never straddle
    x_cross = x1 + (py - y1) * (x2 - x1) / dy
    crossings = np.count_nonzero(straddles & (px < x_cross), axis=1)
    inside = crossings % 2 == 1
    return inside | (distance_to_boundary(pts, poly) <= tolerance_px)


def distance_to_polygon(points: np.ndarray, polygon: np.ndarray) -> np.ndarray:
    """(N,) distance in pixels from each point to the polygon's area: 0 inside or on the edge."""
    pts = _as_points(points)
    d = distance_to_boundary(pts, polygon)
    return np.where(points_in_polygon(pts, polygon), 0.0, d)


def _mean_of_confident(
    kpts: np.ndarray, indices: list[int], min_conf: float
) -> tuple[np.ndarray, np.ndarray]:
    """Mean (x, y) of the keypoints ``indices`` whose confidence is above ``min_conf``: (N, 2)
    pixels, and an (N,) mask of the rows where at least one was confident."""
    chosen = kpts[:, indices, :].astype(np.float64)  # (N, k, 3)
    weight = (chosen[:, :, 2] > min_conf).astype(np.float64)  # (N, k)
    total = weight.sum(axis=1)
    known = total > 0
    xy = (chosen[:, :, :2] * weight[:, :, None]).sum(axis=1) / np.where(known, total, 1.0)[:, None]
    xy[~known] = np.nan
    return xy, known


def torso_points(dets: Detections, *, min_conf: float = KEYPOINT_MIN_CONF) -> np.ndarray:
    """(N, 2) torso centre per person in pixels, NaN where the pose doesn't show it.

    The centre is the midpoint of mid-shoulder and mid-hip; when only shoulders or only hips are
    confident (> ``min_conf``), that pair's midpoint; a pair with one confident side uses that
    side. Without keypoints every row is NaN.
    """
    n = len(dets)
    if dets.keypoints is None or n == 0:
        return np.full((n, 2), np.nan)
    shoulders, has_s = _mean_of_confident(dets.keypoints, [L_SHOULDER, R_SHOULDER], min_conf)
    hips, has_h = _mean_of_confident(dets.keypoints, [L_HIP, R_HIP], min_conf)
    out = np.full((n, 2), np.nan)
    both = has_s & has_h
    out[both] = (shoulders[both] + hips[both]) / 2
    out[has_s & ~has_h] = shoulders[has_s & ~has_h]
    out[has_h & ~has_s] = hips[has_h & ~has_s]
    return out


def seated_mask(
    dets: Detections,
    *,
    min_conf: float = KEYPOINT_MIN_CONF,
    max_thigh_ratio: float = SEATED_MAX_THIGH_RATIO,
) -> np.ndarray:
    """(N,) bool: True where the pose says the person is sitting. A hint, not a verdict.

    Rule: the vertical extent of the thighs (|knee y − hip y|, averaged over the sides whose hip
    and knee are both confident) is below ``max_thigh_ratio`` × the torso length (mid-shoulder to
    mid-hip, pixels). Standing or walking, a thigh hangs down about one torso length; seated it is
    roughly horizontal. False whenever the shoulders, hips or knees aren't visible, so a missing
    pose never makes anyone "seated". A steep top-down camera foreshortens the torso and can make
    a standing person look seated; use it only as an extra presence signal.
    """
    n = len(dets)
    if dets.keypoints is None or n == 0:
        return np.zeros(n, dtype=bool)
    kpts = dets.keypoints.astype(np.float64)
    shoulders, has_s = _mean_of_confident(kpts, [L_SHOULDER, R_SHOULDER], min_conf)
    hips, has_h = _mean_of_confident(kpts, [L_HIP, R_HIP], min_conf)
    torso_len = np.linalg.norm(shoulders - hips, axis=1)  # NaN where unknown

    thigh_sum = np.zeros(n)
    sides = np.zeros(n)
    for hip, knee in ((L_HIP, L_KNEE), (R_HIP, R_KNEE)):
        ok = (kpts[:, hip, 2] > min_conf) & (kpts[:, knee, 2] > min_conf)
        thigh_sum += np.where(ok, np.abs(kpts[:, knee, 1] - kpts[:, hip, 1]), 0.0)
        sides += ok
    known = has_s & has_h & (sides > 0)
    thigh = thigh_sum / np.where(sides > 0, sides, 1.0)
    with np.errstate(invalid="ignore"):
        seated = known & (torso_len > 0) & (thigh < max_thigh_ratio * torso_len)
    return np.asarray(seated, dtype=bool)


def _subset(dets: Detections, mask: np.ndarray) -> Detections:
    """``dets.subset(mask)``, also when the mask keeps nobody and keypoints are present
    (``Detections`` can't reshape an empty keypoint array, so the empty case is built here)."""
    if dets.keypoints is None or np.any(mask):
        return dets.subset(mask)
    empty = Detections()
    empty.keypoints = np.zeros((0, *dets.keypoints.shape[1:]), dtype=np.float32)
    return empty


class ZoneGeometry:
    """A zone's polygon in the pixels of one frame size, and who is in it.

    ``frame_size`` is (width, height) in pixels; relative zone coordinates are scaled by it.
    """

    def __init__(self, zone: ZoneConfig, frame_size: tuple[int, int]) -> None:
        width, height = frame_size
        if width <= 0 or height <= 0:
            raise ValueError(
                f"zone '{zone.id}': frame size must be positive pixels, got {width}x{height}"
            )
        self.zone_id: str = zone.id
        self.kind: ZoneKind = ZoneKind(zone.kind)
        self.anchor: Anchor = Anchor(zone.anchor or Anchor.center)
        self.frame_size: tuple[int, int] = (int(width), int(height))
        self.polygon: np.ndarray = np.asarray(zone.polygon_px(width, height), dtype=np.float64)
        x, y = self.polygon[:, 0], self.polygon[:, 1]
        self.area_px: float = float(abs(np.dot(x, np.roll(y, -1)) - np.dot(np.roll(x, -1), y)) / 2)

    @property
    def size_px(self) -> float:
        """A length for the zone's scale: the square root of its area (pixels)."""
        return float(np.sqrt(self.area_px))

    def bbox(self) -> tuple[float, float, float, float]:
        """(x1, y1, x2, y2) of the polygon in pixels."""
        x1, y1 = self.polygon.min(axis=0)
        x2, y2 = self.polygon.max(axis=0)
        return float(x1), float(y1), float(x2), float(y2)

    def contains(self, points: np.ndarray) -> np.ndarray:
        """(N,) bool for (N, 2) points in pixels; the boundary counts as inside."""
        return points_in_polygon(points, self.polygon)

    def member_mask(self, dets: Detections) -> np.ndarray:
        """(N,) bool: whose anchor point (this zone's ``anchor``) is inside the zone."""
        return self.contains(dets.anchors(self.anchor.value))

    def members(self, dets: Detections) -> Detections:
        """The persons whose anchor point is inside the zone."""
        return _subset(dets, self.member_mask(dets))

    def stationed_mask(
        self,
        dets: Detections,
        *,
        min_conf: float = KEYPOINT_MIN_CONF,
        near_fraction: float = TORSO_NEAR_FRACTION,
    ) -> np.ndarray:
        """(N,) bool: who counts as present at the station this zone covers.

        Rule: the anchor point is inside the zone, AND, when the pose shows the torso (shoulder or
        hip keypoints with confidence > ``min_conf``), the torso centre (see ``torso_points``) is
        inside the zone or within ``near_fraction`` × ``size_px`` pixels of it. Without a usable
        pose the anchor alone decides. So a passer-by whose box centre or feet graze the zone's
        edge while the body walks by outside doesn't count.
        """
        inside = self.member_mask(dets)
        torso = torso_points(dets, min_conf=min_conf)
        known = ~np.isnan(torso[:, 0])
        torso_ok = np.ones(len(dets), dtype=bool)
        if known.any():
            dist = distance_to_polygon(torso[known], self.polygon)
            torso_ok[known] = dist <= near_fraction * self.size_px
        return inside & torso_ok

    def stationed(
        self,
        dets: Detections,
        *,
        min_conf: float = KEYPOINT_MIN_CONF,
        near_fraction: float = TORSO_NEAR_FRACTION,
    ) -> Detections:
        """The persons present at the station (see ``stationed_mask``)."""
        mask = self.stationed_mask(dets, min_conf=min_conf, near_fraction=near_fraction)
        return _subset(dets, mask)
