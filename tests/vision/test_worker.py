"""The worker: camera threads with a fake pipeline, isolation of a bad camera, configs from the
API, health records, and the CLI (including a clean stop on SIGTERM)."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.vision.test_delivery import FakeClient
from vision import cli
from vision.analytics.events import EventKind, QueueSample, VisionEvent
from vision.client import DeliveryError
from vision.config import CameraConfig, parse_camera_config
from vision.outbox import Outbox
from vision.pipeline import CameraPipeline, FrameResult, ZoneState
from vision.settings import WorkerSettings
from vision.sources import open_source
from vision.worker import Worker

FOOTAGE = Path(__file__).resolve().parents[3] / "shared" / "data" / "footage"
GIF = FOOTAGE / "people-detection.gif"  # 480x270, 12.5 fps, 23 frames (1.84 s)
ROOT = Path(__file__).resolve().parents[2]


class FakePipeline(CameraPipeline):
    """Opens an 'unattended' spell (with a snapshot) on its first frame, a queue sample and a
    zone state on every frame; ``finish`` closes the spell."""

    created: list[FakePipeline] = []

    def __init__(
        self,
        config: CameraConfig,
        frame_size: tuple[int, int],
        *,
        live: bool = False,
        options: object = None,  # what build_pipeline also takes, for the subprocess test
    ) -> None:
        self.camera = config.camera_id
        self.live = live
        self.frame_size = frame_size
        self.frames: list[tuple[int, float]] = []
        self.spell: VisionEvent | None = None
        self.finished_at: float | None = None
        FakePipeline.created.append(self)

    def process(self, frame_bgr, t: float, frame_index: int) -> FrameResult:
        assert frame_bgr.shape[:2] == (self.frame_size[1], self.frame_size[0])
        self.frames.append((frame_index, t))
        result = FrameResult(frame=frame_index, t=t, record={"frame": frame_index})
        if self.spell is None:
            self.spell = VisionEvent(
                kind=EventKind.counter_unattended, camera_id=self.camera, zone="till-1", start=t
            )
            result.events.append(self.spell)
            result.snapshots[self.spell.id] = b"\xff\xd8fake\xff\xd9"
        result.samples.append(QueueSample(self.camera, "queue-1", t, 1, 1.0, 0.0))
        result.states.append(ZoneState(self.camera, "till-1", "unattended", self.spell.start, 0, t))
        return result

    def finish(self, t: float) -> list[VisionEvent]:
        self.finished_at = t
        return [self.spell.ended(t)] if self.spell else []


def config(camera_id: str, source: str, *, fps: float = 5.0, outlet_id: int | None = 7):
    return parse_camera_config(
        {
            "camera_id": camera_id,
            "source": source,
            "analysis_fps": fps,
            "outlet": {"id": outlet_id} if outlet_id else None,
            "zones": [
                {
                    "id": "till-1",
                    "kind": "counter",
                    "units": "relative",
                    "polygon": [[0.1, 0.1], [0.5, 0.1], [0.5, 0.5]],
                },
                {
                    "id": "queue-1",
                    "kind": "queue",
                    "units": "relative",
                    "polygon": [[0.5, 0.5], [0.9, 0.5], [0.9, 0.9]],
                },
            ],
        }
    )


def settings(**kw: Any) -> WorkerSettings:
    base = dict(
        token="alw_test",
        health_every_s=0.05,
        config_refresh_s=0.05,
        reconnect_base_s=0.01,
        reconnect_max_s=0.05,
        open_timeout_s=2,
        read_timeout_s=2,
        shutdown_flush_s=5,
    )
    return WorkerSettings(**{**base, **kw})


def fast_files(spec, **kw):
    """The real source, without real-time pacing (the tests need not wait for the clip)."""
    return open_source(spec, **{**kw, "realtime": False})


def wait_for(condition, bound: int = 3000) -> None:
    """Bounded polling: up to ``bound`` short waits (a hang bound, not a timing assertion)."""
    pause = threading.Event()
    for _ in range(bound):
        if condition():
            return
        pause.wait(0.01)
    raise AssertionError("condition not reached")


def run_in_thread(worker: Worker, stop: threading.Event) -> threading.Thread:
    thread = threading.Thread(target=worker.run, args=(stop,), daemon=True)
    thread.start()
    return thread


@pytest.fixture(autouse=True)
def _fresh_pipelines():
    FakePipeline.created = []


@pytest.fixture
def outbox(tmp_path: Path):
    box = Outbox(tmp_path / "outbox.db")
    yield box
    box.close()


def test_a_file_camera_runs_to_the_end_and_everything_is_delivered(outbox: Outbox) -> None:
    client = FakeClient()
    worker = Worker(
        client=client,  # type: ignore[arg-type]
        outbox=outbox,
        settings=settings(),
        pipeline_factory=FakePipeline,
        configs=[config("cam-1", str(GIF))],
        opener=fast_files,
    )
    thread = run_in_thread(worker, threading.Event())
    thread.join(60)
    assert not thread.is_alive()  # a fixed set of files that all ended: the worker stops

    (pipeline,) = FakePipeline.created
    assert pipeline.frame_size == (480, 270)
    assert pipeline.live is False  # a file: its timestamps are clip positions
    # 5 fps over 1.84 s of GIF: the instants 0, 0.2, ... 1.8.
    assert len(pipeline.frames) == 10
    events = client.posted("events")
    assert [(e["kind"], e["phase"]) for e in events] == [
        ("counter_unattended", "start"),
        ("counter_unattended", "end"),
    ]
    assert events[0]["evidence_id"] is not None and len(client.uploads) == 1
    assert len(client.posted("samples")) == 10 and len(client.posted("states")) == 10
    health = client.posted("health")
    assert health and health[-1]["camera_id"] == "cam-1"
    assert health[-1]["configured_fps"] == 5.0
    assert health[-1]["frames_analysed"] == 10 and health[-1]["frames_read"] == 23
    assert outbox.count() == 0


class Exploding:
    """A source that fails as soon as it is read."""

    live = True
    frames_read = frames_analysed = 0
    online = None
    epoch_offset = 0.0
    spec = "rtsp://bad"

    def __iter__(self):
        raise RuntimeError("decoder exploded")

    def close(self) -> None:
        pass


def test_one_bad_camera_never_stops_another(outbox: Outbox) -> None:
    client = FakeClient()
    opened = {"bad": 0}

    def opener(spec, **kw):
        if spec == "rtsp://bad":
            opened["bad"] += 1
            return Exploding()
        return fast_files(spec, **kw)

    stop = threading.Event()
    worker = Worker(
        client=client,  # type: ignore[arg-type]
        outbox=outbox,
        settings=settings(),
        pipeline_factory=FakePipeline,
        configs=[config("cam-bad", "rtsp://bad"), config("cam-good", str(GIF), fps=5)],
        opener=opener,
    )
    thread = run_in_thread(worker, stop)
    wait_for(
        lambda: (
            "cam-good" in worker.runners
            and worker.runners["cam-good"].finished
            and opened["bad"] >= 3
        )
    )
    wait_for(lambda: any(h["camera_id"] == "cam-bad" for h in client.posted("health")))
    stop.set()
    thread.join(30)
    assert not thread.is_alive()

    assert "decoder exploded" in (worker.runners["cam-bad"].last_error or "")
    assert worker.runners["cam-bad"].restarts >= 3
    (pipeline,) = FakePipeline.created
    assert pipeline.camera == "cam-good" and len(pipeline.frames) == 10
    assert {e["camera_id"] for e in client.posted("events")} == {"cam-good"}
    bad_health = [h for h in client.posted("health") if h["camera_id"] == "cam-bad"]
    assert bad_health and all(h["online"] is False for h in bad_health)


def test_a_pipeline_error_restarts_the_camera_and_closes_its_spell(outbox: Outbox) -> None:
    client = FakeClient()

    class Flaky(FakePipeline):
        def process(self, frame_bgr, t, frame_index):
            if len(FakePipeline.created) == 1 and len(self.frames) == 3:
                raise ValueError("tracker blew up")
            return super().process(frame_bgr, t, frame_index)

    worker = Worker(
        client=client,  # type: ignore[arg-type]
        outbox=outbox,
        settings=settings(),
        pipeline_factory=Flaky,
        configs=[config("cam-1", str(GIF))],
        opener=fast_files,
    )
    thread = run_in_thread(worker, threading.Event())
    thread.join(60)
    assert not thread.is_alive()

    first, second = FakePipeline.created
    assert first.finished_at is not None  # its open spell was closed, not left dangling
    assert len(second.frames) == 10  # the restarted camera played the clip again
    assert worker.runners["cam-1"].restarts == 1
    phases = [(e["id"], e["phase"]) for e in client.posted("events")]
    assert [p for _, p in phases] == ["start", "end", "start", "end"]


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_camera_that_never_connects_is_reported_offline(outbox: Outbox) -> None:
    client = FakeClient()
    url = f"http://127.0.0.1:{_closed_port()}/video.mjpg"
    stop = threading.Event()
    worker = Worker(
        client=client,  # type: ignore[arg-type]
        outbox=outbox,
        settings=settings(),
        pipeline_factory=FakePipeline,
        configs=[config("cam-dead", url)],
    )
    thread = run_in_thread(worker, stop)
    wait_for(lambda: any(e["kind"] == "camera_offline" for e in client.posted("events")))
    wait_for(lambda: len(client.posted("health")) >= 2)
    stop.set()
    thread.join(30)
    assert not thread.is_alive()

    offline = [e for e in client.posted("events") if e["kind"] == "camera_offline"]
    assert [e["phase"] for e in offline] == ["start", "end"]  # ended when the worker stopped
    assert offline[0]["zone"] is None and offline[0]["camera_id"] == "cam-dead"
    assert all(h["online"] is False for h in client.posted("health"))
    assert FakePipeline.created == []


def test_configs_come_from_the_api_and_follow_its_changes(outbox: Outbox) -> None:
    client = FakeClient()
    served: list[Any] = [
        DeliveryError("GET /vision/workers/me/cameras: ConnectError", retryable=True),
        [config("cam-a", str(GIF), outlet_id=7)],
    ]

    def fetch_cameras():
        item = served[0] if len(served) == 1 else served.pop(0)
        if isinstance(item, Exception):
            raise item
        return item

    client.fetch_cameras = fetch_cameras  # type: ignore[attr-defined]
    stop = threading.Event()
    worker = Worker(
        client=client,  # type: ignore[arg-type]
        outbox=outbox,
        settings=settings(),
        pipeline_factory=FakePipeline,
        configs=None,
        loop=True,
        opener=fast_files,
    )
    thread = run_in_thread(worker, stop)
    wait_for(lambda: "cam-a" in worker.runners and FakePipeline.created)
    assert worker.outlet_ids == {"cam-a": 7}

    served[:] = [[config("cam-b", str(GIF), outlet_id=8)]]  # cam-a unassigned, cam-b new
    wait_for(lambda: set(worker.runners) == {"cam-b"} and len(FakePipeline.created) >= 2)
    stop.set()
    thread.join(30)
    assert not thread.is_alive()
    cams = {e["camera_id"] for e in client.posted("events")}
    assert cams == {"cam-a", "cam-b"}
    # cam-a's spell was closed when it was stopped.
    a = [e["phase"] for e in client.posted("events") if e["camera_id"] == "cam-a"]
    assert a == ["start", "end"]


def _rect(x0: float, y0: float, x1: float, y1: float) -> list[list[float]]:
    return [[x0, y0], [x1, y0], [x1, y1], [x0, y1]]


# The demo's sample camera (audit_service/demo/seed.py): the bundled clip, replayed in a loop; in
# each 4.3 s loop a person walks from counter C1's staff side into its queue area.
DEMO_SAMPLE_CAMERA = {
    "camera_id": "DEMO-cam-sample",
    "source": "sample:worker-zone-detection.gif",
    "analysis_fps": 4.0,
    "outlet": {"id": 7},
    "zones": [
        {
            "id": "c1-staff-sample",
            "kind": "counter",
            "units": "relative",
            "polygon": _rect(0.5, 0.1, 0.95, 1.0),
            "anchor": "center",
            "min_presence_s": 0.2,
            "unattended_after_s": 1.0,
        },
        {
            "id": "c1-queue-sample",
            "kind": "queue",
            "units": "relative",
            "polygon": _rect(0.1, 0.3, 0.5, 1.0),
            "anchor": "bottom_center",
            "max_queue": 1,
            "wait_sla_s": 2.0,
        },
    ],
}


def test_a_replayed_clip_ships_completed_queue_waits_with_wall_clock_times(
    outbox: Outbox,
) -> None:
    """``make demo``'s path: a worker replaying the sample clip in a loop, real pipeline."""
    from datetime import datetime

    from vision.worker import default_pipeline_factory

    client = FakeClient()
    started = time.time()
    stop = threading.Event()
    worker = Worker(
        client=client,  # type: ignore[arg-type]
        outbox=outbox,
        settings=settings(),
        pipeline_factory=default_pipeline_factory(),
        configs=[parse_camera_config(DEMO_SAMPLE_CAMERA)],
        loop=True,
        opener=fast_files,
    )
    thread = run_in_thread(worker, stop)
    wait_for(lambda: client.posted("waits"), bound=60_000)  # a hang bound, not a timing test
    stop.set()
    thread.join(60)
    assert not thread.is_alive()

    first = client.posted("waits")[0]
    assert set(first) == {"camera_id", "zone", "track_id", "joined", "left", "wait_s", "sla_s"}
    assert (first["camera_id"], first["zone"], first["sla_s"]) == (
        "DEMO-cam-sample",
        "c1-queue-sample",
        2.0,
    )
    assert isinstance(first["track_id"], int) and first["track_id"] >= 0
    joined, left = datetime.fromisoformat(first["joined"]), datetime.fromisoformat(first["left"])
    assert joined.utcoffset() is not None and left >= joined
    # Wall-clock times (the replay's start plus the clip position), not clip positions.
    assert joined.timestamp() >= started - 1
    assert first["wait_s"] == pytest.approx((left - joined).total_seconds(), abs=1e-3)


# ---------------------------------------------------------------------------------- CLI


def test_analyze_is_delegated_and_reports_when_missing(monkeypatch, capsys) -> None:
    monkeypatch.setitem(sys.modules, "vision.analyze", None)  # as if the module did not exist
    assert cli.main(["analyze", "clip.mp4", "--config", "cam.yaml"]) == 2
    assert "vision/analyze.py is missing" in capsys.readouterr().err

    seen = []

    class FakeAnalyze:
        @staticmethod
        def main(argv):
            seen.append(argv)
            return 0

    monkeypatch.setitem(sys.modules, "vision.analyze", FakeAnalyze)
    assert cli.main(["analyze", "clip.mp4", "--output", "o.jsonl"]) == 0
    assert seen == [["clip.mp4", "--output", "o.jsonl"]]


def test_run_explains_a_missing_pipeline_or_token_or_bad_config(
    monkeypatch, capsys, tmp_path: Path
) -> None:
    import vision.pipeline

    monkeypatch.delenv("AUDITLENS_VISION_TOKEN", raising=False)
    monkeypatch.delattr(vision.pipeline, "build_pipeline", raising=False)
    good = tmp_path / "cam.yaml"
    good.write_text(yaml.safe_dump(config("cam-1", str(GIF)).model_dump(mode="json")))
    common = ["--api", "http://127.0.0.1:9", "--outbox", str(tmp_path / "o.db")]

    assert cli.main(["run", "--config", str(good), *common]) == 2
    assert "no worker token" in capsys.readouterr().err

    assert cli.main(["run", "--config", str(good), "--token", "alw_x", *common]) == 2
    assert "build_pipeline" in capsys.readouterr().err

    bad = tmp_path / "bad.yaml"
    bad.write_text("camera_id: x\nzones: []\n")
    assert cli.main(["run", "--config", str(bad), "--token", "alw_x", *common]) == 2
    assert "bad.yaml" in capsys.readouterr().err


def test_sigterm_stops_the_worker_cleanly_and_keeps_the_outbox(tmp_path: Path) -> None:
    cam = tmp_path / "cam.yaml"
    cam.write_text(yaml.safe_dump(config("cam-1", str(GIF)).model_dump(mode="json")))
    outbox_path = tmp_path / "outbox.db"
    script = textwrap.dedent(
        f"""
        import sys
        import vision.pipeline
        from tests.vision.test_worker import FakePipeline
        vision.pipeline.build_pipeline = FakePipeline
        from vision.cli import main
        sys.exit(main(["run", "--config", {str(cam)!r}, "--loop",
                       "--api", "http://127.0.0.1:{_closed_port()}", "--token", "alw_x",
                       "--outbox", {str(outbox_path)!r}, "--log-level", "WARNING"]))
        """
    )
    env = {
        **os.environ,
        "AUDITLENS_VISION_HEALTH_EVERY_S": "0.2",
        "AUDITLENS_VISION_SHUTDOWN_FLUSH_S": "1",
        "PYTHONPATH": str(ROOT),
    }
    proc = subprocess.Popen(
        [sys.executable, "-c", script], cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True
    )
    try:

        def started() -> bool:
            if proc.poll() is not None:
                raise AssertionError(f"the worker exited early: {proc.stderr.read()}")
            if not outbox_path.exists():
                return False
            # Plain SQLite, read-only: a second Outbox would be a second writer.
            with closing(sqlite3.connect(f"file:{outbox_path}?mode=ro", uri=True)) as db:
                try:
                    kinds = {k for (k,) in db.execute("SELECT kind FROM records")}
                except sqlite3.OperationalError:  # the tables are not created yet
                    return False
            return {"event", "health"} <= kinds

        wait_for(started)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err

    box = Outbox(outbox_path)
    records = box.pending("cam-1", 10_000)
    assert box.dead_letters() == []
    box.close()
    events = [(r.payload["kind"], r.payload["phase"]) for r in records if r.kind == "event"]
    # The API was down: everything is still in the outbox, the open spell closed at shutdown.
    assert events[0] == ("counter_unattended", "start"), err
    assert events[-1] == ("counter_unattended", "end")
    health = [r.payload for r in records if r.kind == "health"]
    # The last record, written as the worker stopped: stopping the worker is not the camera
    # going offline.
    assert health[-1]["online"] is True


def test_default_factory_applies_opening_hours_to_live_sources_only() -> None:
    from vision.worker import default_pipeline_factory

    factory = default_pipeline_factory()
    cam = config("cam-1", str(GIF), fps=2)
    assert factory(cam, (480, 270), live=True).options.use_opening_hours is True
    assert factory(cam, (480, 270), live=False).options.use_opening_hours is False
