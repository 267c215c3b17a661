"""Evidence snapshots: JPEG out, customers' faces unrecognisable, staff faces untouched."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from vision.detections import Detections
from vision.snapshot import face_regions, inside_any, render_snapshot

W, H = 640, 480
COUNTER = ("till-1", "counter", [(0, 150), (250, 150), (250, 480), (0, 480)])
QUEUE = ("queue-1", "queue", [(350, 300), (640, 300), (640, 480), (350, 480)])


def textured_frame() -> np.ndarray:
    """Fine random texture everywhere: a face's detail is what blurring must remove."""
    rng = np.random.default_rng(7)
    return rng.integers(0, 256, (H, W, 3), dtype=np.uint8)


def person(x1, y1, x2, y2, face=None, conf=0.9) -> Detections:
    kps = None
    if face is not None:
        fx, fy = face
        kps = np.zeros((1, 17, 3), np.float32)
        kps[0, :5] = [
            [fx, fy, 0.9],
            [fx - 6, fy - 5, 0.9],
            [fx + 6, fy - 5, 0.9],
            [fx - 12, fy, 0.8],
            [fx + 12, fy, 0.8],
        ]
    return Detections(xyxy=[[x1, y1, x2, y2]], conf=[conf], keypoints=kps, track_id=[4])


def decode(jpeg: bytes) -> np.ndarray:
    img = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert img is not None
    return img


def sharpness(img: np.ndarray, rect) -> float:
    x1, y1, x2, y2 = rect
    gray = cv2.cvtColor(np.ascontiguousarray(img[y1:y2, x1:x2]), cv2.COLOR_BGR2GRAY)
    return float(cv2.Laplacian(gray, cv2.CV_64F).var())


def render(frame, dets, blur):
    return decode(
        render_snapshot(
            frame,
            zones=[COUNTER, QUEUE],
            dets=dets,
            caption="cam-1 till-1 2026-11-20 09:00:05",
            highlight_zone="till-1",
            blur_faces=blur,
            staff_zone_ids={"till-1"},
        )
    )


def test_it_is_a_jpeg_of_the_frame_with_a_caption_bar_under_it():
    frame = textured_frame()
    jpeg = render_snapshot(
        frame,
        zones=[COUNTER, QUEUE],
        dets=Detections(),
        caption="héllo",
        highlight_zone=None,
        blur_faces=True,
        staff_zone_ids=set(),
    )
    assert jpeg[:3] == b"\xff\xd8\xff"
    img = decode(jpeg)
    assert img.shape[1] == W and img.shape[0] > H
    assert np.array_equal(frame, textured_frame())  # the input frame is not drawn on


def test_a_customers_face_is_blurred_beyond_recognition():
    frame = textured_frame()
    dets = person(450, 80, 530, 400, face=(490, 120))  # centre in no staff zone
    (face,) = face_regions(dets, (W, H))
    inner = (face[0] + 3, face[1] + 3, face[2] - 3, face[3] - 3)
    plain, blurred = render(frame, dets, False), render(frame, dets, True)
    assert sharpness(blurred, inner) < 0.05 * sharpness(plain, inner)
    # Outside the face nothing changed.
    assert sharpness(blurred, (450, 300, 530, 390)) == pytest.approx(
        sharpness(plain, (450, 300, 530, 390)), rel=0.05
    )


def test_a_face_without_keypoints_is_the_top_of_the_box_and_is_blurred():
    dets = person(450, 80, 530, 400)  # no keypoints
    (face,) = face_regions(dets, (W, H))
    assert face.tolist() == [450, 80, 530, 144]  # a fifth of 320 px
    frame = textured_frame()
    inner = (455, 85, 525, 140)
    assert sharpness(render(frame, dets, True), inner) < 0.05 * sharpness(
        render(frame, dets, False), inner
    )


def test_a_face_the_model_is_unsure_of_falls_back_to_the_top_of_the_box():
    dets = person(450, 80, 530, 400, face=(490, 120))
    dets.keypoints[0, :5, 2] = 0.1  # facing away: no confident face points
    assert face_regions(dets, (W, H))[0].tolist() == [450, 80, 530, 144]


def test_a_face_inside_a_staff_zone_is_left_alone():
    frame = textured_frame()
    dets = person(60, 120, 160, 460, face=(110, 160))  # centre inside the counter zone
    (face,) = face_regions(dets, (W, H))
    plain, with_blur = render(frame, dets, False), render(frame, dets, True)
    x1, y1, x2, y2 = face
    assert np.array_equal(plain[y1:y2, x1:x2], with_blur[y1:y2, x1:x2])


def test_staff_zones_default_to_the_counter_zones():
    frame = textured_frame()
    staff = person(60, 120, 160, 460, face=(110, 160))
    a = render_snapshot(
        frame,
        zones=[COUNTER],
        dets=staff,
        caption="x",
        highlight_zone=None,
        blur_faces=True,
        staff_zone_ids=None,
    )
    b = render_snapshot(
        frame,
        zones=[COUNTER],
        dets=staff,
        caption="x",
        highlight_zone=None,
        blur_faces=False,
        staff_zone_ids=None,
    )
    assert a == b


def test_face_regions_stay_in_the_frame_and_points_in_zones_are_found():
    dets = person(0, 0, 40, 100, face=(3, 4))
    x1, y1, x2, y2 = face_regions(dets, (W, H))[0]
    assert 0 <= x1 < x2 <= W and 0 <= y1 < y2 <= H
    assert inside_any(np.array([[10, 200], [300, 200]]), [COUNTER[2]]).tolist() == [True, False]


def test_bad_frames_are_refused():
    with pytest.raises(ValueError, match=r"\(H, W, 3\) uint8"):
        render_snapshot(
            np.zeros((10, 10), np.uint8),
            zones=[],
            dets=Detections(),
            caption="",
            highlight_zone=None,
            blur_faces=True,
            staff_zone_ids=set(),
        )
