"""``python -m vision analyze VIDEO --config CAMERA.yaml --output OUT.jsonl [--fps F]``.

Offline: needs no API. One JSON object per line: a ``frame`` record per analysed frame, an
``event`` record per event start and end, and a ``summary`` last. A progress bar on stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any, TextIO

from vision.analytics.events import VisionEvent
from vision.config import ConfigError, load_camera_configs
from vision.pipeline import PipelineOptions, build_pipeline
from vision.sources import SourceError, open_source


def event_record(event: VisionEvent, evidence: str | None = None) -> dict[str, Any]:
    record: dict[str, Any] = {
        "type": "event",
        "kind": event.kind.value,
        "zone": event.zone,
        "start": round(event.start, 3),
        "end": None if event.end is None else round(event.end, 3),
        "phase": event.phase,
        "id": str(event.id),
        **event.data,
    }
    if evidence:
        record["snapshot"] = evidence
    return record


class Progress:
    """A one-line progress bar on stderr (only when it is a terminal, or when forced)."""

    def __init__(self, total: int | None, stream: TextIO = sys.stderr, force: bool = False):
        self.total = total
        self.stream = stream
        self.enabled = force or stream.isatty()
        self._last = 0.0

    def update(self, done: int, analysed: int) -> None:
        now = time.monotonic()
        if not self.enabled or (now - self._last < 0.2 and done != self.total):
            return
        self._last = now
        if self.total:
            frac = min(1.0, done / self.total)
            bar = "#" * int(frac * 30)
            self.stream.write(
                f"\ranalyze [{bar:<30}] {frac:6.1%} frame {done}/{self.total} analysed {analysed}"
            )
        else:
            self.stream.write(f"\ranalyze frame {done} analysed {analysed}")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()


def analyze(
    video: str,
    config_path: Path,
    output: Path,
    *,
    fps: float | None = None,
    snapshots_dir: Path | None = None,
    options: PipelineOptions | None = None,
    progress: bool | None = None,
) -> dict[str, Any]:
    """Analyse a video file; writes JSON lines to ``output`` and returns the summary."""
    configs = load_camera_configs(config_path)
    if len(configs) != 1:
        raise ConfigError(f"{config_path}: analyze takes one camera, found {len(configs)}")
    config = configs[0]
    if fps is not None:
        config = config.model_copy(update={"analysis_fps": fps})
    wall0, cpu0 = time.perf_counter(), time.process_time()
    source = open_source(
        video, analysis_fps=config.analysis_fps, live=False, camera_id=config.camera_id
    )
    total = None
    try:
        import cv2

        cap = cv2.VideoCapture(video)
        total = int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) or None
        cap.release()
    except Exception:  # a count is only for the progress bar
        total = None
    bar = Progress(total, force=bool(progress))
    if progress is False:
        bar.enabled = False
    pipeline = None
    last_t = 0.0
    if snapshots_dir:
        snapshots_dir.mkdir(parents=True, exist_ok=True)
    output.parent.mkdir(parents=True, exist_ok=True)
    with output.open("w", encoding="utf-8") as out:

        def emit(record: dict[str, Any]) -> None:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")

        def emit_events(events: list[VisionEvent], shots: dict[Any, bytes]) -> None:
            for event in events:
                path = None
                if snapshots_dir and event.id in shots and event.phase == "start":
                    target = snapshots_dir / f"{event.kind.value}-{event.zone}-{event.id}.jpg"
                    target.write_bytes(shots[event.id])
                    path = str(target)
                emit(event_record(event, path))

        for sampled in source:
            if pipeline is None:
                h, w = sampled.image.shape[:2]
                pipeline = build_pipeline(config, (w, h), options=options)
            result = pipeline.process(sampled.image, sampled.t, sampled.index)
            emit(result.record)
            emit_events(result.events, result.snapshots)
            last_t = sampled.t
            bar.update(source.frames_read, source.frames_analysed)
        if pipeline is not None:
            emit_events(pipeline.finish(last_t), {})
        summary = {
            "type": "summary",
            "frames_read": source.frames_read,
            "frames_analysed": source.frames_analysed,
            "cpu_s": round(time.process_time() - cpu0, 3),
            "wall_s": round(time.perf_counter() - wall0, 3),
        }
        emit(summary)
    bar.close()
    source.close()
    return summary


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("YOLO_OFFLINE", "1")
    parser = argparse.ArgumentParser(prog="python -m vision analyze", description=__doc__)
    parser.add_argument("video", help="video file (mp4, avi, gif, ...)")
    parser.add_argument("--config", required=True, type=Path, help="camera YAML")
    parser.add_argument("--output", required=True, type=Path, help="JSON lines file to write")
    parser.add_argument("--fps", type=float, help="analysis rate (default: the config's)")
    parser.add_argument("--snapshots", type=Path, help="folder for evidence JPEGs")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    if args.fps is not None and not 0 < args.fps <= 30:
        parser.error("--fps must be within (0, 30]")
    try:
        summary = analyze(
            args.video,
            args.config,
            args.output,
            fps=args.fps,
            snapshots_dir=args.snapshots,
            progress=False if args.no_progress else None,
        )
    except (ConfigError, SourceError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(summary), file=sys.stderr)
    return 0
