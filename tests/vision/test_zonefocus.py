"""Zone-focused detection: crop geometry, mapping back, de-duplication, small distant people."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
import pytest

os.environ["YOLO_OFFLINE"] = "1"

from vision.detections import Detections
from vision.motion import MotionGate
from vision.zonefocus import (
    CropPlan,
    ZoneFocusedDetector,
    box_iou,
    cut_by_edge,
    dedupe,
    to_frame,
)


def rect_poly(x1, y1, x2, y2):
    return [(x1, y1), (x2, y1), (x2, y2), (x1, y2)]


# ---------------------------------------------------------------------------- plan geometry


def test_a_small_zone_gets_one_crop_grown_by_the_margin():
    plan = CropPlan.for_zones([rect_poly(400, 300, 600, 500)], (1920, 1080), margin=0.15)
    assert plan.rects == ((370, 270, 630, 530),)
    assert plan.zones == ((0,),)
    assert len(plan) == 1 and list(plan) == [plan[0]]


def test_the_margin_has_a_floor_in_pixels_and_can_differ_per_zone():
    thin = CropPlan.for_zones([rect_poly(100, 100, 120, 400)], (640, 480), margin=0.1)
    assert thin.rects == ((84, 70, 136, 430),)  # 16 px at least, 10 % of 300 px
    two = CropPlan.for_zones(
        [rect_poly(0 + 50, 50, 150, 150), rect_poly(400, 300, 500, 400)],
        (640, 480),
        margin=[0.2, 0.5],
        min_margin_px=0,
    )
    assert two.rects == ((30, 30, 170, 170), (350, 250, 550, 450))
    with pytest.raises(ValueError, match="2 values for 1 zones"):
        CropPlan.for_zones([rect_poly(0, 0, 10, 10)], (640, 480), margin=[0.1, 0.2])


def test_margins_are_clipped_at_the_frame_edges():
    plan = CropPlan.for_zones([rect_poly(0, 5, 200, 470)], (640, 480), margin=0.15)
    x1, y1, x2, y2 = plan.rects[0]
    assert (x1, y1) == (0, 0) and y2 == 480 and x2 == 230


def test_a_zone_larger_than_the_tile_is_tiled_at_native_resolution():
    zone = rect_poly(100, 100, 1800, 1000)
    plan = CropPlan.for_zones(
        [zone], (1920, 1080), tile=640, margin=0.0, min_margin_px=0, tile_overlap=0.3
    )
    rects = np.array(plan.rects)
    w, h = rects[:, 2] - rects[:, 0], rects[:, 3] - rects[:, 1]
    assert (w <= 640).all() and (h <= 640).all()  # nothing is shrunk to fit the network
    assert len(plan) == 4 * 2  # 1700 px wide at a 448 px step, 900 px high
    assert plan.zones == ((0,),) * 8
    # Together the tiles cover the zone exactly, and neighbours overlap by >= 30 % of a tile.
    covered = np.zeros((1080, 1920), bool)
    for x1, y1, x2, y2 in plan.rects:
        covered[y1:y2, x1:x2] = True
    assert covered[100:1000, 100:1800].all() and covered.sum() == 1700 * 900
    xs = sorted({(r[0], r[2]) for r in plan.rects})
    for (a1, a2), (b1, _) in zip(xs, xs[1:], strict=False):
        assert a2 - b1 >= 0.3 * 640


def test_zones_that_overlap_a_lot_are_merged_and_far_ones_are_not():
    near = CropPlan.for_zones(
        [
            rect_poly(100, 100, 300, 300),
            rect_poly(150, 120, 320, 310),
            rect_poly(900, 100, 1000, 200),
        ],
        (1280, 720),
        margin=0.0,
        min_margin_px=0,
    )
    assert near.rects == ((100, 100, 320, 310), (900, 100, 1000, 200))
    assert near.zones == ((0, 1), (2,))


def test_impossible_plans_are_refused_with_a_message():
    with pytest.raises(ValueError, match="outside the 640x480 frame"):
        CropPlan.for_zones([rect_poly(700, 500, 800, 600)], (640, 480), min_margin_px=0)
    with pytest.raises(ValueError, match="zone #1: polygon needs at least 3 points"):
        CropPlan.for_zones([[(0, 0), (5, 5)]], (640, 480))


# ---------------------------------------------------------------------------- a fake detector


def coordinate_frame(width: int, height: int) -> np.ndarray:
    """Each pixel spells its own position, so a crop tells the fake detector where it was cut."""
    ys, xs = np.mgrid[0:height, 0:width]
    return np.dstack([xs & 255, ys & 255, (xs >> 8) | ((ys >> 8) << 4)]).astype(np.uint8)


class FakeDetector:
    """Sees the given people (frame boxes) in each crop: the visible part of each, with a nose
    keypoint at the top centre of the person (0 confidence when outside the crop)."""

    imgsz, conf, iou = 640, 0.25, 0.7

    def __init__(self, people: list[tuple[float, float, float, float, float]]) -> None:
        self.people = people
        self.calls: list[int] = []

    def detect(self, images: list[np.ndarray]) -> list[Detections]:
        self.calls.append(len(images))
        out = []
        for img in images:
            b, g, r = (int(v) for v in img[0, 0])
            ox, oy = b | ((r & 15) << 8), g | ((r >> 4) << 8)
            h, w = img.shape[:2]
            boxes, confs, kps = [], [], []
            for x1, y1, x2, y2, conf in self.people:
                cx1, cy1 = max(x1 - ox, 0), max(y1 - oy, 0)
                cx2, cy2 = min(x2 - ox, w), min(y2 - oy, h)
                if cx2 - cx1 < 4 or cy2 - cy1 < 4:
                    continue
                boxes.append([cx1, cy1, cx2, cy2])
                confs.append(conf)
                kp = np.zeros((17, 3), np.float32)
                nx, ny = (x1 + x2) / 2 - ox, y1 + 10 - oy
                kp[0] = [nx, ny, 1.0 if 0 <= nx < w and 0 <= ny < h else 0.0]
                kps.append(kp)
            out.append(
                Detections(xyxy=boxes, conf=confs, keypoints=np.array(kps).reshape(-1, 17, 3))
                if boxes
                else Detections()
            )
        return out


def test_boxes_and_keypoints_are_mapped_back_to_the_frame():
    crop = Detections(
        xyxy=[[10, 20, 30, 60]], conf=[0.9], keypoints=np.full((1, 17, 3), [5, 6, 1.0])
    )
    frame = to_frame(crop, (100, 200, 300, 400))
    assert frame.xyxy.tolist() == [[110, 220, 130, 260]]
    assert frame.keypoints[0, 0].tolist() == [105, 206, 1.0]
    assert crop.xyxy.tolist() == [[10, 20, 30, 60]]  # the input is left alone


def test_cut_means_touching_a_crop_edge_inside_the_frame():
    boxes = np.array([[0, 50, 40, 90], [50, 50, 99, 90], [50, 0, 60, 30], [20, 20, 60, 60]])
    cut = cut_by_edge(boxes, (0, 0, 100, 100), (640, 480))
    assert cut.tolist() == [False, True, False, False]  # left and top edges are the frame's


def test_dedupe_prefers_whole_boxes_and_keeps_distinct_people():
    dets = Detections(
        xyxy=[
            [100, 100, 200, 400],  # whole person
            [100, 100, 200, 250],  # the same person cut by a tile edge, higher score
            [300, 100, 400, 400],  # someone else
            [302, 101, 401, 399],  # them again from the overlapping crop
            [130, 300, 170, 390],  # a child in front of the first person: not cut, kept
        ],
        conf=[0.8, 0.9, 0.7, 0.75, 0.6],
    )
    kept = dedupe(dets, np.array([False, True, False, False, False]))
    assert kept.xyxy.tolist() == [[100, 100, 200, 400], [302, 101, 401, 399], [130, 300, 170, 390]]


def test_people_seen_by_overlapping_tiles_are_counted_once():
    w, h = 1920, 1080
    frame = coordinate_frame(w, h)
    people = [
        (700, 300, 780, 560, 0.9),  # inside the overlap of two tiles: seen whole twice
        (1010, 200, 1100, 480, 0.8),  # across a tile edge: whole in one tile, cut in another
        (200, 500, 260, 700, 0.7),  # in one tile only
        (1700, 120, 1750, 300, 0.6),
    ]
    fake = FakeDetector(people)
    plan = CropPlan.for_zones(
        [rect_poly(100, 100, 1800, 1000)], (w, h), tile=640, margin=0.0, min_margin_px=0
    )
    dets = ZoneFocusedDetector(fake, plan).detect(frame)
    assert fake.calls == [len(plan)]  # one batch of every crop
    assert len(dets) == len(people)
    order = np.argsort(-np.array([p[4] for p in people]))
    expected = np.array([p[:4] for p in people], np.float32)[order]
    np.testing.assert_allclose(dets.xyxy, expected)
    noses = dets.keypoints[:, 0]
    np.testing.assert_allclose(noses[:, 0], (expected[:, 0] + expected[:, 2]) / 2)
    np.testing.assert_allclose(noses[:, 1], expected[:, 1] + 10)
    assert (dets.track_id == -1).all()


def test_whole_frame_runs_when_asked_or_when_there_are_no_zones():
    frame = coordinate_frame(640, 480)
    fake = FakeDetector([(10, 10, 60, 200, 0.9), (500, 100, 560, 300, 0.8)])
    zoned = ZoneFocusedDetector(fake, CropPlan.for_zones([rect_poly(0, 0, 100, 250)], (640, 480)))
    assert len(zoned.rects) == 1 and len(zoned.detect(frame)) == 1
    both = ZoneFocusedDetector(
        fake, CropPlan.for_zones([rect_poly(0, 0, 100, 250)], (640, 480)), whole_frame=True
    )
    assert both.rects[-1] == (0, 0, 640, 480)
    assert len(both.detect(frame)) == 2  # the zone's person is not counted twice
    empty = CropPlan.for_zones([], (640, 480))
    assert len(empty) == 0
    only = ZoneFocusedDetector(fake, empty)
    assert only.rects == ((0, 0, 640, 480),) and len(only.detect(frame)) == 2
    assert CropPlan.whole_frame((640, 480)).rects == ((0, 0, 640, 480),)


def test_a_frame_of_another_size_is_refused():
    zf = ZoneFocusedDetector(
        FakeDetector([]), CropPlan.for_zones([rect_poly(0, 0, 99, 99)], (640, 480))
    )
    with pytest.raises(ValueError, match="rebuild the plan"):
        zf.detect(np.zeros((720, 1280, 3), np.uint8))


def test_with_a_motion_gate_still_regions_keep_their_last_detection():
    frame = coordinate_frame(640, 480)
    fake = FakeDetector([(20, 20, 80, 200, 0.9), (400, 100, 460, 300, 0.8)])
    plan = CropPlan.for_zones([rect_poly(0, 0, 120, 240), rect_poly(360, 60, 520, 340)], (640, 480))
    zf = ZoneFocusedDetector(fake, plan)
    zf = ZoneFocusedDetector(fake, plan, gate=MotionGate(zf.rects, refresh_s=10))
    first = zf.detect(frame, t=0.0)
    assert fake.calls == [2] and len(first) == 2
    fake.people = []  # the detector would now see nobody, but nothing moved
    again = zf.detect(frame, t=1.0)
    assert zf.last_run == () and fake.calls == [2]
    np.testing.assert_array_equal(again.xyxy, first.xyxy)
    moved = frame.copy()
    moved[150:300, 380:480] = 255  # something changes in the second zone only
    after = zf.detect(moved, t=2.0)
    assert zf.last_run == (1,) and fake.calls == [2, 1]
    assert len(after) == 1  # zone 0 kept its person, zone 1 is now empty
    zf.detect(moved, t=12.5)
    assert zf.last_run == (0, 1)  # refresh
    with pytest.raises(ValueError, match="needs the frame timestamp"):
        zf.detect(frame)
    with pytest.raises(ValueError, match="MotionGate"):
        ZoneFocusedDetector(fake, plan, gate=MotionGate([(0, 0, 10, 10)]))


# ---------------------------------------------------------------------------- real model


def small_dark_bus(width: int = 1920, height: int = 1080) -> tuple[np.ndarray, tuple[int, ...]]:
    """bus.jpg shrunk to a fifth and darkened, pasted into a big dark frame (a distant till)."""
    import ultralytics

    bus = cv2.imread(str(Path(ultralytics.__file__).parent / "assets" / "bus.jpg"))
    small = (cv2.resize(bus, None, fx=0.2, fy=0.2, interpolation=cv2.INTER_AREA) * 0.6).astype(
        np.uint8
    )
    frame = np.full((height, width, 3), 20, np.uint8)
    x0, y0 = int(width * 0.6), int(height * 0.3)
    sh, sw = small.shape[:2]
    frame[y0 : y0 + sh, x0 : x0 + sw] = small
    return frame, (x0, y0, x0 + sw, y0 + sh)


def test_a_small_distant_person_is_found_with_zone_focus():
    from vision.detector import UltralyticsDetector

    detector = UltralyticsDetector(backend="torch", imgsz=640)
    frame, (x1, y1, x2, y2) = small_dark_bus()
    plan = CropPlan.for_zones([rect_poly(x1, y1, x2, y2)], (1920, 1080), tile=detector.imgsz)
    focused = ZoneFocusedDetector(detector, plan).detect(frame)
    (whole,) = detector.detect([frame])
    assert len(focused) >= 3
    assert ((focused.xyxy[:, 0] >= x1 - 1) & (focused.xyxy[:, 2] <= x2 + 1)).all()
    assert ((focused.xyxy[:, 1] >= y1 - 1) & (focused.xyxy[:, 3] <= y2 + 1)).all()
    assert focused.keypoints is not None and focused.keypoints.shape == (len(focused), 17, 3)
    # The whole frame at 640 px sees fewer of them, or sees them less surely.
    assert len(whole) < len(focused) or whole.conf.max() < focused.conf.max()
    assert box_iou(focused.xyxy, focused.xyxy)[~np.eye(len(focused), dtype=bool)].max() < 0.5
