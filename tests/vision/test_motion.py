"""Motion gating on synthetic frames: no video, no model."""

from __future__ import annotations

import numpy as np
import pytest

from vision.motion import MotionGate, changed_fraction, prepare_gray

W, H = 640, 480
ZONES = [(0, 0, 320, 480), (320, 0, 640, 480)]


def scene(seed: int = 0) -> np.ndarray:
    """A textured, still background (shelves, a counter)."""
    rng = np.random.default_rng(seed)
    base = rng.integers(40, 200, (H // 16, W // 16, 3), dtype=np.uint8)
    return np.kron(base, np.ones((16, 16, 1), dtype=np.uint8))


def with_square(frame: np.ndarray, x: int, y: int, size: int = 60) -> np.ndarray:
    out = frame.copy()
    out[y : y + size, x : x + size] = (250, 250, 250)
    return out


def noisy(frame: np.ndarray, seed: int) -> np.ndarray:
    """Sensor noise and compression speckle: +-6 grey levels."""
    rng = np.random.default_rng(seed)
    return np.clip(frame.astype(np.int16) + rng.integers(-6, 7, frame.shape), 0, 255).astype(
        np.uint8
    )


def test_prepare_gray_is_a_small_blurred_grey_frame():
    gray = prepare_gray(scene(), scale=0.25)
    assert gray.shape == (H // 4, W // 4) and gray.dtype == np.uint8
    assert changed_fraction(gray, gray) == 0.0
    with pytest.raises(ValueError, match="shapes differ"):
        changed_fraction(gray, gray[:-1])


def test_a_static_scene_is_detected_once_then_only_on_refresh():
    gate = MotionGate(ZONES, threshold=0.01, refresh_s=10.0)
    frame = scene()
    gray = gate.prepare(frame)
    assert gate.should_detect(0, gray, 0.0)  # never detected yet
    gate.mark_detected(0, gray, 0.0)
    for i, t in enumerate(np.arange(0.5, 10.0, 0.5)):
        assert not gate.should_detect(0, gate.prepare(noisy(frame, i)), float(t))
    assert gate.should_detect(0, gray, 10.0)
    gate.mark_detected(0, gray, 10.0)
    assert not gate.should_detect(0, gray, 12.0)
    assert gate.should_detect(0, gray, 3.0)  # time went back (stream restarted)


def test_a_moving_square_is_motion_in_its_zone_only():
    gate = MotionGate(ZONES, threshold=0.01, refresh_s=10.0)
    start = with_square(scene(), 400, 200)
    gray = gate.prepare(start)
    for z in (0, 1):
        gate.mark_detected(z, gray, 0.0)
    moved = gate.prepare(with_square(scene(), 460, 240))
    assert gate.should_detect(1, moved, 0.5)
    assert not gate.should_detect(0, moved, 0.5)
    assert gate.motion(1, moved) > 0.01 > gate.motion(0, moved)


def test_slow_drift_adds_up_against_the_last_detection():
    gate = MotionGate(ZONES, threshold=0.01, refresh_s=100.0)
    gray = gate.prepare(with_square(scene(), 100, 200))
    gate.mark_detected(0, gray, 0.0)
    triggered = []
    for step in range(1, 30):
        frame = gate.prepare(with_square(scene(), 100 + step, 200))
        triggered.append(gate.should_detect(0, frame, step * 0.5))
    assert not triggered[0]  # one pixel is not motion...
    assert any(triggered)  # ...but the person drifting away is


def test_a_person_standing_still_stays_cached_until_refresh():
    gate = MotionGate(ZONES, threshold=0.01, refresh_s=10.0)
    cashier = with_square(scene(), 120, 150, size=90)
    gate.mark_detected(0, gate.prepare(cashier), 0.0)
    decisions = [
        gate.should_detect(0, gate.prepare(noisy(cashier, i)), i * 0.5) for i in range(1, 25)
    ]
    # 0.5 s .. 9.5 s: cached; from 10 s on: refreshed even though nothing moved.
    assert decisions[:19] == [False] * 19 and all(decisions[19:])


def test_reset_forgets_and_bad_settings_are_refused():
    gate = MotionGate(ZONES)
    gray = gate.prepare(scene())
    gate.mark_detected(0, gray, 0.0)
    gate.reset()
    assert gate.should_detect(0, gray, 0.1)
    with pytest.raises(ValueError, match="threshold"):
        MotionGate(ZONES, threshold=2)
    with pytest.raises(ValueError, match="refresh_s"):
        MotionGate(ZONES, refresh_s=0)
    with pytest.raises(ValueError, match="2-D grey"):
        gate.mark_detected(0, scene(), 0.0)
