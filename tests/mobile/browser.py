"""Helpers for the phone app's browser tests: a live server in a thread and Debian's Chromium.

Playwright drives ``/usr/bin/chromium`` (Debian's package; ``playwright install`` is not used).
In CI (``CI`` set) a missing browser fails the tests; elsewhere they skip and say why.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import uvicorn

CHROMIUM = os.environ.get("AUDITLENS_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts" / "mobile"
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}


def require_chromium() -> str:
    """The browser's path; fails in CI and skips elsewhere when it (or Playwright) is missing."""
    problem = None
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        problem = "Playwright is not installed (pip install -e '.[dev]')"
    if problem is None and not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        problem = (
            f"Chromium not found at {CHROMIUM}: run scripts/install.sh "
            "(apt-get install -y --no-install-recommends chromium)"
        )
    if problem:
        if os.environ.get("CI", "").lower() not in ("", "0", "false", "no"):
            pytest.fail(f"browser tests cannot run in CI: {problem}", pytrace=False)
        pytest.skip(f"browser tests need a browser: {problem}")
    return CHROMIUM


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveServer:
    """Uvicorn serving ``app`` on a free loopback port, in a daemon thread."""

    def __init__(self, app: Any) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the live server did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)


def small_jpeg(width: int = 640, height: int = 480) -> bytes:
    """A real JPEG (a gradient with a few shapes) made with OpenCV."""
    import cv2
    import numpy as np

    x = np.linspace(0, 255, width, dtype=np.uint8)
    y = np.linspace(0, 255, height, dtype=np.uint8)
    img = np.zeros((height, width, 3), dtype=np.uint8)
    img[..., 0] = x[None, :]
    img[..., 1] = y[:, None]
    img[..., 2] = 128
    cv2.rectangle(img, (40, 40), (width // 2, height // 2), (0, 0, 255), -1)
    cv2.circle(img, (width * 3 // 4, height * 2 // 3), min(width, height) // 6, (255, 255, 255), -1)
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 90])
    assert ok
    return buf.tobytes()


def artifact(name: str) -> str:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return str(ARTIFACTS / name)


def clean_artifacts(prefix: str) -> None:
    if ARTIFACTS.exists():
        for p in ARTIFACTS.glob(f"{prefix}*"):
            if p.is_file():
                p.unlink()
            else:
                shutil.rmtree(p)
