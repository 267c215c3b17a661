"""Zone-focused detection: run the detector on crops around the zones at native resolution.

A whole 1080p frame shrunk to 640 px turns a cashier at a distant till into a few dark pixels.
Cropping each zone (plus a margin) and tiling large zones into pieces no bigger than the network
input keeps every pixel of the zones: the detector sees them at native resolution or larger.

``CropPlan`` is pure geometry (numbers in, rectangles out); ``ZoneFocusedDetector`` runs any
``PersonDetector`` on the crops as one batch, maps boxes and keypoints back to frame pixels and
removes the duplicates that overlapping crops produce.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from vision.detections import Detections

if TYPE_CHECKING:
    from vision.detector import PersonDetector
    from vision.motion import MotionGate

Rect = tuple[int, int, int, int]  # x1, y1, x2, y2 in frame pixels, x2/y2 exclusive
Point = tuple[float, float]


# --------------------------------------------------------------------------------------------
# box geometry


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(N, M) intersection over union of boxes ``a`` (N, 4) and ``b`` (M, 4), xyxy pixels."""
    inter = box_intersection(a, b)
    area_a = _area(a)[:, None]
    area_b = _area(b)[None, :]
    union = area_a + area_b - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-9), 0.0)


def box_intersection(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(N, M) intersection areas in square pixels."""
    a = np.asarray(a, dtype=np.float64).reshape(-1, 4)
    b = np.asarray(b, dtype=np.float64).reshape(-1, 4)
    w = np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(a[:, None, 0], b[None, :, 0])
    h = np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 1], b[None, :, 1])
    return np.clip(w, 0, None) * np.clip(h, 0, None)


def _area(boxes: np.ndarray) -> np.ndarray:
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    return np.clip(boxes[:, 2] - boxes[:, 0], 0, None) * np.clip(boxes[:, 3] - boxes[:, 1], 0, None)


# --------------------------------------------------------------------------------------------
# the plan


@dataclass(frozen=True)
class CropPlan:
    """Crop rectangles for one camera's zones in frames of ``frame_size`` (width, height) px.

    ``rects[i]`` is a crop; ``zones[i]`` the indices of the zones it helps cover.
    """

    frame_size: tuple[int, int]
    rects: tuple[Rect, ...]
    zones: tuple[tuple[int, ...], ...]

    def __len__(self) -> int:
        return len(self.rects)

    def __iter__(self) -> Iterator[Rect]:
        return iter(self.rects)

    def __getitem__(self, i: int) -> Rect:
        return self.rects[i]

    @classmethod
    def whole_frame(cls, frame_size: tuple[int, int]) -> CropPlan:
        """No zones: one rectangle that is the frame (it is downscaled to the network input)."""
        w, h = frame_size
        return cls(frame_size=(w, h), rects=((0, 0, w, h),), zones=((),))

    @classmethod
    def for_zones(
        cls,
        zone_polygons_px: Sequence[Sequence[Point]],
        frame_size: tuple[int, int],
        *,
        tile: int = 640,
        margin: float | Sequence[float] = 0.15,
        min_margin_px: int = 16,
        merge_overlap: float = 0.5,
        tile_overlap: float = 0.3,
    ) -> CropPlan:
        """Crops that cover every zone at native resolution.

        Args:
            zone_polygons_px: each zone's polygon as (x, y) frame pixels.
            frame_size: (width, height) of the frames in pixels.
            tile: largest crop side in pixels; use the detector's ``imgsz`` so no crop is shrunk.
            margin: how far to grow each zone's bounding box on every side, as a fraction of its
                width (left/right) and height (top/bottom), so that a person partly outside the
                zone is still seen whole. One value for all zones or one per zone (a queue drawn
                on the floor needs more room above it than a counter zone around the cashier).
            min_margin_px: the margin is at least this many pixels.
            merge_overlap: two grown boxes whose intersection covers at least this fraction of the
                smaller one are cropped as one (their union).
            tile_overlap: neighbouring tiles of a box larger than ``tile`` overlap by at least this
                fraction of ``tile``, so a person cut by one tile's edge is whole in the next.
        """
        width, height = int(frame_size[0]), int(frame_size[1])
        if width <= 0 or height <= 0:
            raise ValueError(f"frame_size must be positive (width, height), got {frame_size}")
        if tile < 32:
            raise ValueError(f"tile must be at least 32 px, got {tile}")
        if not 0 <= tile_overlap < 1:
            raise ValueError(f"tile_overlap must be within 0-1, got {tile_overlap}")
        margins = (
            [float(margin)] * len(zone_polygons_px)
            if isinstance(margin, (int, float))
            else [float(m) for m in margin]
        )
        if len(margins) != len(zone_polygons_px):
            raise ValueError(
                f"margin: got {len(margins)} values for {len(zone_polygons_px)} zones; "
                "give one value or one per zone"
            )
        boxes: list[tuple[list[float], set[int]]] = []
        for i, (polygon, m) in enumerate(zip(zone_polygons_px, margins, strict=True)):
            pts = np.asarray(polygon, dtype=np.float64).reshape(-1, 2)
            if len(pts) < 3:
                raise ValueError(f"zone #{i + 1}: polygon needs at least 3 points, got {len(pts)}")
            x1, y1 = pts.min(axis=0)
            x2, y2 = pts.max(axis=0)
            mx = max(m * (x2 - x1), min_margin_px)
            my = max(m * (y2 - y1), min_margin_px)
            grown = [
                max(0.0, x1 - mx),
                max(0.0, y1 - my),
                min(float(width), x2 + mx),
                min(float(height), y2 + my),
            ]
            if grown[2] - grown[0] < 1 or grown[3] - grown[1] < 1:
                raise ValueError(
                    f"zone #{i + 1}: polygon lies outside the {width}x{height} frame; "
                    "check its coordinates (pixels vs relative)"
                )
            boxes.append((grown, {i}))
        merged = _merge_overlapping(boxes, merge_overlap)
        rects: list[Rect] = []
        zones: list[tuple[int, ...]] = []
        for box, members in merged:
            for rect in _tiles(box, tile, tile_overlap):
                rects.append(rect)
                zones.append(tuple(sorted(members)))
        return cls(frame_size=(width, height), rects=tuple(rects), zones=tuple(zones))


def _merge_overlapping(
    boxes: list[tuple[list[float], set[int]]], min_overlap: float
) -> list[tuple[list[float], set[int]]]:
    boxes = [(list(b), set(z)) for b, z in boxes]
    merged = True
    while merged:
        merged = False
        for i in range(len(boxes)):
            for j in range(i + 1, len(boxes)):
                a, b = np.asarray(boxes[i][0]), np.asarray(boxes[j][0])
                inter = box_intersection(a, b)[0, 0]
                smaller = min(_area(a)[0], _area(b)[0])
                if smaller > 0 and inter / smaller >= min_overlap:
                    union = [min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])]
                    boxes[i] = (union, boxes[i][1] | boxes[j][1])
                    del boxes[j]
                    merged = True
                    break
            if merged:
                break
    return boxes


def _spans(start: float, end: float, tile: int, overlap: float) -> list[tuple[int, int]]:
    """Evenly spread windows of length ``tile`` covering [start, end), overlapping >= overlap."""
    lo, hi = math.floor(start), math.ceil(end)
    length = hi - lo
    if length <= tile:
        return [(lo, hi)]
    step = tile * (1 - overlap)
    n = math.ceil((length - tile) / step) + 1
    firsts = np.linspace(lo, hi - tile, n)
    return [(round(f), round(f) + tile) for f in firsts]


def _tiles(box: list[float], tile: int, overlap: float) -> list[Rect]:
    xs = _spans(box[0], box[2], tile, overlap)
    ys = _spans(box[1], box[3], tile, overlap)
    return [(x1, y1, x2, y2) for y1, y2 in ys for x1, x2 in xs]


# --------------------------------------------------------------------------------------------
# running it


def to_frame(dets: Detections, rect: Rect) -> Detections:
    """Detections in crop pixels -> frame pixels (shift by the crop's top-left corner)."""
    dx, dy = rect[0], rect[1]
    xyxy = dets.xyxy + np.array([dx, dy, dx, dy], dtype=np.float32)
    kps = None
    if dets.keypoints is not None:
        kps = dets.keypoints.copy()
        kps[..., 0] += dx
        kps[..., 1] += dy
    return Detections(xyxy=xyxy, conf=dets.conf, keypoints=kps, track_id=dets.track_id)


def cut_by_edge(
    xyxy: np.ndarray, rect: Rect, frame_size: tuple[int, int], *, edge_px: float = 2.0
) -> np.ndarray:
    """(N,) True where a box touches a side of ``rect`` that is inside the frame: the person may
    continue beyond the crop, so the box may be only part of them."""
    x1, y1, x2, y2 = rect
    w, h = frame_size
    b = np.asarray(xyxy, dtype=np.float64).reshape(-1, 4)
    cut = np.zeros(len(b), dtype=bool)
    if x1 > 0:
        cut |= b[:, 0] <= x1 + edge_px
    if y1 > 0:
        cut |= b[:, 1] <= y1 + edge_px
    if x2 < w:
        cut |= b[:, 2] >= x2 - edge_px
    if y2 < h:
        cut |= b[:, 3] >= y2 - edge_px
    return cut


def dedupe(
    dets: Detections,
    cut: np.ndarray,
    *,
    iou: float = 0.5,
    containment: float = 0.7,
    source: np.ndarray | None = None,
    rects: Sequence[Rect] | None = None,
    frame_size: tuple[int, int] | None = None,
    span_overlap: float = 0.7,
    edge_px: float = 2.0,
) -> Detections:
    """Remove the duplicates that overlapping crops produce (frame pixels in, persons out).

    Whole boxes win over boxes cut by a crop edge, then higher confidence wins. A box is dropped
    when its IoU with a kept box exceeds ``iou``, or when it is cut by a crop edge and at least
    ``containment`` of its area lies inside a kept box (the part of a person seen whole elsewhere).
    Uncut boxes inside bigger ones (a child in front of an adult) are kept.

    With ``source`` (the index in ``rects`` of the crop each box came from) and ``frame_size``,
    a person whom no crop saw whole, cut in two by the border between two crops (tiles of a big
    zone, or the crops of two zones that touch), becomes one box: see ``split_pairs``. The union
    takes the higher score and, per keypoint, the more confident of the two.
    """
    n = len(dets)
    if n <= 1:
        return dets
    cut = np.asarray(cut, dtype=bool)
    order = np.lexsort((-dets.conf, cut))  # uncut first, then by confidence
    ious = box_iou(dets.xyxy, dets.xyxy)
    inside = box_intersection(dets.xyxy, dets.xyxy) / np.maximum(_area(dets.xyxy)[:, None], 1e-9)
    kept: list[int] = []
    for i in order:
        if any(ious[i, k] > iou or (cut[i] and inside[i, k] >= containment) for k in kept):
            continue
        kept.append(int(i))
    kept.sort(key=lambda k: -dets.conf[k])
    out = dets.subset(np.array(kept, dtype=np.int64))
    if source is None or rects is None or frame_size is None:
        return out
    src = np.asarray(source, dtype=np.int64)[kept]
    pairs = split_pairs(
        out.xyxy, src, rects, frame_size, span_overlap=span_overlap, edge_px=edge_px
    )
    return _merge_pairs(out, pairs) if pairs else out


def split_pairs(
    xyxy: np.ndarray,
    source: np.ndarray,
    rects: Sequence[Rect],
    frame_size: tuple[int, int],
    *,
    span_overlap: float = 0.7,
    edge_px: float = 2.0,
) -> list[tuple[int, int]]:
    """Pairs (i, j) of boxes that are two parts of one person cut by a border between crops.

    Box ``i`` from crop ``a`` and box ``j`` from crop ``b`` are such parts when, for some side
    (say ``a``'s right edge, inside the frame, against ``b``'s left edge):
    - the crops meet there: ``b`` starts at or before the end of ``a`` (touching or overlapping);
    - ``i`` is cut at ``a``'s right edge and ``j`` at ``b``'s left edge (within ``edge_px``);
    - both cover the band the two crops share: ``i`` begins at or before ``b``'s left edge and
      ``j`` ends at or after ``a``'s right edge. (A person who ends inside the other crop is
      seen whole there, and that whole box has already removed their cut part.);
    - across the border they line up: their extents along it overlap by at least
      ``span_overlap`` of the shorter (a head-and-torso above the legs, a left half beside the
      right half). Two people side by side, each cut by a different edge, fail the band test.
    """
    b = np.asarray(xyxy, dtype=np.float64).reshape(-1, 4)
    src = np.asarray(source, dtype=np.int64).reshape(-1)
    w, h = frame_size
    e = edge_px
    pairs: list[tuple[int, int]] = []
    for i in range(len(b)):
        for j in range(len(b)):
            if i == j or src[i] == src[j]:
                continue
            ra, rb = rects[src[i]], rects[src[j]]
            for axis, limit in ((0, w), (1, h)):  # 0: a's right edge, 1: a's bottom edge
                lo, hi = axis, axis + 2  # this axis' start/end index in xyxy
                other_lo, other_hi = 1 - axis, 3 - axis
                border_a, border_b = ra[hi], rb[lo]
                if not (0 < border_b <= border_a + e and border_a < limit and rb[lo] > ra[lo]):
                    continue
                if b[i, hi] < border_a - e or b[j, lo] > border_b + e:
                    continue  # not both cut at this border
                if b[i, lo] > border_b + e or b[j, hi] < border_a - e:
                    continue  # one of them doesn't span the shared band
                inter = min(b[i, other_hi], b[j, other_hi]) - max(b[i, other_lo], b[j, other_lo])
                shorter = min(b[i, other_hi] - b[i, other_lo], b[j, other_hi] - b[j, other_lo])
                if shorter > 0 and inter >= span_overlap * shorter:
                    pairs.append((i, j))
                    break
    return pairs


def _merge_pairs(dets: Detections, pairs: list[tuple[int, int]]) -> Detections:
    """Union the boxes joined by ``pairs`` (transitively: a person cut by a tile corner)."""
    parent = list(range(len(dets)))

    def root(k: int) -> int:
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    for i, j in pairs:
        parent[root(i)] = root(j)
    groups: dict[int, list[int]] = {}
    for k in range(len(dets)):
        groups.setdefault(root(k), []).append(k)
    xyxy, conf, kps = [], [], []
    for members in groups.values():
        boxes = dets.xyxy[members]
        xyxy.append([*boxes[:, :2].min(axis=0), *boxes[:, 2:].max(axis=0)])
        conf.append(float(dets.conf[members].max()))
        if dets.keypoints is not None:
            part = dets.keypoints[members]  # (m, K, 3): per keypoint, the most confident part
            kps.append(part[part[:, :, 2].argmax(axis=0), np.arange(part.shape[1])])
    order = np.argsort(-np.asarray(conf), kind="stable")
    return Detections(
        xyxy=np.asarray(xyxy, dtype=np.float32)[order],
        conf=np.asarray(conf, dtype=np.float32)[order],
        keypoints=None if dets.keypoints is None else np.asarray(kps, dtype=np.float32)[order],
    )


class ZoneFocusedDetector:
    """Runs a ``PersonDetector`` on a ``CropPlan``'s crops and returns one frame's persons.

    Args:
        detector: any ``PersonDetector``.
        plan: the crops; an empty plan (no zones) means the whole frame.
        whole_frame: also run the whole frame (downscaled to the detector's input), e.g. to see
            people outside every zone. Always on when the plan has no crops.
        gate: optional ``MotionGate`` over ``self.rects``: regions without motion since their last
            detection reuse that detection (kept, never emptied) until the gate's refresh time.
        iou, containment: de-duplication thresholds, see ``dedupe``.
        conf: the minimum score to ask the detector for (``detect(crops, conf=...)``, e.g. a
            tracker's low threshold); None: the detector's own.
    """

    def __init__(
        self,
        detector: PersonDetector,
        plan: CropPlan,
        *,
        whole_frame: bool = False,
        gate: MotionGate | None = None,
        iou: float = 0.5,
        containment: float = 0.7,
        conf: float | None = None,
    ) -> None:
        self.detector = detector
        self.plan = plan
        self.frame_size = plan.frame_size
        w, h = plan.frame_size
        rects = list(plan.rects)
        if (whole_frame or not rects) and (0, 0, w, h) not in rects:
            rects.append((0, 0, w, h))
        self.rects: tuple[Rect, ...] = tuple(rects)
        if gate is not None and len(gate.rects) != len(self.rects):
            raise ValueError(
                f"gate: has {len(gate.rects)} regions, the detector runs {len(self.rects)}; "
                "build it as MotionGate(zone_focused_detector.rects)"
            )
        self.gate = gate
        self.iou = iou
        self.containment = containment
        self.conf = conf
        self._cached: list[Detections | None] = [None] * len(self.rects)
        self.last_run: tuple[int, ...] = ()  # indices of the regions detected on the last call

    def detect(self, frame: np.ndarray, t: float | None = None) -> Detections:
        """Persons in one BGR frame, in frame pixels (track ids -1).

        ``t`` (seconds, the frame's timestamp) is needed only with a motion gate.
        """
        h, w = frame.shape[:2]
        if (w, h) != tuple(self.frame_size):
            raise ValueError(
                f"frame is {w}x{h} but the crop plan was made for "
                f"{self.frame_size[0]}x{self.frame_size[1]}; rebuild the plan for this camera"
            )
        todo = list(range(len(self.rects)))
        gray = None
        if self.gate is not None:
            if t is None:
                raise ValueError("detect: a motion-gated detector needs the frame timestamp t")
            gray = self.gate.prepare(frame)
            todo = [
                i for i in todo if self._cached[i] is None or self.gate.should_detect(i, gray, t)
            ]
        if todo:
            crops = [frame[y1:y2, x1:x2] for x1, y1, x2, y2 in (self.rects[i] for i in todo)]
            crops = [np.ascontiguousarray(c) for c in crops]
            found = (
                self.detector.detect(crops)
                if self.conf is None
                else self.detector.detect(crops, conf=self.conf)  # type: ignore[call-arg]
            )
            for i, dets in zip(todo, found, strict=True):
                self._cached[i] = to_frame(dets, self.rects[i])
                if self.gate is not None and gray is not None and t is not None:
                    self.gate.mark_detected(i, gray, t)
        self.last_run = tuple(todo)
        return self._merge()

    def _merge(self) -> Detections:
        parts, cuts, sources = [], [], []
        for k, (rect, dets) in enumerate(zip(self.rects, self._cached, strict=True)):
            if dets is None or not len(dets):
                continue
            parts.append(dets)
            cuts.append(cut_by_edge(dets.xyxy, rect, self.frame_size))
            sources.append(np.full(len(dets), k, dtype=np.int64))
        if not parts:
            return Detections()
        if any(p.keypoints is None for p in parts) and any(p.keypoints is not None for p in parts):
            parts = [_with_keypoints(p) for p in parts]
        merged = Detections.concat(parts)
        return dedupe(
            merged,
            np.concatenate(cuts),
            iou=self.iou,
            containment=self.containment,
            source=np.concatenate(sources),
            rects=self.rects,
            frame_size=self.frame_size,
        )

    def reset(self) -> None:
        """Forget cached detections (e.g. after the stream reconnects)."""
        self._cached = [None] * len(self.rects)


def _with_keypoints(dets: Detections, n_kpts: int = 17) -> Detections:
    if dets.keypoints is not None:
        return dets
    return Detections(
        xyxy=dets.xyxy,
        conf=dets.conf,
        keypoints=np.zeros((len(dets), n_kpts, 3), dtype=np.float32),
        track_id=dets.track_id,
    )
