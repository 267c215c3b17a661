"""The vision worker: one thread per camera (source → pipeline → outbox) and one delivery thread.

* A camera thread opens its source, builds its pipeline at the first frame (the pipeline needs the
  frame size), and writes every event, snapshot, queue sample, completed queue wait and zone
  state to the outbox. Any exception is logged and the camera restarts with backoff; other
  cameras never notice.
* The main loop writes a health record per camera every ``health_every_s`` (it works even while a
  camera thread waits to reconnect), refetches the configs from the API when they came from it,
  and on stop: stops the cameras (their pipelines close open spells), then flushes the outbox.
* The delivery thread drains the outbox into the API (``vision.delivery``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from vision.analytics.events import VisionEvent
from vision.client import AuditLensClient, DeliveryError
from vision.config import CameraConfig
from vision.delivery import Deliverer
from vision.outbox import CameraHealth, Outbox
from vision.pipeline import CameraPipeline, FrameResult
from vision.settings import WorkerSettings
from vision.sources import FrameSource, open_source, redact

log = logging.getLogger(__name__)


class PipelineFactory(Protocol):
    """Builds one camera's pipeline for frames of ``frame_size``; ``live`` is True for a camera or
    stream (timestamps are epoch seconds, so the outlet's opening hours apply), False for a file."""

    def __call__(
        self, config: CameraConfig, frame_size: tuple[int, int], *, live: bool
    ) -> CameraPipeline: ...


SourceOpener = Callable[..., FrameSource]


class PipelineUnavailable(RuntimeError):
    """No pipeline implementation to run (``vision.pipeline.build_pipeline`` is missing)."""


def default_pipeline_factory() -> PipelineFactory:
    """``vision.pipeline.build_pipeline`` with opening hours on for live sources, or a clear error
    if the pipeline is absent."""
    from vision import pipeline

    build = getattr(pipeline, "build_pipeline", None)
    if build is None:
        raise PipelineUnavailable(
            "vision.pipeline.build_pipeline(config, frame_size) does not exist in this install, "
            "so the worker has nothing to analyse frames with; install a release that has the "
            "pipeline implementation"
        )

    def factory(config: CameraConfig, frame_size: tuple[int, int], *, live: bool) -> CameraPipeline:
        # A replayed file's timestamps are positions in the clip, not times of day: opening
        # hours would judge them as 1970, so they apply to live sources only.
        options = pipeline.PipelineOptions(use_opening_hours=live)
        return build(config, frame_size, options=options)  # type: ignore[no-any-return]

    return factory


def _config_key(config: CameraConfig) -> dict[str, Any]:
    return config.model_dump(mode="json", exclude={"generated_at"})


class CameraRunner:
    """One camera's thread. ``stop()`` then ``join()``; ``health(now)`` from any thread."""

    def __init__(
        self,
        config: CameraConfig,
        outbox: Outbox,
        pipeline_factory: PipelineFactory,
        settings: WorkerSettings,
        *,
        loop: bool = False,
        opener: SourceOpener = open_source,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self.camera_id = config.camera_id
        self.outbox = outbox
        self.pipeline_factory = pipeline_factory
        self.settings = settings
        self.loop = loop
        self.opener = opener
        self.clock = clock
        self.stop_event = threading.Event()
        self.finished = False  # a file played to its end (not looping): nothing more to do
        self.restarts = 0
        self.last_error: str | None = None
        self._source: FrameSource | None = None
        self._read_before = 0  # counters of sources replaced after an error
        self._analysed_before = 0
        self._window_start: tuple[float, int] | None = None
        self._thread = threading.Thread(
            target=self._run, name=f"camera-{self.camera_id}", daemon=True
        )

    # ------------------------------------------------------------------ control

    def start(self) -> None:
        self._window_start = (self.clock(), self.frames_analysed)
        self._thread.start()

    def stop(self) -> None:
        self.stop_event.set()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the thread; True if it ended."""
        if self._thread.ident is not None:
            self._thread.join(timeout)
        return not self._thread.is_alive()

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    # ------------------------------------------------------------------ health

    @property
    def frames_read(self) -> int:
        source = self._source
        return self._read_before + (source.frames_read if source else 0)

    @property
    def frames_analysed(self) -> int:
        source = self._source
        return self._analysed_before + (source.frames_analysed if source else 0)

    @property
    def online(self) -> bool:
        source = self._source
        if source is None or not self.alive:
            return False
        return source.online is True if source.live else True

    def health(self, now: float) -> CameraHealth:
        """Health at ``now`` (epoch s); the achieved rate is over the time since the last call."""
        analysed = self.frames_analysed
        start_t, start_n = self._window_start or (now, analysed)
        span = now - start_t
        achieved = (analysed - start_n) / span if span > 0 else 0.0
        self._window_start = (now, analysed)
        return CameraHealth(
            camera_id=self.camera_id,
            t=now,
            online=self.online,
            achieved_fps=achieved,
            configured_fps=self.config.analysis_fps,
            frames_read=self.frames_read,
            frames_analysed=analysed,
        )

    # ------------------------------------------------------------------ the thread

    def _run(self) -> None:
        attempt = 0
        while not self.stop_event.is_set():
            produced = False
            try:
                produced = self._run_source()
                if self.finished or self.stop_event.is_set():
                    return
            except Exception as exc:
                self.last_error = f"{exc.__class__.__name__}: {exc}"
                log.exception("camera %s failed; restarting it", self.camera_id)
            self.restarts += 1
            attempt = 0 if produced else attempt + 1
            delay = min(
                self.settings.reconnect_max_s,
                self.settings.reconnect_base_s * 2 ** min(attempt, 30),
            )
            self.stop_event.wait(delay)

    def _run_source(self) -> bool:
        """Play the source once; True if any frame was analysed."""
        config = self.config
        source = self.opener(
            config.source or "",
            analysis_fps=config.analysis_fps,
            loop=self.loop,
            realtime=True,  # a worker replaying a file keeps to the clock, like a camera
            camera_id=config.camera_id,
            on_event=self._put_source_event,
            stop_event=self.stop_event,
            clock=self.clock,
            open_timeout_s=self.settings.open_timeout_s,
            read_timeout_s=self.settings.read_timeout_s,
            backoff_base_s=self.settings.reconnect_base_s,
            backoff_max_s=self.settings.reconnect_max_s,
        )
        self._source = source
        pipeline: CameraPipeline | None = None
        size: tuple[int, int] | None = None
        last_t: float | None = None
        produced = False
        try:
            for frame in source:
                frame_size = (int(frame.image.shape[1]), int(frame.image.shape[0]))
                if pipeline is None or frame_size != size:
                    if pipeline is not None and last_t is not None:
                        log.warning(
                            "camera %s: frame size changed from %s to %s; restarting analysis",
                            self.camera_id,
                            size,
                            frame_size,
                        )
                        self._put_events(pipeline.finish(last_t), source)
                    size = frame_size
                    pipeline = self.pipeline_factory(config, frame_size, live=source.live)
                result = pipeline.process(frame.image, frame.t, frame.index)
                last_t = frame.t
                produced = True
                self._put_result(result, source)
            if not self.stop_event.is_set():
                self.finished = not source.live
                if self.finished:
                    log.info("camera %s: %s played to its end", self.camera_id, redact(source.spec))
        finally:
            if pipeline is not None and last_t is not None:
                try:
                    self._put_events(pipeline.finish(last_t), source)
                except Exception:
                    log.exception("camera %s: closing the pipeline failed", self.camera_id)
            source.close()
            self._read_before += source.frames_read
            self._analysed_before += source.frames_analysed
            self._source = None
        return produced

    def _put_source_event(self, event: VisionEvent) -> None:
        source = self._source
        self.outbox.put_event(event, epoch_offset=source.epoch_offset if source else 0.0)

    def _put_events(self, events: Iterable[VisionEvent], source: FrameSource) -> None:
        for event in events:
            self.outbox.put_event(event, epoch_offset=source.epoch_offset)

    def _put_result(self, result: FrameResult, source: FrameSource) -> None:
        offset = source.epoch_offset
        for event in result.events:
            self.outbox.put_event(event, result.snapshots.get(event.id), epoch_offset=offset)
        if result.samples:
            self.outbox.put_samples(result.samples, epoch_offset=offset)
        if result.waits:
            self.outbox.put_waits(result.waits, epoch_offset=offset)
        if result.states:
            self.outbox.put_states(result.states, epoch_offset=offset)


class Worker:
    """Runs cameras from ``configs`` (fixed), or from the API when ``configs`` is None
    (refetched every ``config_refresh_s``), until the stop event is set.

    ``pipeline_factory(config, frame_size)`` builds each camera's pipeline (default:
    ``vision.pipeline.build_pipeline``; ``PipelineUnavailable`` if there is none).
    """

    def __init__(
        self,
        *,
        client: AuditLensClient,
        outbox: Outbox,
        settings: WorkerSettings,
        pipeline_factory: PipelineFactory | None = None,
        configs: list[CameraConfig] | None = None,
        loop: bool = False,
        opener: SourceOpener = open_source,
        clock: Callable[[], float] = time.time,
        deliverer: Deliverer | None = None,
    ) -> None:
        self.client = client
        self.outbox = outbox
        self.settings = settings
        # Resolved now, so a missing implementation fails at start, not in every camera thread.
        self.pipeline_factory = pipeline_factory or default_pipeline_factory()
        self.static_configs = configs
        self.loop = loop
        self.opener = opener
        self.clock = clock
        self.outlet_ids: dict[str, int] = {}
        self.runners: dict[str, CameraRunner] = {}
        self.deliverer = deliverer or Deliverer(
            outbox,
            client,
            self.outlet_ids,
            clock=clock,
            batch_size=settings.delivery_batch_size,
            backoff_max_s=settings.delivery_max_backoff_s,
        )
        self._delivery_stop = threading.Event()
        self._delivery_thread: threading.Thread | None = None

    # ------------------------------------------------------------------ main loop

    def run(self, stop_event: threading.Event) -> None:
        """Block until ``stop_event`` is set (or every camera played a file to its end)."""
        self._delivery_thread = threading.Thread(target=self._deliver, name="delivery", daemon=True)
        self._delivery_thread.start()
        now = self.clock()
        next_health = now + self.settings.health_every_s
        next_fetch = now
        fetch_wait = min(5.0, self.settings.config_refresh_s)
        if self.static_configs is not None:
            self.apply_configs(self.static_configs)
            if all(self.outlet_ids.get(c) is not None for c in self.runners):
                next_fetch = float("inf")  # nothing to learn from the API
        try:
            while not stop_event.is_set():
                now = self.clock()
                if now >= next_fetch:
                    if self._refresh():
                        fetch_wait = min(5.0, self.settings.config_refresh_s)
                        next_fetch = now + self.settings.config_refresh_s
                        if self.static_configs is not None and all(
                            self.outlet_ids.get(c) is not None for c in self.runners
                        ):
                            next_fetch = float("inf")
                    else:
                        next_fetch = now + fetch_wait
                        fetch_wait = min(fetch_wait * 2, self.settings.config_refresh_s)
                if now >= next_health:
                    self.write_health(now)
                    next_health = now + self.settings.health_every_s
                if (
                    self.static_configs is not None
                    and self.runners
                    and all(r.finished and not r.alive for r in self.runners.values())
                ):
                    log.info("every camera played its file to the end; stopping")
                    break
                stop_event.wait(max(0.05, min(next_health, next_fetch, now + 1.0) - now))
        finally:
            self.shutdown()

    def _refresh(self) -> bool:
        """Fetch the configs (API mode: apply them; fixed mode: learn outlet ids). False: failed."""
        try:
            configs = self.client.fetch_cameras()
        except DeliveryError as exc:
            log.warning("could not fetch the camera configs from the API: %s", exc.message)
            return False
        if self.static_configs is None:
            self.apply_configs(configs)
        else:
            for config in configs:
                if config.outlet is not None and config.outlet.id is not None:
                    self.outlet_ids.setdefault(config.camera_id, config.outlet.id)
        return True

    def apply_configs(self, configs: list[CameraConfig]) -> None:
        """Start new cameras, restart changed ones, stop the ones gone or inactive."""
        wanted: dict[str, CameraConfig] = {}
        for config in configs:
            if not config.active:
                continue
            if not config.source:
                log.error(
                    "camera %s has no source (stream URL or file); set one to analyse it",
                    config.camera_id,
                )
                continue
            if config.camera_id in wanted:
                log.error("camera %s is configured twice; using the first", config.camera_id)
                continue
            wanted[config.camera_id] = config
            if config.outlet is not None and config.outlet.id is not None:
                self.outlet_ids[config.camera_id] = config.outlet.id
        for camera_id, runner in list(self.runners.items()):
            new = wanted.get(camera_id)
            if new is not None and _config_key(new) == _config_key(runner.config):
                continue
            log.info(
                "camera %s: %s", camera_id, "config changed, restarting" if new else "stopping"
            )
            self._stop_runner(runner)
            del self.runners[camera_id]
        for camera_id, config in wanted.items():
            if camera_id not in self.runners:
                runner = CameraRunner(
                    config,
                    self.outbox,
                    self.pipeline_factory,
                    self.settings,
                    loop=self.loop,
                    opener=self.opener,
                    clock=self.clock,
                )
                self.runners[camera_id] = runner
                log.info(
                    "camera %s: starting on %s at %s fps",
                    camera_id,
                    redact(config.source or ""),
                    config.analysis_fps,
                )
                runner.start()

    def write_health(self, now: float) -> None:
        records = [runner.health(now) for runner in list(self.runners.values())]
        if not records:
            return
        try:
            self.outbox.put_health(records)
        except Exception:  # e.g. a full disk: the cameras keep running, the next tick retries
            log.exception("could not write the health records to the outbox")

    def _stop_runner(self, runner: CameraRunner) -> None:
        runner.stop()
        if not runner.join(self.settings.read_timeout_s + 5):
            log.warning("camera %s: its thread did not stop in time", runner.camera_id)

    def _deliver(self) -> None:
        try:
            self.deliverer.run(self._delivery_stop)
        except Exception:
            log.exception("the delivery thread failed")

    # ------------------------------------------------------------------ shutdown

    def shutdown(self) -> None:
        """Write a last health record per camera (while they still run: a worker stopping is
        not a camera going offline), stop the cameras (their open spells close), stop the
        delivery thread, then try to deliver what is left."""
        self.write_health(self.clock())
        for runner in self.runners.values():
            runner.stop()
        for runner in self.runners.values():
            if not runner.join(self.settings.read_timeout_s + 5):
                log.warning("camera %s: its thread did not stop in time", runner.camera_id)
        self._delivery_stop.set()
        if self._delivery_thread is not None:
            self._delivery_thread.join(self.settings.http_timeout_s * 3 + 5)
        if self.settings.shutdown_flush_s > 0:
            try:
                self.deliverer.flush(timeout_s=self.settings.shutdown_flush_s)
            except Exception:
                log.exception("the last delivery at shutdown failed; records stay in the outbox")
