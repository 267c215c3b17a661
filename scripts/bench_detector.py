"""ms per frame of the person detector per backend, input size and thread count.

    YOLO_OFFLINE=1 .venv/bin/python scripts/bench_detector.py [VIDEO] [--runs 10]

Uses one frame of VIDEO (default: the cashier clip) and the model cache of ``vision.detector``.
Each configuration gets one warm-up run, then the median of ``--runs`` runs is printed: wall
time, and CPU time of this process (all its threads; less disturbed by other load on the machine).
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

os.environ.setdefault("YOLO_OFFLINE", "1")

import cv2
import numpy as np

from vision.detector import BACKENDS, UltralyticsDetector, openvino_available

DEFAULT_VIDEO = Path("/work/shared/data/footage/cashier-cctv-7eleven.mp4")


def read_frame(video: Path, index: int = 100) -> np.ndarray:
    cap = cv2.VideoCapture(str(video))
    cap.set(cv2.CAP_PROP_POS_FRAMES, index)
    ok, frame = cap.read()
    cap.release()
    if not ok:
        raise SystemExit(f"{video}: could not read frame {index}")
    return frame


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("video", nargs="?", type=Path, default=DEFAULT_VIDEO)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--sizes", type=int, nargs="+", default=[640, 320])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--backends", nargs="+", default=None)
    args = parser.parse_args()
    frame = read_frame(args.video)
    backends = args.backends or [b for b in BACKENDS if b != "openvino" or openvino_available()]
    print(f"frame {frame.shape[1]}x{frame.shape[0]}, median of {args.runs} runs")
    print(f"{'backend':<9} {'imgsz':>5} {'threads':>7} {'wall ms':>8} {'cpu ms':>7} {'persons':>7}")
    for backend in backends:
        for imgsz in args.sizes:
            for threads in args.threads:
                det = UltralyticsDetector(imgsz=imgsz, backend=backend, threads=threads)
                found = len(det.detect([frame])[0])  # warm-up
                wall, cpu = [], []
                for _ in range(args.runs):
                    t, c = time.perf_counter(), time.process_time()
                    det.detect([frame])
                    wall.append((time.perf_counter() - t) * 1000)
                    cpu.append((time.process_time() - c) * 1000)
                print(
                    f"{backend:<9} {imgsz:>5} {threads:>7} {np.median(wall):>8.1f} "
                    f"{np.median(cpu):>7.1f} {found:>7}"
                )


if __name__ == "__main__":
    main()
