"""``make bench-vision``: this pipeline at its defaults against plain Ultralytics, on real footage.

For each clip in ``clips.yaml`` both run in one process:
- **pipeline**: ``vision`` at its defaults (2 fps, zone crops at native resolution, motion
  gating, tracking, debounced analytics), reading the clip through ``vision.sources``;
- **baseline**: ``YOLO(...).track`` on every frame at imgsz 640 (PyTorch), a person counts when
  its anchor point is in the polygon, no smoothing.
Printed side by side: accuracy against the hand-made ground truth and CPU-seconds per second of
video (model loading excluded for both; it is printed separately).

    python -m vision.bench [--clips NAME ...] [--footage DIR]
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

HERE = Path(__file__).resolve().parent
DEFAULT_FOOTAGE = Path(os.environ.get("AUDITLENS_FOOTAGE_DIR", "../shared/data/footage"))


@dataclass
class Run:
    """What one method produced on one clip, on the clip's own timeline (seconds from start)."""

    times: list[float] = field(default_factory=list)  # analysed frame times
    frames: list[int] = field(default_factory=list)  # their index within the clip
    attended: list[bool | None] = field(default_factory=list)  # counter zone decision
    counts: list[float] = field(default_factory=list)  # queue zone count (smoothed for ours)
    spells: list[tuple[float, float | None]] = field(default_factory=list)  # ours: from events
    timeline: bool = False  # score from the spells (ours) rather than per-frame states
    unattended_spells: int = 0
    attended_spells: int = 0
    cpu_s: float = 0.0
    load_s: float = 0.0


# ---------------------------------------------------------------- ground truth


def _rows(path: Path) -> list[dict[str, str]]:
    lines = [ln for ln in path.read_text(encoding="utf-8").splitlines() if not ln.startswith("#")]
    return list(csv.DictReader(lines))


def attendance_truth(path: Path) -> list[tuple[float, float, bool]]:
    return [(float(r["start_s"]), float(r["end_s"]), r["occupied"] == "1") for r in _rows(path)]


def occupied_at(truth: list[tuple[float, float, bool]], t: float) -> bool | None:
    for start, end, occupied in truth:
        if start <= t < end:
            return occupied
    return None


def count_truth_per_frame(
    clip: dict[str, Any],
    footage: Path,
    n_frames: int,
    fps: float,
    zone_poly: np.ndarray,
    anchor: str,
) -> np.ndarray:
    """People in the queue zone per clip frame (NaN where unlabelled)."""
    truth = np.full(n_frames, np.nan)
    first = clip["frames"][0]
    if "queue_mot" in clip:
        from vision.analytics.zones import points_in_polygon

        per_frame: dict[int, list[tuple[float, float]]] = {}
        for row in csv.reader((footage / clip["queue_mot"]).read_text().splitlines()):
            frame, x, y, w, h = int(row[0]), *map(float, row[2:6])
            ax = x + w / 2
            ay = y + h if anchor == "bottom_center" else y + h / 2
            per_frame.setdefault(frame - 1, []).append((ax, ay))  # MOT frames are 1-based
        for i in range(n_frames):
            pts = np.array(per_frame.get(first + i, []), dtype=np.float32).reshape(-1, 2)
            truth[i] = int(points_in_polygon(pts, zone_poly).sum()) if len(pts) else 0
    elif "queue_per_second" in clip:
        for row in _rows(footage / clip["queue_per_second"]):
            second = float(row["video_time_s"])
            lo, hi = round(second * fps), round((second + 1) * fps)
            truth[max(0, lo - first) : max(0, hi - first)] = float(row["people_in_frame"])
    elif "queue_per_frame" in clip:
        for row in _rows(HERE / clip["queue_per_frame"]):
            lo, hi = int(row["start_frame"]) - first, int(row["end_frame"]) - first
            truth[max(0, lo) : hi + 1] = float(row["count"])
    return truth[:n_frames]


# ---------------------------------------------------------------- the two methods


def segment_clip(src: Path, frames: list[int], workdir: Path) -> tuple[Path, float, int]:
    """The clip's scene as its own file (both methods read the same bytes)."""
    import cv2

    cap = cv2.VideoCapture(str(src))
    fps = cap.get(cv2.CAP_PROP_FPS) or 25.0
    total = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
    first, last = frames
    if first == 0 and last >= total - 1 and src.suffix != ".gif":
        cap.release()
        return src, fps, total
    cap.set(cv2.CAP_PROP_POS_FRAMES, first)
    out_path = workdir / f"{src.stem}-{first}-{last}.mp4"
    writer = None
    n = 0
    for _ in range(first, last + 1):
        ok, frame = cap.read()
        if not ok:
            break
        if writer is None:
            h, w = frame.shape[:2]
            writer = cv2.VideoWriter(str(out_path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
        writer.write(frame)
        n += 1
    cap.release()
    if writer is not None:
        writer.release()
    return out_path, fps, n


def run_pipeline(video: Path, config: Any) -> Run:
    from vision.detector import build_detector
    from vision.pipeline import build_pipeline
    from vision.sources import open_source

    run = Run(timeline=True)
    t0 = time.process_time()
    detector = build_detector(config.model_options)
    run.load_s = time.process_time() - t0
    counter = next((z.id for z in config.zones if z.kind.value == "counter"), None)
    queue = next((z.id for z in config.zones if z.kind.value == "queue"), None)
    cpu0 = time.process_time()
    source = open_source(str(video), analysis_fps=config.analysis_fps, live=False)
    pipeline = None
    last_t = 0.0
    for sampled in source:
        if pipeline is None:
            h, w = sampled.image.shape[:2]
            pipeline = build_pipeline(config, (w, h), detector=detector)
        result = pipeline.process(sampled.image, sampled.t, sampled.index)
        run.times.append(sampled.t)
        run.frames.append(sampled.index)
        zones = result.record["zones"]
        if counter:
            state = zones[counter]["state"]
            run.attended.append(None if state is None else state == "attended")
        if queue:
            run.counts.append(float(zones[queue]["count"]))
        _collect_spells(run, result.events)
        last_t = sampled.t
    if pipeline is not None:
        _collect_spells(run, pipeline.finish(last_t))
    source.close()
    run.cpu_s = time.process_time() - cpu0
    run.attended_spells = _spells(run.attended, True)
    return run


def run_baseline(video: Path, config: Any, frame_size: tuple[int, int]) -> Run:
    """Plain Ultralytics: ``model.track`` on every frame at 640, anchor in polygon, no smoothing."""
    import cv2

    from vision.analytics.zones import ZoneGeometry
    from vision.detections import Detections
    from vision.detector import import_ultralytics, resolve_weights

    YOLO = import_ultralytics().YOLO
    run = Run()
    t0 = time.process_time()
    model = YOLO(str(resolve_weights(None)))
    run.load_s = time.process_time() - t0
    geoms = {z.id: ZoneGeometry(z, frame_size) for z in config.zones}
    counter = next((z.id for z in config.zones if z.kind.value == "counter"), None)
    queue = next((z.id for z in config.zones if z.kind.value == "queue"), None)
    cpu0 = time.process_time()
    cap = cv2.VideoCapture(str(video))
    fps = cap.get(cv2.CAP_PROP_FPS) or 25.0
    index = 0
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        res = model.track(frame, imgsz=640, classes=[0], persist=True, verbose=False)[0]
        boxes = res.boxes
        dets = Detections(xyxy=boxes.xyxy.cpu().numpy(), conf=boxes.conf.cpu().numpy())
        run.times.append(index / fps)
        run.frames.append(index)
        if counter:
            run.attended.append(bool(geoms[counter].member_mask(dets).any()))
        if queue:
            run.counts.append(float(geoms[queue].member_mask(dets).sum()))
        index += 1
    cap.release()
    run.cpu_s = time.process_time() - cpu0
    run.attended_spells = _spells(run.attended, True)
    run.unattended_spells = _spells(run.attended, False)
    return run


def _collect_spells(run: Run, events: list[Any]) -> None:
    for event in events:
        if event.kind.value != "counter_unattended":
            continue
        if event.phase == "start":
            run.unattended_spells += 1
            run.spells.append((event.start, None))
        else:
            run.spells = [(s, event.end) if s == event.start else (s, e) for s, e in run.spells]


def _spells(states: list[bool | None], value: bool) -> int:
    spells, prev = 0, None
    for s in states:
        if s is value and prev is not value:
            spells += 1
        prev = s
    return spells


# ---------------------------------------------------------------- scoring


def _state_at(run: Run, t: float) -> bool | None:
    """Ours: the event timeline (spells are back-dated to when the zone emptied and end when
    presence began), which is what reports use. Baseline: the raw per-frame decision at ``t``."""
    if run.timeline:
        return not any(s <= t < (float("inf") if e is None else e) for s, e in run.spells)
    i = int(np.searchsorted(np.asarray(run.times), t, side="right")) - 1
    return None if i < 0 else run.attended[i]


def score_attendance(
    run: Run, truth: list[tuple[float, float, bool]], offset_s: float, duration_s: float
) -> dict[str, Any]:
    seconds = np.arange(0.5, duration_s, 1.0)  # the middle of each whole second
    correct = total = 0
    for s in seconds:
        want = occupied_at(truth, s + offset_s)
        if want is None:
            continue
        got = _state_at(run, s)
        total += 1
        correct += int(got is not None and got == want)
    true_spells = 0
    prev = None
    for s in seconds:
        occ = occupied_at(truth, s + offset_s)
        if occ is False and prev is not False:
            true_spells += 1
        prev = occ
    return {
        "accuracy": correct / total if total else float("nan"),
        "seconds": total,
        "unattended_spells": run.unattended_spells,
        "true_spells": true_spells,
        "attended_spells": run.attended_spells,
    }


def score_counts(run: Run, truth: np.ndarray, frames: np.ndarray) -> dict[str, Any]:
    """Count MAE on ``frames`` (the frames the pipeline analysed: both methods are judged on
    the same frames; the baseline saw every frame, the pipeline those)."""
    idx = np.searchsorted(np.asarray(run.frames), frames, side="right") - 1
    want = truth[frames]
    valid = (idx >= 0) & ~np.isnan(want)
    got = np.asarray(run.counts)[idx[valid]]
    mae = float(np.mean(np.abs(got - want[valid]))) if valid.any() else float("nan")
    return {"count_mae": mae, "frames": int(valid.sum())}


# ---------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("YOLO_OFFLINE", "1")
    parser = argparse.ArgumentParser(prog="python -m vision.bench", description=__doc__)
    parser.add_argument("--footage", type=Path, default=DEFAULT_FOOTAGE)
    parser.add_argument("--clips", nargs="*", help="names from clips.yaml (default: all)")
    args = parser.parse_args(argv)
    from vision.config import parse_camera_config

    spec = yaml.safe_load((HERE / "clips.yaml").read_text(encoding="utf-8"))
    clips = [c for c in spec["clips"] if not args.clips or c["name"] in args.clips]
    if not args.footage.is_dir():
        print(
            f"footage folder {args.footage} not found; set --footage or AUDITLENS_FOOTAGE_DIR",
            file=sys.stderr,
        )
        return 2
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n, clip in enumerate(clips, 1):
            config = parse_camera_config(clip["camera"], source=f"clips.yaml {clip['name']}")
            video, fps, n_frames = segment_clip(
                args.footage / clip["video"], clip["frames"], Path(tmp)
            )
            duration = n_frames / fps
            print(
                f"[{n}/{len(clips)}] {clip['name']}: {n_frames} frames, {duration:.1f} s",
                file=sys.stderr,
                flush=True,
            )
            import cv2

            cap = cv2.VideoCapture(str(video))
            frame_size = (int(cap.get(3)), int(cap.get(4)))
            cap.release()
            ours = run_pipeline(video, config)
            judged = np.asarray(ours.frames, dtype=int)
            base = run_baseline(video, config, frame_size)
            row: dict[str, Any] = {"clip": clip["name"], "video_s": duration}
            for label, run in (("pipeline", ours), ("baseline", base)):
                metrics: dict[str, Any] = {"cpu_per_s": run.cpu_s / duration, "load_s": run.load_s}
                if "attendance" in clip:
                    offset = clip["frames"][0] / fps
                    metrics |= score_attendance(
                        run, attendance_truth(HERE / clip["attendance"]), offset, duration
                    )
                if any(k in clip for k in ("queue_mot", "queue_per_second", "queue_per_frame")):
                    zone = next(z for z in config.zones if z.id == clip["queue_zone"])
                    poly = np.asarray(zone.polygon_px(*frame_size), dtype=np.float32)
                    truth = count_truth_per_frame(
                        clip, args.footage, n_frames, fps, poly, zone.anchor.value
                    )
                    metrics |= score_counts(run, truth, judged[judged < n_frames])
                row[label] = metrics
            rows.append(row)
    print_table(rows)
    return 0


def _fmt(v: Any, pct: bool = False) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return "-"
    if pct:
        return f"{v:.1%}"
    return f"{v:.3f}" if isinstance(v, float) else str(v)


def print_table(rows: list[dict[str, Any]]) -> None:
    head = (
        f"{'clip':<18} {'video s':>7} | {'attended-state acc':>18} | {'count MAE':>13} | "
        f"{'unattended spells':>17} | {'attended spells':>15} | {'CPU s / video s':>17} | ratio"
    )
    print(head)
    print(
        f"{'':<18} {'':>7} | {'ours':>8} {'base':>9} | {'ours':>6} {'base':>6} | "
        f"{'ours':>5} {'base':>5} {'true':>5} | {'ours':>7} {'base':>7} | {'ours':>8} "
        f"{'base':>8} |"
    )
    print("-" * len(head))
    for r in rows:
        o, b = r["pipeline"], r["baseline"]
        ratio = o["cpu_per_s"] / b["cpu_per_s"] if b["cpu_per_s"] else float("nan")
        print(
            f"{r['clip']:<18} {r['video_s']:>7.1f} | {_fmt(o.get('accuracy'), True):>8} "
            f"{_fmt(b.get('accuracy'), True):>9} | {_fmt(o.get('count_mae')):>6} "
            f"{_fmt(b.get('count_mae')):>6} | {_fmt(o.get('unattended_spells')):>5} "
            f"{_fmt(b.get('unattended_spells')):>5} {_fmt(o.get('true_spells')):>5} | "
            f"{_fmt(o.get('attended_spells')):>7} {_fmt(b.get('attended_spells')):>7} | "
            f"{o['cpu_per_s']:>8.3f} {b['cpu_per_s']:>8.3f} | 1/{1 / ratio:.0f}"
        )
    print(
        "\nModel loading (CPU s, excluded above): "
        + ", ".join(
            f"{r['clip']}: ours {r['pipeline']['load_s']:.1f} / base {r['baseline']['load_s']:.1f}"
            for r in rows
        )
    )


if __name__ == "__main__":
    raise SystemExit(main())
