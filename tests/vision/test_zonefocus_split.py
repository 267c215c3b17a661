"""A person cut in two by the border between two crops is one person, not two."""

from __future__ import annotations

import numpy as np

from vision.detections import Detections
from vision.zonefocus import CropPlan, ZoneFocusedDetector, cut_by_edge, dedupe, split_pairs

FRAME = (640, 1000)  # width, height
# Two tiles of a tall zone, one above the other, sharing the band y 360-640.
TOP, BOTTOM = (0, 0, 640, 640), (0, 360, 640, 1000)


def crop_view(person, rect):
    """The part of ``person`` (x1, y1, x2, y2) that a crop ``rect`` sees, or None."""
    x1, y1 = max(person[0], rect[0]), max(person[1], rect[1])
    x2, y2 = min(person[2], rect[2]), min(person[3], rect[3])
    return (x1, y1, x2, y2) if x2 - x1 >= 4 and y2 - y1 >= 4 else None


def detections_from(people, rects, frame_size=FRAME):
    """What a perfect detector returns per crop, concatenated: boxes, cut flags, crop indices,
    and keypoints whose x (keypoint 0) tags the person each box belongs to."""
    boxes, confs, cuts, sources, kps = [], [], [], [], []
    for k, rect in enumerate(rects):
        for tag, (person, conf) in enumerate(people):
            seen = crop_view(person, rect)
            if seen is None:
                continue
            boxes.append(seen)
            confs.append(conf)
            sources.append(k)
            cuts.append(bool(cut_by_edge(np.array([seen]), rect, frame_size)[0]))
            kp = np.zeros((17, 3), np.float32)
            kp[0] = [tag, 0, 0.5 + 0.1 * k]
            kps.append(kp)
    dets = Detections(xyxy=boxes, conf=confs, keypoints=np.array(kps))
    return dets, np.array(cuts), np.array(sources)


def test_a_person_split_by_a_tile_border_is_one_person():
    tall = (300, 150, 380, 850)  # taller than the shared band: whole in neither tile
    dets, cut, source = detections_from([(tall, 0.8)], [TOP, BOTTOM])
    assert cut.tolist() == [True, True]
    # Without the crops' geometry: two partial boxes, neither inside the other enough.
    assert len(dedupe(dets, cut)) == 2
    out = dedupe(dets, cut, source=source, rects=[TOP, BOTTOM], frame_size=FRAME)
    assert len(out) == 1
    assert out.xyxy.tolist() == [list(map(float, tall))]
    assert out.conf.tolist() == [np.float32(0.8)]
    assert out.keypoints[0, 0, 2] == np.float32(0.6)  # the more confident part's keypoint


def test_a_person_split_between_two_crops_that_touch_is_one_person():
    left, right = (0, 0, 320, 480), (320, 0, 640, 480)
    person = (280, 100, 370, 400)
    dets, cut, source = detections_from([(person, 0.7)], [left, right], (640, 480))
    assert len(dets) == 2 and cut.all()
    out = dedupe(dets, cut, source=source, rects=[left, right], frame_size=(640, 480))
    assert out.xyxy.tolist() == [list(map(float, person))]


def test_two_people_side_by_side_across_a_tile_border_stay_two():
    left, right = (0, 0, 400, 480), (240, 0, 640, 480)  # sharing the band x 240-400
    people = [((200, 100, 300, 400), 0.9), ((350, 110, 450, 410), 0.8)]
    dets, cut, source = detections_from(people, [left, right], (640, 480))
    assert cut.sum() == 2  # each is cut by the other tile's edge, and whole in its own
    out = dedupe(dets, cut, source=source, rects=[left, right], frame_size=(640, 480))
    assert sorted(out.xyxy.tolist()) == [list(map(float, p)) for p, _ in people]
    # Even if the detector had missed both whole views, the two cut parts (the right person's
    # left part in the left tile, the left person's right part in the right tile) are not one
    # person: neither spans the band the tiles share.
    only_cut = dets.subset(np.flatnonzero(cut))
    assert split_pairs(only_cut.xyxy, source[cut], [left, right], (640, 480)) == []
    out = dedupe(only_cut, cut[cut], source=source[cut], rects=[left, right], frame_size=(640, 480))
    assert len(out) == 2


def test_parts_that_do_not_line_up_across_the_border_stay_apart():
    # Two tall people one behind the other, both split by the border but side by side in x.
    people = [((100, 150, 180, 850), 0.8), ((400, 120, 470, 900), 0.7)]
    dets, cut, source = detections_from(people, [TOP, BOTTOM])
    out = dedupe(dets, cut, source=source, rects=[TOP, BOTTOM], frame_size=FRAME)
    assert sorted(out.xyxy.tolist()) == [list(map(float, p)) for p, _ in people]
    # A crop edge on the frame's own border is no crop border: nothing to join there.
    edge = Detections(xyxy=[[0, 0, 50, 640], [0, 640, 50, 1000]], conf=[0.5, 0.5])
    assert split_pairs(
        edge.xyxy, np.array([0, 1]), [(0, 0, 640, 640), (0, 640, 640, 1000)], (640, 1000)
    ) == [(0, 1)]
    assert (
        split_pairs(
            edge.xyxy, np.array([0, 1]), [(0, 0, 640, 640), (0, 640, 640, 1000)], (640, 640)
        )
        == []
    )


def test_a_person_at_a_four_tile_corner_is_one_person():
    rects = [(0, 0, 400, 400), (300, 0, 700, 400), (0, 300, 400, 700), (300, 300, 700, 700)]
    person = (250, 200, 460, 520)  # spans every tile's shared bands
    dets, cut, source = detections_from([(person, 0.6)], rects, (700, 700))
    assert len(dets) == 4 and cut.all()
    out = dedupe(dets, cut, source=source, rects=rects, frame_size=(700, 700))
    assert out.xyxy.tolist() == [list(map(float, person))]


class PerfectDetector:
    """Sees the given people in a crop of a frame whose pixels encode their own position."""

    imgsz, conf, iou = 640, 0.25, 0.7

    def __init__(self, people):
        self.people = people

    def detect(self, images):
        out = []
        for img in images:
            b, g, r = (int(v) for v in img[0, 0])
            ox, oy = b | ((r & 15) << 8), g | ((r >> 4) << 8)
            h, w = img.shape[:2]
            boxes = []
            for x1, y1, x2, y2 in self.people:
                seen = crop_view((x1 - ox, y1 - oy, x2 - ox, y2 - oy), (0, 0, w, h))
                if seen is not None:
                    boxes.append(seen)
            out.append(Detections(xyxy=boxes, conf=[0.9] * len(boxes)))
        return out


def test_the_zone_focused_detector_counts_a_split_person_once():
    w, h = FRAME
    ys, xs = np.mgrid[0:h, 0:w]
    frame = np.dstack([xs & 255, ys & 255, (xs >> 8) | ((ys >> 8) << 4)]).astype(np.uint8)
    plan = CropPlan(frame_size=FRAME, rects=(TOP, BOTTOM), zones=((0,), (0,)))
    tall, short = (300, 150, 380, 850), (500, 700, 560, 900)
    dets = ZoneFocusedDetector(PerfectDetector([tall, short]), plan).detect(frame)
    assert sorted(dets.xyxy.tolist()) == [list(map(float, tall)), list(map(float, short))]
