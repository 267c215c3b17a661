"""Frame sources: video files, animated GIFs and live streams, sampled at the analysis rate.

The only module of the worker that touches OpenCV's video I/O. A source decodes the stream at its
own rate (every frame is grabbed, so a live stream never falls behind its buffer) and hands out
only the frames due at the analysis rate (only those are converted to images).

Timestamps (``SampledFrame.t``, seconds):

* files and GIFs: the position in the stream, ``frame index / file fps`` (0 at the first frame;
  it keeps increasing across loops of a replayed clip);
* live streams (``rtsp://``, ``http(s)://``, a device index): the wall clock, epoch seconds.

``FrameSource.epoch_offset`` turns either into epoch seconds (``epoch_offset + t``).

A live stream that drops (a read fails or stalls past the read timeout) or never opens is reported,
never raised: the source emits a ``camera_offline`` event (starting at the last good frame),
reconnects with exponential backoff and jitter, and on recovery ends the offline event and emits a
``camera_online`` event. Events go to the ``on_event`` callback, on the iterating thread.
"""

from __future__ import annotations

import inspect
import logging
import math
import random
import threading
import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from vision import samples
from vision.analytics.events import EventKind, VisionEvent

log = logging.getLogger(__name__)

LIVE_SCHEMES = ("rtsp", "rtsps", "rtmp", "rtmps", "http", "https", "udp", "tcp", "srt")
FALLBACK_FPS = 25.0  # when a file does not declare a usable frame rate


class SourceError(RuntimeError):
    """A source that cannot be used at all (a missing or undecodable file, a bad spec)."""


@dataclass(frozen=True)
class SampledFrame:
    """A frame due for analysis: its index in the source, its time ``t`` (s) and the BGR image."""

    index: int
    t: float
    image: np.ndarray


class Capture(Protocol):
    """The part of ``cv2.VideoCapture`` a source uses (tests may pass a fake)."""

    def isOpened(self) -> bool: ...
    def grab(self) -> bool: ...
    def retrieve(self) -> tuple[bool, Any]: ...
    def get(self, prop_id: int) -> float: ...
    def release(self) -> None: ...


CaptureFactory = Callable[[str | int, bool], Capture]
EventSink = Callable[[VisionEvent], None]

# cv2 property ids (stable across OpenCV 4 and 5), so fakes need no cv2 import.
PROP_FRAME_WIDTH = 3
PROP_FRAME_HEIGHT = 4
PROP_FPS = 5
PROP_OPEN_TIMEOUT_MSEC = 53
PROP_READ_TIMEOUT_MSEC = 54


def opencv_capture(open_timeout_s: float = 10.0, read_timeout_s: float = 10.0) -> CaptureFactory:
    """A capture factory over ``cv2.VideoCapture`` (FFmpeg for files, GIFs and URLs).

    The timeouts bound how long opening, and each read of, a network stream may block.
    """

    def factory(target: str | int, live: bool) -> Capture:
        import cv2

        if isinstance(target, int):
            return cv2.VideoCapture(target)  # type: ignore[no-any-return]
        if live:
            params = [
                PROP_OPEN_TIMEOUT_MSEC,
                int(open_timeout_s * 1000),
                PROP_READ_TIMEOUT_MSEC,
                int(read_timeout_s * 1000),
            ]
            return cv2.VideoCapture(target, cv2.CAP_FFMPEG, params)  # type: ignore[no-any-return]
        return cv2.VideoCapture(target)  # type: ignore[no-any-return]

    return factory


def is_live_spec(spec: str | int) -> bool:
    """A device index or a network URL is live; anything else is a file path."""
    if isinstance(spec, int):
        return True
    text = spec.strip()
    if text.isdigit():
        return True
    scheme, sep, _ = text.partition("://")
    return bool(sep) and scheme.lower() in LIVE_SCHEMES


def _target(spec: str | int) -> str | int:
    if isinstance(spec, int):
        return spec
    text = spec.strip()
    if text.isdigit():
        return int(text)
    if text.lower().startswith("file://"):
        return text[len("file://") :]
    return text


def redact(spec: str | int) -> str:
    """The spec for logs: a URL's password is replaced by ``***``."""
    text = str(spec)
    scheme, sep, rest = text.partition("://")
    if not sep or "@" not in rest.split("/", 1)[0]:
        return text
    creds, _, host = rest.partition("@")
    user = creds.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}"


class _Sampler:
    """Picks, for each analysis instant ``k / analysis_fps``, the first frame within
    ``tolerance`` seconds before it or any frame after it; one frame per instant at most."""

    def __init__(self, analysis_fps: float, tolerance_s: float) -> None:
        self.fps = analysis_fps
        self.tolerance_s = tolerance_s
        self.next_due: float | None = None

    def due(self, t: float) -> bool:
        if self.next_due is not None and t < self.next_due - self.tolerance_s:
            return False
        # The analysis instant nearest to t, then the one after it.
        k = math.floor(t * self.fps + 0.5)
        self.next_due = (k + 1) / self.fps
        return True


class FrameSource:
    """Iterate to get ``SampledFrame``s at the analysis rate; see the module docstring.

    Iterate on one thread; ``stop()`` may be called from any thread (the iteration ends after the
    current read or backoff wait); ``close()`` releases the capture. Counters: ``frames_read``
    (decoded), ``frames_analysed`` (handed out). ``frame_size`` is (width, height) in pixels once
    the source has opened (files: at once; live streams: after the first connection).
    """

    def __init__(
        self,
        spec: str | int,
        *,
        analysis_fps: float,
        live: bool,
        loop: bool = False,
        realtime: bool = False,
        camera_id: str = "",
        on_event: EventSink | None = None,
        stop_event: threading.Event | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Any] | None = None,
        backoff_base_s: float = 1.0,
        backoff_max_s: float = 60.0,
        jitter: float = 0.2,
        rng: random.Random | None = None,
        capture_factory: CaptureFactory | None = None,
    ) -> None:
        if analysis_fps <= 0:
            raise SourceError(f"analysis_fps must be positive, got {analysis_fps}")
        self.spec = spec
        self.live = live
        self.loop = loop
        self.realtime = realtime
        self.analysis_fps = analysis_fps
        self.camera_id = camera_id
        self.frames_read = 0
        self.frames_analysed = 0
        self.frame_size: tuple[int, int] | None = None
        self.fps: float | None = None  # the source's own frame rate
        self.online: bool | None = None  # None until the first connection attempt
        self._on_event = on_event
        self._stop = stop_event or threading.Event()
        self._clock = clock
        self._sleep = sleep or self._stop.wait
        self._backoff_base_s = backoff_base_s
        self._backoff_max_s = backoff_max_s
        self._jitter = jitter
        self._rng = rng or random.Random()
        self._factory = capture_factory or opencv_capture()
        self._target = _target(spec)
        self._cap: Capture | None = None
        self._offline: VisionEvent | None = None
        self._last_good_t: float | None = None
        self._iterating = False
        self._running = False
        self._closed = False
        self._gen: Generator[SampledFrame, None, None] | None = None
        self.epoch_offset = 0.0 if live else clock()
        if not live:
            self._open_file()

    # ------------------------------------------------------------------ public

    def stop(self) -> None:
        """Make the iteration end and wake its backoff wait (sets the stop event: with a shared
        ``stop_event``, everything sharing it stops)."""
        self._stop.set()

    @property
    def stopped(self) -> bool:
        return self._closed or self._stop.is_set()

    def close(self) -> None:
        """Release the capture and end an open offline spell (the source stops watching).

        From another thread while iterating: the iterating thread releases after its current
        read (call ``stop()`` to also cut a backoff wait short).
        """
        self._closed = True
        gen = self._gen
        if gen is not None and inspect.getgeneratorstate(gen) == inspect.GEN_SUSPENDED:
            try:
                gen.close()  # runs the iteration's own cleanup, on this thread
            except ValueError:  # it resumed meanwhile on another thread: that one cleans up
                return
        if not self._running:
            self._shutdown()

    def _shutdown(self) -> None:
        self._release()
        if self._offline is not None:
            offline, self._offline = self._offline, None
            self._emit(offline.ended(self._clock(), ended_by="source closed"))

    def __iter__(self) -> Iterator[SampledFrame]:
        if self._iterating:
            raise SourceError(f"{redact(self.spec)}: a source can be iterated only once")
        self._iterating = True
        gen = self._iter_live() if self.live else self._iter_file()
        self._gen = gen
        return gen

    def __enter__(self) -> FrameSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ files

    def _open_file(self) -> None:
        target = self._target
        if isinstance(target, str) and not Path(target).is_file():
            raise SourceError(f"video file '{target}' not found; check the camera's source path")
        cap = self._factory(target, False)
        if not cap.isOpened():
            cap.release()
            raise SourceError(
                f"video file '{target}' could not be opened; is it a video or animated GIF "
                "that FFmpeg can decode?"
            )
        fps = cap.get(PROP_FPS)
        if not math.isfinite(fps) or fps <= 0 or fps > 1000:
            log.warning(
                "video file '%s' declares no usable frame rate (%s); assuming %s fps",
                target,
                fps,
                FALLBACK_FPS,
            )
            fps = FALLBACK_FPS
        self.fps = fps
        self._read_size(cap)
        self._cap = cap

    def _iter_file(self) -> Generator[SampledFrame, None, None]:
        assert self.fps is not None
        fps = self.fps
        # Nearest frame to each analysis instant: half a source frame of tolerance.
        sampler = _Sampler(self.analysis_fps, min(0.5 / fps, 0.5 / self.analysis_fps))
        first_index = 0  # index of this pass's first frame (a replayed clip keeps counting)
        self._running = True
        try:
            while not self.stopped:
                cap = self._cap
                if cap is None:
                    cap = self._factory(self._target, False)
                    if not cap.isOpened():
                        cap.release()
                        raise SourceError(f"video file '{self._target}' could not be reopened")
                    self._cap = cap
                in_pass = 0
                while not self.stopped and cap.grab():
                    index = first_index + in_pass
                    in_pass += 1
                    self.frames_read += 1
                    t = index / fps
                    if not sampler.due(t):
                        continue
                    ok, image = cap.retrieve()
                    if not ok or image is None:
                        log.warning("video file '%s': frame %d did not decode", self._target, index)
                        continue
                    if self.frame_size is None:
                        self.frame_size = (int(image.shape[1]), int(image.shape[0]))
                    if self.realtime:
                        self._pace(t)
                        if self.stopped:
                            return
                    self.frames_analysed += 1
                    yield SampledFrame(index=index, t=t, image=image)
                if self.stopped or not self.loop or in_pass == 0:
                    return
                first_index += in_pass
                self._release()  # reopen rather than seek: seeking a GIF is unreliable
        finally:
            self._running = False
            self._shutdown()

    def _pace(self, t: float) -> None:
        """Replay no faster than real time: wait until the frame's wall-clock moment."""
        wait = self.epoch_offset + t - self._clock()
        if wait > 0:
            self._sleep(wait)

    # ------------------------------------------------------------------ live streams

    def _iter_live(self) -> Generator[SampledFrame, None, None]:
        # A quarter period of tolerance: a stream at exactly the analysis rate, with jitter in
        # its arrival times, still gives one frame per analysis instant.
        sampler = _Sampler(self.analysis_fps, 0.25 / self.analysis_fps)
        attempt = 0
        self._running = True
        try:
            while not self.stopped:
                if self._cap is None:
                    cap = self._connect()
                    if cap is None:
                        self._went_offline("could not open the stream")
                        self._back_off(attempt)
                        attempt += 1
                        continue
                    self._cap = cap
                cap = self._cap
                if not cap.grab():
                    self._release()
                    if self.stopped:
                        return
                    self._went_offline("read failed or timed out")
                    self._back_off(attempt)
                    attempt += 1
                    continue
                now = self._clock()
                index = self.frames_read
                self.frames_read += 1
                if self.online is not True:
                    self._went_online(now)
                    attempt = 0
                self._last_good_t = now
                if not sampler.due(now):
                    continue
                ok, image = cap.retrieve()
                if not ok or image is None:
                    continue  # a frame that does not decode is skipped, not a drop
                self.frame_size = (int(image.shape[1]), int(image.shape[0]))
                self.frames_analysed += 1
                yield SampledFrame(index=index, t=now, image=image)
        finally:
            self._running = False
            self._shutdown()

    def _connect(self) -> Capture | None:
        try:
            cap = self._factory(self._target, True)
        except Exception as exc:  # a broken backend is reported like a closed stream
            log.warning("camera %s: opening %s raised %r", self.camera_id, redact(self.spec), exc)
            return None
        if not cap.isOpened():
            cap.release()
            return None
        fps = cap.get(PROP_FPS)
        self.fps = fps if math.isfinite(fps) and 0 < fps <= 1000 else None
        self._read_size(cap)
        return cap

    def _went_offline(self, reason: str) -> None:
        if self._offline is not None:
            log.info(
                "camera %s: %s is still offline (%s)", self.camera_id, redact(self.spec), reason
            )
            return
        start = self._last_good_t if self._last_good_t is not None else self._clock()
        self.online = False
        self._offline = VisionEvent(
            kind=EventKind.camera_offline,
            camera_id=self.camera_id,
            zone=None,
            start=start,
            data={"reason": reason, "source": redact(self.spec)},
        )
        log.warning(
            "camera %s: %s is offline (%s); reconnecting with backoff",
            self.camera_id,
            redact(self.spec),
            reason,
        )
        self._emit(self._offline)

    def _went_online(self, now: float) -> None:
        was_offline = self._offline
        self.online = True
        if was_offline is None:
            log.info("camera %s: %s is online", self.camera_id, redact(self.spec))
            return
        self._offline = None
        self._emit(was_offline.ended(now))
        offline_s = round(now - was_offline.start, 3)
        online = VisionEvent(
            kind=EventKind.camera_online,
            camera_id=self.camera_id,
            zone=None,
            start=now,
            data={"offline_s": offline_s, "offline_event": str(was_offline.id)},
        )
        # An instant: its start and its end, so nothing is left open.
        self._emit(online)
        self._emit(online.ended(now))
        log.warning(
            "camera %s: %s is back online after %.1f s offline",
            self.camera_id,
            redact(self.spec),
            offline_s,
        )

    def _back_off(self, attempt: int) -> None:
        self._sleep(self.backoff_delay(attempt))

    def backoff_delay(self, attempt: int) -> float:
        """Seconds before reconnect ``attempt`` (0-based): base × 2^attempt, at most the maximum,
        less up to ``jitter`` of it at random (so cameras that dropped together spread out)."""
        delay = min(self._backoff_max_s, self._backoff_base_s * 2 ** min(attempt, 30))
        return delay * (1.0 - self._jitter * self._rng.random())

    # ------------------------------------------------------------------ helpers

    def _read_size(self, cap: Capture) -> None:
        width, height = cap.get(PROP_FRAME_WIDTH), cap.get(PROP_FRAME_HEIGHT)
        if width > 0 and height > 0:
            self.frame_size = (int(width), int(height))

    def _release(self) -> None:
        cap, self._cap = self._cap, None
        if cap is not None:
            cap.release()

    def _emit(self, event: VisionEvent) -> None:
        if self._on_event is None:
            return
        try:
            self._on_event(event)
        except Exception:  # the sink's failure must not stop the frames
            log.exception("camera %s: the event callback failed for %s", self.camera_id, event.kind)


def open_source(
    spec: str | int,
    *,
    analysis_fps: float,
    live: bool | None = None,
    loop: bool = False,
    realtime: bool = False,
    camera_id: str = "",
    on_event: EventSink | None = None,
    stop_event: threading.Event | None = None,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], Any] | None = None,
    open_timeout_s: float = 10.0,
    read_timeout_s: float = 10.0,
    backoff_base_s: float = 1.0,
    backoff_max_s: float = 60.0,
    jitter: float = 0.2,
    rng: random.Random | None = None,
    capture_factory: CaptureFactory | None = None,
) -> FrameSource:
    """A frame source for a file path, a URL or a device index, sampled at ``analysis_fps``.

    ``live=None`` decides from the spec (URLs and device indexes are live). ``loop`` replays a
    file forever; ``realtime`` paces a file at its own speed (for a worker replaying a clip).
    ``sleep`` (default: wait on ``stop_event``) and ``clock`` (epoch seconds) are injectable.
    Raises ``SourceError`` for a file that is missing or does not decode; a live stream never
    raises here (it is opened, and retried, while iterating).
    """
    if isinstance(spec, str) and not spec.strip():
        raise SourceError("the camera has no source; set a file path or a stream URL")
    if samples.is_sample_spec(spec):
        try:
            spec = str(samples.resolve(str(spec)))
        except samples.UnknownSample as exc:
            raise SourceError(str(exc)) from None
    return FrameSource(
        spec,
        analysis_fps=analysis_fps,
        live=is_live_spec(spec) if live is None else live,
        loop=loop,
        realtime=realtime,
        camera_id=camera_id,
        on_event=on_event,
        stop_event=stop_event,
        clock=clock,
        sleep=sleep,
        backoff_base_s=backoff_base_s,
        backoff_max_s=backoff_max_s,
        jitter=jitter,
        rng=rng,
        capture_factory=capture_factory or opencv_capture(open_timeout_s, read_timeout_s),
    )
