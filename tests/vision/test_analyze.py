"""``python -m vision analyze`` on a real clip writes records in the documented contract."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vision.analyze import main

FOOTAGE = Path(__file__).resolve().parents[3] / "shared" / "data" / "footage"
CLIP = FOOTAGE / "face-demographics-walking-and-pause.gif"

CONFIG = """
camera_id: faces-cam
analysis_fps: 2
zones:
  - id: desk
    kind: counter
    units: relative
    polygon: [[0.0, 0.0], [0.3, 0.0], [0.3, 1.0], [0.0, 1.0]]
    min_presence_s: 0.5
    unattended_after_s: 1
  - id: line
    kind: queue
    units: relative
    polygon: [[0.3, 0.0], [1.0, 0.0], [1.0, 1.0], [0.3, 1.0]]
    anchor: center
"""


@pytest.fixture
def clip() -> Path:
    assert CLIP.is_file(), f"test footage missing: {CLIP} (shared/ must sit beside the repo)"
    return CLIP


def test_analyze_writes_frame_event_and_summary_records(clip, tmp_path):
    config = tmp_path / "camera.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    out = tmp_path / "out.jsonl"
    assert main([str(clip), "--config", str(config), "--output", str(out), "--no-progress"]) == 0
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    frames = [r for r in records if r["type"] == "frame"]
    assert records[-1]["type"] == "summary"
    summary = records[-1]
    assert summary["frames_read"] == 41
    assert summary["frames_analysed"] == len(frames)
    assert 6 <= len(frames) <= 8  # 41 frames at 12.5 fps = 3.3 s, analysed at 2 fps
    assert summary["cpu_s"] > 0 and summary["wall_s"] > 0
    for r in frames:
        assert set(r) == {"type", "frame", "t", "persons", "zones"}
        assert set(r["zones"]) == {"desk", "line"}
        assert r["zones"]["line"]["state"] is None
        assert {"count", "smoothed", "wait_s"} <= set(r["zones"]["line"])
        assert r["zones"]["desk"]["state"] in (None, "attended", "unattended")
    # Three people stand in view: the detector sees them, the desk strip is staffed.
    assert max(r["persons"] for r in frames) == 3
    assert frames[-1]["zones"]["desk"]["state"] == "attended"
    assert frames[-1]["zones"]["line"]["count"] >= 1
    assert [r["frame"] for r in frames] == sorted(r["frame"] for r in frames)


def test_analyze_reports_a_bad_config_without_a_traceback(clip, tmp_path, capsys):
    config = tmp_path / "camera.yaml"
    config.write_text(
        "camera_id: x\nzones:\n  - id: till-1\n    kind: counter\n    polygon: [[0, 0], [1, 1]]\n",
        encoding="utf-8",
    )
    code = main([str(clip), "--config", str(config), "--output", str(tmp_path / "o.jsonl")])
    assert code == 2
    assert "zone 'till-1': polygon needs at least 3 points, got 2" in capsys.readouterr().err
