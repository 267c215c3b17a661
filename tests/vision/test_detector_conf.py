"""A detector call can ask for weaker boxes than the detector's own minimum score."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
import pytest

os.environ["YOLO_OFFLINE"] = "1"

from vision.detections import Detections
from vision.detector import UltralyticsDetector, accepts_conf, import_ultralytics


def test_a_lower_conf_for_one_call_adds_weak_boxes_and_keeps_the_strong_ones():
    bus = cv2.imread(str(Path(import_ultralytics().__file__).parent / "assets" / "bus.jpg"))
    detector = UltralyticsDetector(backend="torch", imgsz=320, conf=0.5)
    (strong,) = detector.detect([bus])
    (weak,) = detector.detect([bus], conf=0.1)
    assert (strong.conf >= 0.5).all() and (weak.conf > 0.1).all()
    assert len(weak) >= len(strong) and detector.conf == 0.5  # the detector's own is unchanged
    np.testing.assert_allclose(weak.xyxy[weak.conf >= 0.5], strong.xyxy, atol=1e-3)
    with pytest.raises(ValueError, match="conf"):
        detector.detect([bus], conf=1.5)
    assert accepts_conf(detector)


def test_accepts_conf_tells_detectors_that_take_it_from_those_that_do_not():
    class Plain:
        def detect(self, images: list[np.ndarray]) -> list[Detections]:
            return [Detections() for _ in images]

    class Flexible:
        def detect(self, images: list[np.ndarray], **options: object) -> list[Detections]:
            return [Detections() for _ in images]

    assert not accepts_conf(Plain()) and accepts_conf(Flexible())
    assert not accepts_conf(object())
