"""Zone polygons: pure checks on relative ([0, 1] x [0, 1]) frame coordinates.

Each check returns a message fragment naming the problem and the fix, or None when the polygon is
usable; the caller prefixes it with the zone it belongs to.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

MIN_POINTS = 3
MAX_POINTS = 64
# Smaller than about two pixels of a 1080p frame: the outline is a line or a dot, not an area.
MIN_AREA = 1e-6
_EPS = 1e-12

Point = tuple[float, float]


def _cross(o: Point, a: Point, b: Point) -> float:
    return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])


def _orientation(o: Point, a: Point, b: Point) -> int:
    value = _cross(o, a, b)
    return 0 if abs(value) <= _EPS else (1 if value > 0 else -1)


def _on_segment(p: Point, a: Point, b: Point) -> bool:
    """p is collinear with a-b: is it within the segment's bounding box?"""
    return (
        min(a[0], b[0]) - _EPS <= p[0] <= max(a[0], b[0]) + _EPS
        and min(a[1], b[1]) - _EPS <= p[1] <= max(a[1], b[1]) + _EPS
    )


def segments_touch(a: Point, b: Point, c: Point, d: Point) -> bool:
    """Whether segment a-b and segment c-d share at least one point (crossing or touching)."""
    o1, o2 = _orientation(a, b, c), _orientation(a, b, d)
    o3, o4 = _orientation(c, d, a), _orientation(c, d, b)
    if o1 != o2 and o3 != o4 and 0 not in (o1, o2, o3, o4):
        return True
    return (
        (o1 == 0 and _on_segment(c, a, b))
        or (o2 == 0 and _on_segment(d, a, b))
        or (o3 == 0 and _on_segment(a, c, d))
        or (o4 == 0 and _on_segment(b, c, d))
    )


def area(points: Sequence[Point]) -> float:
    """Unsigned area by the shoelace formula (meaningful for simple polygons)."""
    total = 0.0
    for i, p in enumerate(points):
        q = points[(i + 1) % len(points)]
        total += p[0] * q[1] - q[0] * p[1]
    return abs(total) / 2.0


def polygon_problem(raw: Sequence[Sequence[float]]) -> str | None:
    """The first problem of a polygon given as [[x, y], ...], or None when it is usable."""
    if len(raw) < MIN_POINTS:
        return f"polygon needs at least {MIN_POINTS} points, got {len(raw)}"
    if len(raw) > MAX_POINTS:
        return (
            f"polygon has {len(raw)} points; at most {MAX_POINTS} are allowed, simplify the outline"
        )
    for n, point in enumerate(raw, start=1):
        if len(point) != 2:
            return f"polygon point {n} must be [x, y], got {len(point)} numbers"
        for axis, value in zip("xy", point, strict=True):
            if not (math.isfinite(value) and 0.0 <= value <= 1.0):
                return (
                    f"polygon point {n} has {axis}={value:g}; relative coordinates must be "
                    "within 0-1 (divide pixels by the frame width and height)"
                )
    points: list[Point] = [(float(p[0]), float(p[1])) for p in raw]
    seen: dict[Point, int] = {}
    for n, p in enumerate(points, start=1):
        if p in seen:
            return (
                f"polygon point {n} repeats point {seen[p]} ({p[0]:g}, {p[1]:g}); "
                "list each corner once, the outline closes by itself"
            )
        seen[p] = n
    if all(_orientation(points[0], points[1], p) == 0 for p in points[2:]):
        return "polygon has zero area (its points lie on one line); outline a region"
    count = len(points)
    edges = [(points[i], points[(i + 1) % count]) for i in range(count)]

    def label(i: int) -> str:
        return f"{i + 1}-{(i + 1) % count + 1}"

    for i in range(count):
        a, b = edges[i]
        c = edges[(i + 1) % count][1]
        # Adjacent edges share a corner; they are wrong only when the outline doubles back.
        if _orientation(a, b, c) == 0 and (
            (b[0] - a[0]) * (c[0] - b[0]) + (b[1] - a[1]) * (c[1] - b[1]) < 0
        ):
            return (
                f"polygon doubles back on itself at point {(i + 1) % count + 1}; remove the spike"
            )
        for j in range(i + 2, count):
            if i == 0 and j == count - 1:
                continue  # the closing edge is adjacent to the first one
            if segments_touch(*edges[i], *edges[j]):
                return (
                    f"polygon is self-intersecting: edges {label(i)} and {label(j)} cross; "
                    "list the points in order around the outline"
                )
    if area(points) < MIN_AREA:
        return (
            f"polygon area is {area(points):.2g} of the frame, too small to track anyone in; "
            "outline a larger region"
        )
    return None
