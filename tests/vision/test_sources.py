"""Frame sources: sampling of real footage, and live streams that drop, stall or never open.

Live streams are served by a local MJPEG server (``multipart/x-mixed-replace``) on 127.0.0.1
whose connections follow a script: serve N frames then cut, refuse (503), or stall.
"""

from __future__ import annotations

import itertools
import random
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import cv2
import numpy as np
import pytest

from vision.analytics.events import EventKind, VisionEvent
from vision.sources import (
    SampledFrame,
    SourceError,
    is_live_spec,
    open_source,
    opencv_capture,
    redact,
)

FOOTAGE = Path(__file__).resolve().parents[3] / "shared" / "data" / "footage"
CASHIER = FOOTAGE / "cashier-cctv-7eleven.mp4"  # 640x480, 29.97 fps, 1571 frames
WORKER_GIF = FOOTAGE / "worker-zone-detection.gif"  # 480x270, 16.67 fps, 71 frames


# ---------------------------------------------------------------------------------- files


def test_mp4_sampled_at_2fps_picks_every_15th_frame_with_stream_timestamps() -> None:
    source = open_source(str(CASHIER), analysis_fps=2)
    assert source.live is False
    assert source.frame_size == (640, 480)  # known at open, before any frame
    assert source.fps == pytest.approx(29.97, abs=0.01)

    frames = list(source)

    indices = [f.index for f in frames]
    assert indices[:10] == [0, 15, 30, 45, 60, 75, 90, 105, 120, 135]
    # The frame nearest each half second: 14.985 frames apart, so steps of 15 and sometimes 14.
    assert set(np.diff(indices)) == {14, 15}
    assert indices == [round(k * 0.5 * 30000 / 1001) for k in range(len(indices))]
    for f in frames:
        assert f.t == pytest.approx(f.index * 1001 / 30000)
        assert f.image.shape == (480, 640, 3)
    # 52.4 s of video: analysis instants 0, 0.5, ... 52.0.
    assert len(frames) == 105
    assert source.frames_read == 1571  # every frame decoded
    assert source.frames_analysed == 105


def test_only_the_sampled_frames_are_retrieved() -> None:
    calls = {"grab": 0, "retrieve": 0}
    real_factory = opencv_capture()

    class Spy:
        def __init__(self, cap):
            self.cap = cap

        def isOpened(self):
            return self.cap.isOpened()

        def grab(self):
            calls["grab"] += 1
            return self.cap.grab()

        def retrieve(self):
            calls["retrieve"] += 1
            return self.cap.retrieve()

        def get(self, prop):
            return self.cap.get(prop)

        def release(self):
            self.cap.release()

    source = open_source(
        str(CASHIER),
        analysis_fps=1,
        capture_factory=lambda target, live: Spy(real_factory(target, live)),
    )
    frames = list(itertools.islice(source, 5))
    source.close()

    assert [f.index for f in frames] == [0, 30, 60, 90, 120]
    assert calls["retrieve"] == 5
    assert calls["grab"] == 121


def test_animated_gif_is_sampled_like_a_video() -> None:
    source = open_source(str(WORKER_GIF), analysis_fps=2)
    assert source.frame_size == (480, 270)
    fps = source.fps
    assert fps == pytest.approx(50 / 3)

    frames = list(source)

    # Nearest frame to each half second at 16.67 fps (8.33 frames apart).
    assert [f.index for f in frames] == [0, 8, 17, 25, 33, 42, 50, 58, 67]
    assert [f.t for f in frames] == pytest.approx([f.index / fps for f in frames])
    assert all(f.image.shape == (270, 480, 3) for f in frames)
    assert source.frames_read == 71


def test_a_looped_file_keeps_counting_frames_and_time() -> None:
    source = open_source(str(WORKER_GIF), analysis_fps=2, loop=True)
    frames = list(itertools.islice(source, 20))
    source.close()

    indices = [f.index for f in frames]
    assert indices[:9] == [0, 8, 17, 25, 33, 42, 50, 58, 67]
    assert indices[9:12] == [75, 83, 92]  # the second pass: frame 75 is the 5th of the replay
    assert all(b.t > a.t for a, b in itertools.pairwise(frames))
    assert [f.t for f in frames] == pytest.approx([i * 3 / 50 for i in indices])
    assert source.frames_read > 71


def test_realtime_replay_waits_for_each_frames_moment() -> None:
    now = [1000.0]
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    source = open_source(
        str(WORKER_GIF), analysis_fps=2, realtime=True, clock=lambda: now[0], sleep=sleep
    )
    assert source.epoch_offset == 1000.0
    frames = list(itertools.islice(source, 3))
    source.close()

    assert [f.index for f in frames] == [0, 8, 17]
    # Nothing to wait for at t=0, then until epoch_offset + t for the others.
    assert waits == pytest.approx([8 * 3 / 50, (17 - 8) * 3 / 50])
    assert now[0] == pytest.approx(1000.0 + frames[-1].t)


def test_a_missing_file_is_an_error_that_names_it(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="nope.mp4' not found"):
        open_source(str(tmp_path / "nope.mp4"), analysis_fps=2)
    (tmp_path / "junk.mp4").write_bytes(b"not a video at all")
    with pytest.raises(SourceError, match="could not be opened"):
        open_source(str(tmp_path / "junk.mp4"), analysis_fps=2)
    with pytest.raises(SourceError, match="no source"):
        open_source("  ", analysis_fps=2)


@pytest.mark.parametrize(
    ("spec", "live"),
    [
        (0, True),
        ("1", True),
        ("rtsp://cam/stream", True),
        ("http://127.0.0.1:8080/video.mjpg", True),
        ("HTTPS://cam/x", True),
        ("clips/demo.mp4", False),
        ("file:///tmp/demo.mp4", False),
        ("C:/videos/x.gif", False),
    ],
)
def test_live_or_file_is_decided_from_the_spec(spec: str | int, live: bool) -> None:
    assert is_live_spec(spec) is live


def test_stream_passwords_are_redacted_for_logs() -> None:
    assert redact("rtsp://admin:s3cret@10.0.0.5/h264") == "rtsp://admin:***@10.0.0.5/h264"
    assert redact("rtsp://10.0.0.5/h264") == "rtsp://10.0.0.5/h264"


# ---------------------------------------------------------------------------------- fakes


class FakeCapture:
    """A scripted stream: ``frames`` grabs succeed, then reads fail."""

    def __init__(self, frames: int) -> None:
        self.left = frames
        self.released = False

    def isOpened(self) -> bool:
        return True

    def grab(self) -> bool:
        if self.left <= 0:
            return False
        self.left -= 1
        return True

    def retrieve(self):
        return True, np.zeros((4, 6, 3), np.uint8)

    def get(self, prop: int) -> float:
        return {3: 6.0, 4: 4.0, 5: 10.0}.get(prop, 0.0)

    def release(self) -> None:
        self.released = True


class TickClock:
    """Each call is 0.1 s after the previous one."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        self.now += 0.1
        return self.now


def test_offline_starts_at_the_last_good_frame_and_online_ends_it() -> None:
    plan = [FakeCapture(3), None, FakeCapture(2)]  # None: the stream does not open
    opened: list[FakeCapture] = []

    def factory(target, live):
        cap = plan.pop(0) if plan else FakeCapture(0)
        if cap is None:

            class Closed(FakeCapture):
                def isOpened(self) -> bool:
                    return False

            return Closed(0)
        opened.append(cap)
        return cap

    events: list[VisionEvent] = []
    delays: list[float] = []
    clock = TickClock()
    stop = threading.Event()
    source = open_source(
        "rtsp://cam/1",
        analysis_fps=100,  # every frame
        camera_id="cam-1",
        on_event=events.append,
        stop_event=stop,
        clock=clock,
        sleep=delays.append,
        jitter=0.0,
        capture_factory=factory,
    )
    assert source.live and source.frame_size is None and source.epoch_offset == 0.0
    frames: list[SampledFrame] = []
    for frame in source:
        frames.append(frame)
        if len(frames) == 5:
            source.stop()
    source.close()

    assert len(frames) == 5
    assert source.frame_size == (6, 4)
    last_before_drop = frames[2].t
    first_after = frames[3].t
    kinds = [(e.kind, e.phase) for e in events]
    assert kinds == [
        (EventKind.camera_offline, "start"),
        (EventKind.camera_offline, "end"),
        (EventKind.camera_online, "start"),
        (EventKind.camera_online, "end"),
    ]
    offline, offline_end, online, online_end = events
    assert offline.start == last_before_drop  # "offline since the last good frame"
    assert offline.camera_id == "cam-1" and offline.zone is None
    assert offline_end.id == offline.id and offline_end.end == first_after
    assert online.start == first_after and online_end.end == first_after
    assert online.data["offline_s"] == pytest.approx(first_after - last_before_drop)
    # Drop → wait 1 s; refused → wait 2 s; then it came back.
    assert delays == [1.0, 2.0]
    assert all(c.released for c in opened)


# ---------------------------------------------------------------------------------- MJPEG


def _jpeg(i: int) -> bytes:
    img = np.full((48, 64, 3), (i * 37) % 255, np.uint8)
    ok, buf = cv2.imencode(".jpg", img)
    assert ok
    return buf.tobytes()


class MjpegServer:
    """An MJPEG stream on 127.0.0.1; connection k follows ``plans[k]`` (the last one repeats):
    ``("serve", n)`` n frames then close, ``("refuse",)`` 503, ``("stall", n)`` n frames then
    nothing while keeping the connection open."""

    def __init__(self, plans: list[tuple]) -> None:
        self.plans = plans
        self.connections = 0
        self.released = threading.Event()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                k = owner.connections
                owner.connections += 1
                plan = owner.plans[min(k, len(owner.plans) - 1)]
                if plan[0] == "refuse":
                    self.send_error(503, "camera busy")
                    return
                self.send_response(200)
                self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
                self.end_headers()
                try:
                    for i in range(plan[1]):
                        body = _jpeg(i)
                        self.wfile.write(
                            b"--frame\r\nContent-Type: image/jpeg\r\n"
                            + f"Content-Length: {len(body)}\r\n\r\n".encode()
                            + body
                            + b"\r\n"
                        )
                        self.wfile.flush()
                        if owner.released.wait(0.01):
                            return
                    if plan[0] == "stall":
                        owner.released.wait(30)
                except OSError:
                    return  # the client went away

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/stream.mjpg"

    def __enter__(self) -> MjpegServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.released.set()
        self.httpd.shutdown()
        self.httpd.server_close()


def _run_until_back_online(source, events, after_online: int = 3, bound: int = 400):
    """Iterate (bounded) until ``after_online`` frames came after camera_online."""
    frames = []
    seen_after = 0
    for frame in itertools.islice(source, bound):
        frames.append(frame)
        if any(e.kind == EventKind.camera_online for e in events):
            seen_after += 1
            if seen_after >= after_online:
                source.stop()
    source.close()
    return frames


def test_http_stream_that_drops_reconnects_and_reports_offline_then_online() -> None:
    events: list[VisionEvent] = []
    delays: list[float] = []
    stop = threading.Event()
    with MjpegServer([("serve", 6), ("refuse",), ("refuse",), ("serve", 300)]) as server:
        source = open_source(
            server.url,
            analysis_fps=10,
            camera_id="cam-http",
            on_event=events.append,
            stop_event=stop,
            clock=TickClock(),  # 0.1 s per frame: every frame is due
            sleep=delays.append,  # no real waiting; the delays are recorded
            jitter=0.0,
            open_timeout_s=5,
            read_timeout_s=5,
        )
        frames = _run_until_back_online(source, events)
        connections = server.connections

    assert source.live
    assert source.frame_size == (64, 48)
    assert [(e.kind, e.phase) for e in events] == [
        (EventKind.camera_offline, "start"),
        (EventKind.camera_offline, "end"),
        (EventKind.camera_online, "start"),
        (EventKind.camera_online, "end"),
    ]
    offline, offline_end, online, _ = events
    assert offline_end.id == offline.id
    assert offline.start <= offline_end.end == online.start
    # The frame before the drop is the offline spell's start; the first after it, its end.
    before = [f for f in frames if f.t <= offline.start]
    after = [f for f in frames if f.t >= online.start]
    assert before and before[-1].t == offline.start
    assert after and after[0].t == online.start
    assert len(after) >= 3
    # Drop, then two refusals: exponential backoff 1, 2, 4 s.
    assert delays == [1.0, 2.0, 4.0]
    assert connections == 4
    assert source.frames_read == len(frames)  # 0.1 s apart at 10 fps: all due
    assert source.online is True


def test_http_stream_that_stalls_is_a_drop_after_the_read_timeout() -> None:
    events: list[VisionEvent] = []
    delays: list[float] = []
    with MjpegServer([("stall", 4), ("serve", 300)]) as server:
        source = open_source(
            server.url,
            analysis_fps=1000,
            camera_id="cam-stall",
            on_event=events.append,
            sleep=delays.append,
            jitter=0.0,
            read_timeout_s=1.0,
        )
        _run_until_back_online(source, events)

    assert [(e.kind, e.phase) for e in events][:3] == [
        (EventKind.camera_offline, "start"),
        (EventKind.camera_offline, "end"),
        (EventKind.camera_online, "start"),
    ]
    assert events[0].data["reason"] == "read failed or timed out"
    assert delays == [1.0]


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_stream_that_never_opens_is_reported_and_retried_until_stopped() -> None:
    url = f"http://user:pw@127.0.0.1:{_closed_port()}/stream.mjpg"
    events: list[VisionEvent] = []
    delays: list[float] = []
    stop = threading.Event()

    def sleep(seconds: float) -> None:
        delays.append(seconds)
        if len(delays) == 8:
            stop.set()

    source = open_source(
        url,
        analysis_fps=2,
        camera_id="cam-dead",
        on_event=events.append,
        stop_event=stop,
        sleep=sleep,
        backoff_base_s=1.0,
        backoff_max_s=16.0,
        jitter=0.2,
        rng=random.Random(7),
        open_timeout_s=2,
    )
    frames = list(source)  # no exception: it retries until stopped

    assert frames == []
    assert source.online is False
    assert source.frame_size is None
    # One offline spell, whatever the number of attempts; ended when the source stopped.
    assert [(e.kind, e.phase) for e in events] == [
        (EventKind.camera_offline, "start"),
        (EventKind.camera_offline, "end"),
    ]
    assert events[0].data["reason"] == "could not open the stream"
    assert events[0].data["source"] == url.replace(":pw@", ":***@")
    assert events[1].data["ended_by"] == "source closed"
    # Exponential (1, 2, 4, 8, 16, 16...), each shortened by at most 20 % jitter.
    for delay, full in zip(delays, [1, 2, 4, 8, 16, 16, 16, 16], strict=True):
        assert full * 0.8 <= delay <= full
    assert len(set(delays)) == len(delays)  # jittered: cameras that dropped together spread out
