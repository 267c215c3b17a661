"""Zone geometry: point-in-polygon, anchors, and the pose rules for counter stations."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from vision.analytics.zones import (
    ZoneGeometry,
    distance_to_polygon,
    points_in_polygon,
    seated_mask,
    torso_points,
)
from vision.config import ZoneConfig
from vision.detections import (
    L_ANKLE,
    L_HIP,
    L_KNEE,
    L_SHOULDER,
    NOSE,
    R_ANKLE,
    R_HIP,
    R_KNEE,
    R_SHOULDER,
    Detections,
)

SQUARE = [(0, 0), (10, 0), (10, 10), (0, 10)]
# A "U": two arms (x 0-3 and 7-10) joined at the bottom (y 7-10); the notch is x 3-7, y 0-7.
U_SHAPE = [(0, 0), (3, 0), (3, 7), (7, 7), (7, 0), (10, 0), (10, 10), (0, 10)]
TRIANGLE = [(0, 0), (10, 0), (5, 10)]


@pytest.mark.parametrize(
    ("polygon", "point", "inside"),
    [
        pytest.param(SQUARE, (5, 5), True, id="square-centre"),
        pytest.param(SQUARE, (11, 5), False, id="square-right-outside"),
        pytest.param(SQUARE, (-0.01, 5), False, id="square-just-left-outside"),
        pytest.param(SQUARE, (10, 5), True, id="square-right-edge"),
        pytest.param(SQUARE, (5, 0), True, id="square-top-edge"),
        pytest.param(SQUARE, (0, 0), True, id="square-vertex"),
        pytest.param(SQUARE, (10, 10), True, id="square-far-vertex"),
        pytest.param(SQUARE, (5, 10.5), False, id="square-below"),
        pytest.param(U_SHAPE, (5, 3), False, id="concave-notch"),
        pytest.param(U_SHAPE, (1.5, 3), True, id="concave-left-arm"),
        pytest.param(U_SHAPE, (8.5, 3), True, id="concave-right-arm"),
        pytest.param(U_SHAPE, (5, 8.5), True, id="concave-base"),
        pytest.param(U_SHAPE, (5, 7), True, id="concave-notch-bottom-edge"),
        pytest.param(U_SHAPE, (3, 3), True, id="concave-notch-side-edge"),
        pytest.param(U_SHAPE, (12, 7), False, id="concave-ray-through-vertices"),
        pytest.param(TRIANGLE, (5, 5), True, id="triangle-inside"),
        pytest.param(TRIANGLE, (1, 8), False, id="triangle-outside-corner"),
        pytest.param(TRIANGLE, (2.5, 5), True, id="triangle-slanted-edge"),
    ],
)
def test_points_in_polygon(polygon, point, inside):
    result = points_in_polygon(np.array([point]), np.array(polygon))
    assert result.tolist() == [inside]


def test_points_in_polygon_is_vectorised_and_handles_no_points():
    pts = np.array([(5, 8.5), (11, 5), (10, 5), (5, 3)])
    assert points_in_polygon(pts, np.array(U_SHAPE)).tolist() == [True, False, True, False]
    assert points_in_polygon(np.zeros((0, 2)), np.array(SQUARE)).shape == (0,)


@pytest.mark.parametrize(
    ("point", "distance"),
    [((5, 5), 0.0), ((13, 5), 3.0), ((13, 14), 5.0), ((5, 3), 2.0)],
)
def test_distance_to_polygon(point, distance):
    polygon = np.array(U_SHAPE if point == (5, 3) else SQUARE)
    assert distance_to_polygon(np.array([point]), polygon)[0] == pytest.approx(distance)


@given(
    x1=st.floats(0, 500),
    y1=st.floats(0, 500),
    w=st.floats(1, 500),
    h=st.floats(1, 500),
    px=st.floats(-100, 1100),
    py=st.floats(-100, 1100),
)
def test_rectangle_membership_matches_coordinate_comparison(x1, y1, w, h, px, py):
    x2, y2 = x1 + w, y1 + h
    rect = np.array([(x1, y1), (x2, y1), (x2, y2), (x1, y2)])
    got = bool(points_in_polygon(np.array([(px, py)]), rect)[0])
    margin = 1e-3  # the boundary tolerance
    if x1 + margin < px < x2 - margin and y1 + margin < py < y2 - margin:
        assert got
    elif not (x1 - margin <= px <= x2 + margin and y1 - margin <= py <= y2 + margin):
        assert not got


def zone(kind="counter", polygon=None, **kw) -> ZoneConfig:
    return ZoneConfig(
        id="till-1",
        kind=kind,
        polygon=polygon or [[100, 100], [300, 100], [300, 300], [100, 300]],
        **kw,
    )


def test_relative_polygon_is_scaled_to_the_frame_and_bbox():
    z = zone(units="relative", polygon=[[0.1, 0.2], [0.5, 0.2], [0.5, 0.6], [0.1, 0.6]])
    geo = ZoneGeometry(z, (1000, 500))
    assert geo.polygon.tolist() == [[100, 100], [500, 100], [500, 300], [100, 300]]
    assert geo.bbox() == (100.0, 100.0, 500.0, 300.0)
    assert geo.area_px == pytest.approx(400 * 200)


def test_frame_size_must_be_positive():
    with pytest.raises(ValueError, match="till-1"):
        ZoneGeometry(zone(), (0, 480))


# A box whose centre (200, 50) is above the zone but whose feet (200, 150) are inside it.
TALL_BOX = [150, -50, 250, 150]


@pytest.mark.parametrize(
    ("anchor", "member"),
    [("center", False), ("bottom_center", True)],
)
def test_anchor_choice_decides_membership(anchor, member):
    geo = ZoneGeometry(zone(anchor=anchor), (640, 480))
    dets = Detections(xyxy=[TALL_BOX], conf=[0.9], track_id=[7])
    inside = geo.members(dets)
    assert len(inside) == int(member)
    if member:
        assert inside.track_id.tolist() == [7]


def test_zone_kind_default_anchor_is_used():
    queue = ZoneGeometry(zone(kind="queue"), (640, 480))  # queue zones default to the feet
    counter = ZoneGeometry(zone(kind="counter"), (640, 480))  # counters to the box centre
    dets = Detections(xyxy=[TALL_BOX], conf=[0.9])
    assert (len(queue.members(dets)), len(counter.members(dets))) == (1, 0)


def test_members_keeps_the_right_rows():
    geo = ZoneGeometry(zone(), (640, 480))
    dets = Detections(
        xyxy=[[150, 150, 250, 250], [400, 400, 450, 450], [90, 90, 110, 110]],
        conf=[0.9, 0.8, 0.7],
        track_id=[1, 2, 3],
    )
    assert geo.members(dets).track_id.tolist() == [1, 3]  # (100, 100) is a vertex: inside


def skeleton(
    shoulders=(200, 150), hips=(200, 220), knees=None, conf=0.9, knee_conf=None
) -> np.ndarray:
    """(17, 3) keypoints: shoulders 20 px apart around ``shoulders``, hips likewise."""
    kp = np.zeros((17, 3), dtype=np.float32)
    sx, sy = shoulders
    hx, hy = hips
    kp[NOSE] = (sx, sy - 30, conf)
    kp[L_SHOULDER] = (sx - 20, sy, conf)
    kp[R_SHOULDER] = (sx + 20, sy, conf)
    kp[L_HIP] = (hx - 15, hy, conf)
    kp[R_HIP] = (hx + 15, hy, conf)
    kx, ky = knees if knees is not None else (hx, hy + 70)
    kc = conf if knee_conf is None else knee_conf
    kp[L_KNEE] = (kx - 15, ky, kc)
    kp[R_KNEE] = (kx + 15, ky, kc)
    kp[L_ANKLE] = (kx - 15, ky + 70, kc)
    kp[R_ANKLE] = (kx + 15, ky + 70, kc)
    return kp


def test_torso_point_is_the_middle_of_shoulders_and_hips():
    kps = np.stack([skeleton((200, 150), (200, 220)), skeleton(conf=0.1)])
    dets = Detections(xyxy=[[0, 0, 1, 1]] * 2, conf=[0.9, 0.9], keypoints=kps)
    torso = torso_points(dets)
    assert torso[0].tolist() == [200, 185]
    assert np.isnan(torso[1]).all()  # nothing above the 0.3 confidence


# Counter zone: x, y 100-300, size sqrt(200*200) = 200 px, so "near" is within 30 px.
@pytest.mark.parametrize(
    ("box", "shoulders", "hips", "conf", "stationed"),
    [
        pytest.param([150, 100, 250, 300], (200, 150), (200, 220), 0.9, True, id="body-inside"),
        pytest.param(
            [250, 100, 350, 300], (320, 150), (320, 220), 0.9, True, id="torso-20px-out-is-near"
        ),
        pytest.param(
            # Box centre (300, 200) is on the zone's edge; the body is 80 px to the right.
            [240, 100, 360, 300],
            (380, 150),
            (380, 220),
            0.9,
            False,
            id="passer-by-grazing-edge",
        ),
        pytest.param(
            [240, 100, 360, 300], (380, 150), (380, 220), 0.2, True, id="low-conf-pose-ignored"
        ),
        pytest.param(
            # Torso inside but the box centre is outside: the anchor is required.
            [150, 300, 250, 420],
            (200, 280),
            (200, 290),
            0.9,
            False,
            id="anchor-outside",
        ),
    ],
)
def test_stationed_rule(box, shoulders, hips, conf, stationed):
    geo = ZoneGeometry(zone(), (640, 480))
    dets = Detections(xyxy=[box], conf=[0.9], keypoints=skeleton(shoulders, hips, conf=conf)[None])
    assert geo.stationed_mask(dets).tolist() == [stationed]
    assert len(geo.stationed(dets)) == int(stationed)


def test_stationed_without_keypoints_uses_the_anchor_only():
    geo = ZoneGeometry(zone(), (640, 480))
    dets = Detections(xyxy=[[240, 100, 360, 300], [400, 400, 460, 470]], conf=[0.9, 0.9])
    assert geo.stationed_mask(dets).tolist() == [True, False]


def test_selecting_nobody_keeps_working_with_keypoints():
    geo = ZoneGeometry(zone(), (640, 480))
    dets = Detections(xyxy=[[400, 400, 460, 470]], conf=[0.9], keypoints=skeleton()[None])
    assert len(geo.members(dets)) == 0
    assert len(geo.stationed(dets)) == 0
    assert geo.stationed(dets).keypoints.shape == (0, 17, 3)


@pytest.mark.parametrize(
    ("keypoints", "seated"),
    [
        # Standing: knees 70 px below the hips, torso 70 px long.
        pytest.param(skeleton((200, 150), (200, 220), knees=(200, 290)), False, id="standing"),
        # Walking: one leg forward, thighs still mostly vertical.
        pytest.param(skeleton((200, 150), (200, 220), knees=(230, 280)), False, id="walking"),
        # Seated: thighs roughly horizontal, knees 10 px below the hips.
        pytest.param(skeleton((200, 150), (200, 220), knees=(260, 230)), True, id="seated"),
        pytest.param(
            skeleton((200, 150), (200, 220), knees=(260, 230), knee_conf=0.1),
            False,
            id="knees-hidden-is-not-seated",
        ),
    ],
)
def test_seated_hint(keypoints, seated):
    dets = Detections(xyxy=[[150, 100, 250, 400]], conf=[0.9], keypoints=keypoints[None])
    assert seated_mask(dets).tolist() == [seated]


def test_seated_hint_without_pose_is_false():
    dets = Detections(xyxy=[[150, 100, 250, 400]], conf=[0.9])
    assert seated_mask(dets).tolist() == [False]
