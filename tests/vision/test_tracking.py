"""Track ids: stable across shifted boxes, aligned with keypoints, stable on real footage."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
import pytest

os.environ["YOLO_OFFLINE"] = "1"

from vision.detections import Detections
from vision.tracking import PersonTracker, TrackerSettings

# shared/ sits beside the project checkout (also in CI).
FOOTAGE = Path(__file__).resolve().parents[3] / "shared" / "data" / "footage"
CASHIER_CLIP = FOOTAGE / "cashier-cctv-7eleven.mp4"


def people(step: int, order: list[int] | None = None) -> Detections:
    """Three people walking right at 12 px per analysed frame; keypoint 0 marks whose box it is."""
    base = np.array([[50, 100, 110, 300], [300, 120, 360, 330], [440, 90, 500, 280]], np.float32)
    boxes = base + np.array([12, 0, 12, 0], np.float32) * step
    kps = np.zeros((3, 17, 3), np.float32)
    kps[:, 0, 0] = boxes[:, 0]  # keypoint x = own box's left edge
    kps[:, 0, 2] = [1, 2, 3]  # ...and a tag of who it is
    idx = order or [0, 1, 2]
    return Detections(xyxy=boxes[idx], conf=np.array([0.9, 0.8, 0.85])[idx], keypoints=kps[idx])


def test_ids_stay_the_same_across_shifted_boxes_and_keypoints_stay_aligned():
    tracker = PersonTracker(fps=2.0)
    seen: dict[int, int] = {}
    for step in range(12):
        order = [2, 0, 1] if step % 2 else [0, 1, 2]  # the detector's order changes
        dets = people(step, order)
        out = tracker.update(dets, (480, 640, 3))
        np.testing.assert_array_equal(out.xyxy, dets.xyxy)  # the detector's boxes, same order
        np.testing.assert_array_equal(out.keypoints, dets.keypoints)
        assert (out.track_id >= 1).all() and len(set(out.track_id)) == 3
        for tag, tid in zip(out.keypoints[:, 0, 2].astype(int), out.track_id, strict=True):
            assert seen.setdefault(tag, int(tid)) == tid


def test_a_person_missed_for_a_while_gets_their_id_back():
    tracker = PersonTracker(fps=2.0, lost_after_s=5.0)
    assert tracker.track_buffer == 10
    box = Detections(xyxy=[[100, 100, 160, 300]], conf=[0.9])
    first = tracker.update(box)
    assert first.track_id.tolist() == [1]
    for _ in range(6):  # 3 s behind the counter
        assert len(tracker.update(Detections())) == 0
    assert tracker.update(box).track_id.tolist() == [1]
    for _ in range(12):  # 6 s: longer than lost_after_s
        tracker.update(Detections())
    assert tracker.update(box).track_id.tolist() != [1]


def test_a_new_person_gets_an_id_on_first_sight_and_weak_ones_none():
    tracker = PersonTracker(fps=2.0)
    tracker.update(Detections(xyxy=[[10, 10, 50, 100]], conf=[0.9]))
    out = tracker.update(
        Detections(
            xyxy=[[12, 10, 52, 100], [300, 50, 340, 150], [500, 50, 540, 150]],
            conf=[0.9, 0.8, 0.15],
        )
    )
    assert out.track_id[0] == 1 and out.track_id[1] == 2
    assert out.track_id[2] == -1  # below the new-track threshold and matching nobody
    tracker.reset()
    assert tracker.update(Detections(xyxy=[[10, 10, 50, 100]], conf=[0.9])).track_id.tolist() == [1]
    with pytest.raises(ValueError, match="fps"):
        PersonTracker(fps=0)


def test_the_cashier_keeps_one_id_on_real_footage():
    """The 7-Eleven clip at 2 analysed frames a second: the cashier (left of the counter) keeps
    one id through 26 s, while customers come and go in front of the counter."""
    from vision.detector import UltralyticsDetector

    detector = UltralyticsDetector(backend="torch", imgsz=640)
    tracker = PersonTracker(fps=2.0, settings=TrackerSettings())
    cap = cv2.VideoCapture(str(CASHIER_CLIP))
    cashier_ids = []
    index = 0
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        # One scene from frame 300 (the cashier arrives) to 570; the clip cuts away after.
        if 300 <= index <= 570 and index % 15 == 0:
            out = tracker.update(detector.detect([frame])[0], frame.shape)
            centre_x = (out.xyxy[:, 0] + out.xyxy[:, 2]) / 2
            cashier_ids += out.track_id[centre_x < 180].tolist()
        index += 1
    cap.release()
    assert len(cashier_ids) >= 17  # seen in (nearly) every analysed frame
    assert len(set(cashier_ids)) == 1 and cashier_ids[0] >= 1


# ---------------------------------------------------------------------------- at 2 fps


def walker(step: int, width: float = 30.0, speed: float = 24.0) -> list[float]:
    """A small person walking right by ``speed`` px per analysed frame (0.8 box width)."""
    x = 50 + speed * step
    return [x, 100, x + width, 160]


def test_a_person_walking_their_own_width_per_frame_keeps_one_id():
    """At 2 fps plain IoU barely overlaps (0.11 here); buffered boxes keep the track."""
    tracker = PersonTracker(fps=2.0)
    ids = [
        int(tracker.update(Detections(xyxy=[walker(s)], conf=[0.6])).track_id[0]) for s in range(10)
    ]
    assert ids == [1] * 10
    plain = PersonTracker(fps=2.0, settings=TrackerSettings(buffer_per_s=0.0))
    plain_ids = {
        int(plain.update(Detections(xyxy=[walker(s)], conf=[0.6])).track_id[0]) for s in range(10)
    }
    assert len(plain_ids) > 1  # what the buffer fixes


def test_a_weak_box_continues_a_tracked_person_and_a_lone_one_is_not_reported():
    tracker = PersonTracker(fps=2.0)
    assert tracker.min_conf == TrackerSettings().track_low_thresh
    tracker.update(Detections(xyxy=[walker(0)], conf=[0.6]))  # seen once: confirmed at once
    out = tracker.update(Detections(xyxy=[walker(1), [400, 300, 430, 360]], conf=[0.15, 0.15]))
    assert out.track_id.tolist() == [1, -1]
    assert tracker.confirmed(out).tolist() == [True, False]
    strong = Detections(xyxy=[[500, 50, 530, 110]], conf=[0.3], track_id=[-1])
    assert tracker.confirmed(strong).tolist() == [True]
    # ByteTrack's own rule (confirm on the second match) would have dropped the new track.
    strict = PersonTracker(fps=2.0, settings=TrackerSettings(confirm_at_once=False))
    strict.update(Detections(xyxy=[[10, 10, 40, 70]], conf=[0.6]))  # frame 1 is special
    strict.update(Detections(xyxy=[walker(0)], conf=[0.6]))
    assert strict.update(Detections(xyxy=[walker(1)], conf=[0.15])).track_id.tolist() == [-1]


def test_missing_persons_are_predicted_for_a_while_and_never_twice():
    tracker = PersonTracker(fps=2.0)
    for s in range(4):
        tracker.update(Detections(xyxy=[walker(s)], conf=[0.6]))
    assert len(tracker.missing(1.25)) == 0  # seen on the last frame
    tracker.update(Detections())  # missed once
    gone = tracker.missing(1.25)
    assert gone.track_id.tolist() == [1]
    centre = (gone.xyxy[0, 0] + gone.xyxy[0, 2]) / 2
    assert abs(centre - (walker(4)[0] + 15)) < 12  # predicted about where they walked to
    assert gone.xyxy[0, 2] - gone.xyxy[0, 0] == pytest.approx(30, abs=3)  # not the buffered box
    # Someone seen now where the missing person should be: the same person, not counted twice.
    assert len(tracker.missing(1.25, seen=Detections(xyxy=[walker(4)], conf=[0.9]))) == 0
    far = Detections(xyxy=[[500, 300, 530, 360]], conf=[0.9])
    assert tracker.missing(1.25, seen=far).track_id.tolist() == [1]
    tracker.update(Detections())  # missed twice: 1.0 s
    assert tracker.missing(1.25).track_id.tolist() == [1]
    tracker.update(Detections())  # 1.5 s
    assert len(tracker.missing(1.25)) == 0
