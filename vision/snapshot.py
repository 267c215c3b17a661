"""Evidence snapshots: one JPEG of a frame with zones, persons and a caption, faces blurred.

Privacy comes first: faces of everyone *not* standing in a staff zone (customers) are pixelated
and blurred before anything is drawn, so no overlay can leave a recognisable strip uncovered.
Pure numpy + cv2; no model and no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import cv2
import numpy as np

from vision.detections import Detections

Point = tuple[float, float]
ZoneSpec = tuple[str, str, Sequence[Point]]  # zone id, kind ("counter" | "queue"), polygon px

FACE_KEYPOINTS = (0, 1, 2, 3, 4)  # nose, eyes, ears (COCO order)
FACE_KPT_CONF = 0.3
JPEG_QUALITY = 85

# BGR
_ZONE_COLOURS = {"counter": (200, 140, 30), "queue": (40, 160, 240)}
_HIGHLIGHT = (40, 40, 230)
_BOX = (60, 220, 60)
_TEXT = (255, 255, 255)


def face_regions(dets: Detections, frame_size: tuple[int, int]) -> np.ndarray:
    """(N, 4) int face rectangles x1, y1, x2, y2 in pixels, one per person (clipped to the frame
    of ``frame_size`` = (width, height)).

    From the nose, eyes and ears with confidence > 0.3 when the person has keypoints: a square
    around them, padded to take in forehead and chin. Otherwise (no keypoints, or the person faces
    away) the top of the person box: a fifth of its height, or half its width if that is more (a
    person cut at the waist by the counter).
    """
    w, h = frame_size
    out = np.zeros((len(dets), 4), dtype=np.int64)
    for i, (x1, y1, x2, y2) in enumerate(dets.xyxy.astype(np.float64)):
        bw, bh = x2 - x1, y2 - y1
        rect = None
        if dets.keypoints is not None:
            kp = dets.keypoints[i, list(FACE_KEYPOINTS)]
            seen = kp[kp[:, 2] > FACE_KPT_CONF]
            if len(seen):
                cx, cy = seen[:, 0].mean(), seen[:, 1].mean()
                span = max(np.ptp(seen[:, 0]), np.ptp(seen[:, 1]), 0.3 * bw, 4.0)
                half = 0.8 * span
                rect = (cx - half, cy - 1.1 * half, cx + half, cy + 1.1 * half)
        if rect is None:
            rect = (x1, y1, x2, y1 + min(bh, max(bh / 5, bw / 2)))
        rx1, ry1, rx2, ry2 = rect
        out[i] = [
            int(np.clip(np.floor(rx1), 0, w)),
            int(np.clip(np.floor(ry1), 0, h)),
            int(np.clip(np.ceil(rx2), 0, w)),
            int(np.clip(np.ceil(ry2), 0, h)),
        ]
    return out


def obscure(img: np.ndarray, rect: Sequence[int]) -> None:
    """Make ``img[rect]`` unrecognisable in place: pixelate to ~8 blocks across, then blur."""
    x1, y1, x2, y2 = (int(v) for v in rect)
    if x2 - x1 < 2 or y2 - y1 < 2:
        return
    roi = img[y1:y2, x1:x2]
    rh, rw = roi.shape[:2]
    blocks = max(2, min(8, rw // 2)), max(2, min(8, rh // 2))
    small = cv2.resize(roi, blocks, interpolation=cv2.INTER_AREA)
    coarse = cv2.resize(small, (rw, rh), interpolation=cv2.INTER_LINEAR)
    k = max(3, (min(rw, rh) // 3) | 1)
    img[y1:y2, x1:x2] = cv2.GaussianBlur(coarse, (k, k), 0)


def inside_any(points: np.ndarray, polygons: Iterable[Sequence[Point]]) -> np.ndarray:
    """(N,) True where a point (N, 2) lies inside or on one of the polygons (pixels)."""
    points = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    hit = np.zeros(len(points), dtype=bool)
    for polygon in polygons:
        contour = np.asarray(polygon, dtype=np.float32).reshape(-1, 1, 2)
        for i, (x, y) in enumerate(points):
            if not hit[i] and cv2.pointPolygonTest(contour, (float(x), float(y)), False) >= 0:
                hit[i] = True
    return hit


def _label(
    img: np.ndarray, text: str, org: tuple[int, int], colour: tuple[int, int, int], scale: float
) -> None:
    text = text.encode("ascii", "replace").decode()  # Hershey fonts are ASCII only
    thick = max(1, round(scale * 2))
    (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thick)
    x, y = max(0, org[0]), max(th + base, org[1])
    cv2.rectangle(img, (x, y - th - base), (x + tw + 4, y + 2), colour, -1)
    cv2.putText(
        img,
        text,
        (x + 2, y - base // 2),
        cv2.FONT_HERSHEY_SIMPLEX,
        scale,
        _TEXT,
        thick,
        cv2.LINE_AA,
    )


def render_snapshot(
    frame_bgr: np.ndarray,
    *,
    zones: Sequence[ZoneSpec],
    dets: Detections,
    caption: str,
    highlight_zone: str | None = None,
    blur_faces: bool = True,
    staff_zone_ids: set[str] | None = None,
    quality: int = JPEG_QUALITY,
) -> bytes:
    """The frame as JPEG bytes with zones, person boxes (``#track id``) and a caption bar.

    Args:
        frame_bgr: the frame (H, W, 3) uint8; not modified.
        zones: (zone id, kind, polygon in pixels) of each zone to draw.
        dets: persons in frame pixels.
        caption: text of the bar under the frame (e.g. camera, zone and timestamp); ASCII.
        highlight_zone: id of the zone the event is about: drawn stronger, in red.
        blur_faces: blur the faces of everyone whose box centre is not inside a staff zone.
        staff_zone_ids: ids of the staff zones (default: the zones of kind ``counter``).
        quality: JPEG quality 0-100.
    """
    if frame_bgr.ndim != 3 or frame_bgr.shape[2] != 3 or frame_bgr.dtype != np.uint8:
        raise ValueError(
            f"frame_bgr: expected (H, W, 3) uint8, got {frame_bgr.shape} {frame_bgr.dtype}"
        )
    img = frame_bgr.copy()
    h, w = img.shape[:2]
    if staff_zone_ids is None:
        staff_zone_ids = {zid for zid, kind, _ in zones if str(kind) == "counter"}
    if blur_faces and len(dets):
        staff_polys = [poly for zid, _, poly in zones if zid in staff_zone_ids]
        is_staff = inside_any(dets.anchors("center"), staff_polys)
        for rect, staff in zip(face_regions(dets, (w, h)), is_staff, strict=True):
            if not staff:
                obscure(img, rect)

    scale = max(0.4, min(1.2, w / 1280))
    line = max(1, round(w / 640))
    overlay = img.copy()
    for zid, kind, poly in zones:
        pts = np.round(np.asarray(poly, dtype=np.float64)).astype(np.int32).reshape(-1, 1, 2)
        colour = _HIGHLIGHT if zid == highlight_zone else _ZONE_COLOURS.get(str(kind), (180,) * 3)
        cv2.fillPoly(overlay, [pts], colour)
    cv2.addWeighted(overlay, 0.25, img, 0.75, 0, dst=img)
    for zid, kind, poly in zones:
        pts = np.round(np.asarray(poly, dtype=np.float64)).astype(np.int32).reshape(-1, 1, 2)
        hi = zid == highlight_zone
        colour = _HIGHLIGHT if hi else _ZONE_COLOURS.get(str(kind), (180,) * 3)
        cv2.polylines(img, [pts], True, colour, line * (3 if hi else 1), cv2.LINE_AA)
        top = pts[:, 0, :][np.argmin(pts[:, 0, 1])]
        _label(img, f"{zid} ({kind})", (int(top[0]), int(top[1]) - 2), colour, scale)

    for (x1, y1, x2, y2), tid, conf in zip(
        dets.xyxy.round().astype(int), dets.track_id, dets.conf, strict=True
    ):
        cv2.rectangle(img, (x1, y1), (x2, y2), _BOX, line * 2)
        text = f"#{tid} {conf:.2f}" if tid >= 0 else f"{conf:.2f}"
        _label(img, text, (x1, y1 - 2), _BOX, scale * 0.8)

    bar_h = max(18, round(28 * scale))
    bar = np.zeros((bar_h, w, 3), dtype=np.uint8)
    text = caption.encode("ascii", "replace").decode()
    cv2.putText(
        bar,
        text,
        (6, bar_h - bar_h // 3),
        cv2.FONT_HERSHEY_SIMPLEX,
        scale * 0.9,
        _TEXT,
        max(1, round(scale * 2)),
        cv2.LINE_AA,
    )
    ok, buf = cv2.imencode(".jpg", np.vstack([img, bar]), [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise RuntimeError("render_snapshot: JPEG encoding failed")
    return buf.tobytes()
