"""Cameras, their zones, and the configuration a vision worker fetches."""

from __future__ import annotations

import enum
from collections import Counter as Tally
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from audit_service.cameras.geometry import MAX_POINTS, polygon_problem
from audit_service.core.types import DbId
from audit_service.models.cameras import Anchor, ZoneKind
from audit_service.organisation.schemas import HoursExceptionRead, WeeklyHours

CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
MAX_FPS = 30.0
MAX_ZONES = 64
MAX_URL_LENGTH = 2000


def _fail(message: str) -> PydanticCustomError:
    # The message goes through the context so braces in it are never read as placeholders.
    return PydanticCustomError("value_error", "{reason}", {"reason": message})


# ---------------------------------------------------------------- cameras


class Backend(enum.StrEnum):
    torch = "torch"
    onnx = "onnx"


class ModelOptions(BaseModel):
    """Detector settings passed to the vision worker; unknown keys are refused."""

    model_config = ConfigDict(extra="forbid")
    imgsz: int = Field(
        640, ge=32, le=4096, description="Inference image size in pixels, a multiple of 32"
    )
    conf: float = Field(0.25, gt=0, lt=1, description="Detection confidence threshold")
    iou: float = Field(0.7, gt=0, lt=1, description="Non-maximum suppression IoU threshold")
    backend: Backend = Field(Backend.torch, description="Inference runtime: torch | onnx")

    @field_validator("imgsz")
    @classmethod
    def _stride(cls, value: int) -> int:
        if value % 32:
            nearest = max(32, round(value / 32) * 32)
            raise _fail(f"imgsz must be a multiple of 32 (the model stride), e.g. {nearest}")
        return value


def _check_stream_url(value: str | None) -> str | None:
    # Never echo the value: stream URLs carry camera passwords.
    if value is None:
        return None
    value = value.strip()
    scheme, sep, rest = value.partition("://")
    if (
        not sep
        or not rest
        or not scheme
        or not scheme[0].isalpha()
        or not all(c.isalnum() or c in "+.-" for c in scheme)
        or any(c.isspace() for c in value)
    ):
        raise _fail(
            "stream_url must be a URL such as rtsp://user:password@host:554/stream "
            "(scheme://..., no spaces)"
        )
    return value


StreamUrl = Annotated[
    str | None,
    Field(
        max_length=MAX_URL_LENGTH,
        description="Stream URL (e.g. rtsp://...); stored encrypted, shown only to callers "
        "with camera:secret",
    ),
    AfterValidator(_check_stream_url),
]


class CameraCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    outlet_id: DbId
    code: str = Field(
        pattern=CODE_PATTERN, description="The vision worker's camera_id, e.g. 'outlet-07-cam-2'"
    )
    name: str = Field("", max_length=200)
    stream_url: StreamUrl = None
    analysis_fps: float = Field(2.0, gt=0, le=MAX_FPS, description="Frames analysed per second")
    model_options: ModelOptions = Field(default_factory=ModelOptions)
    blur_faces: bool = Field(True, description="Blur faces in stored frames and evidence")
    active: bool = True


class CameraUpdate(BaseModel):
    """Only the fields given change. ``stream_url: null`` removes the stored URL;
    ``model_options`` is merged into the stored options. A camera cannot move to another
    outlet (its zones point at that outlet's counters): create a new one instead."""

    model_config = ConfigDict(extra="forbid")
    code: str | None = Field(None, pattern=CODE_PATTERN)
    name: str | None = Field(None, max_length=200)
    stream_url: StreamUrl = None
    analysis_fps: float | None = Field(None, gt=0, le=MAX_FPS)
    model_options: ModelOptions | None = None
    blur_faces: bool | None = None
    active: bool | None = None


class CameraRead(BaseModel):
    id: int
    outlet_id: int
    code: str
    name: str
    stream_url: str | None = Field(description="null unless the caller has camera:secret")
    has_stream_url: bool
    analysis_fps: float
    model_options: ModelOptions
    blur_faces: bool
    active: bool
    created_at: datetime
    updated_at: datetime


# ---------------------------------------------------------------- zones

# Defaults and bounds of the per-kind thresholds: (kind it applies to, default, low, low
# inclusive, high, unit).
THRESHOLDS: dict[str, tuple[ZoneKind, float, float, bool, float, str]] = {
    "min_presence_s": (ZoneKind.counter, 2.0, 0.0, True, 600.0, " seconds"),
    "unattended_after_s": (ZoneKind.counter, 60.0, 0.0, False, 86_400.0, " seconds"),
    "max_queue": (ZoneKind.queue, 5, 1, True, 1000, " people"),
    "wait_sla_s": (ZoneKind.queue, 600.0, 0.0, False, 86_400.0, " seconds"),
}
DEFAULT_ANCHOR = {ZoneKind.counter: Anchor.center, ZoneKind.queue: Anchor.bottom_center}


def _zone_name(info: ValidationInfo) -> str:
    code = info.data.get("code")
    return f"zone '{code}'" if code else "zone (with an invalid code)"


class ZoneIn(BaseModel):
    """One zone. Thresholds left out (or null) take the default of the zone's kind."""

    model_config = ConfigDict(extra="forbid")
    code: str = Field(pattern=CODE_PATTERN, description="Zone id, unique per camera: 'till-1'")
    kind: ZoneKind = Field(description="counter (staff station) or queue (customer waiting area)")
    counter_id: DbId = Field(description="The counter this zone watches; same outlet as camera")
    polygon: list[list[float]] = Field(
        description=f"[[x, y], ...] relative to the frame (0-1), 3 to {MAX_POINTS} points, "
        "in order around the outline"
    )
    anchor: Anchor | None = Field(
        None,
        description="Point of a person's box tested against the polygon; default "
        "center for counter zones, bottom_center (feet) for queue zones",
    )
    min_presence_s: float | None = Field(
        None,
        description="counter zones: seconds staff must be seen before counted present "
        "(default 2, 0-600)",
    )
    unattended_after_s: float | None = Field(
        None,
        description="counter zones: seconds without staff before the counter is "
        "unattended (default 60, up to 86400)",
    )
    max_queue: int | None = Field(
        None,
        description="queue zones: people waiting above which the queue is too long "
        "(default 5, 1-1000)",
    )
    wait_sla_s: float | None = Field(
        None,
        description="queue zones: longest acceptable wait in seconds (default 600, up to 86400)",
    )

    @field_validator("polygon")
    @classmethod
    def _polygon(cls, value: list[list[float]], info: ValidationInfo) -> list[list[float]]:
        problem = polygon_problem(value)
        if problem:
            raise _fail(f"{_zone_name(info)}: {problem}")
        return [[float(x), float(y)] for x, y in value]

    @field_validator("min_presence_s", "unattended_after_s", "max_queue", "wait_sla_s")
    @classmethod
    def _threshold(cls, value: float | None, info: ValidationInfo) -> float | None:
        if value is None:
            return None
        name = info.field_name or ""
        applies_to, _, low, low_inclusive, high, unit = THRESHOLDS[name]
        kind = info.data.get("kind")
        if kind is not None and kind != applies_to:
            raise _fail(
                f"{_zone_name(info)}: {name} applies only to {applies_to.value} zones, "
                f"this is a {kind.value} zone; remove {name}"
            )
        too_low = value < low if low_inclusive else value <= low
        if too_low or not value <= high:  # `not <=` also catches NaN
            bound = (
                f"between {low:g} and {high:g}"
                if low_inclusive
                else f"more than {low:g} and at most {high:g}"
            )
            raise _fail(f"{_zone_name(info)}: {name} must be {bound}{unit}, got {value:g}")
        return value

    @model_validator(mode="after")
    def _defaults_of_kind(self) -> ZoneIn:
        if self.anchor is None:
            self.anchor = DEFAULT_ANCHOR[self.kind]
        for name, (applies_to, default, *_) in THRESHOLDS.items():
            if applies_to == self.kind and getattr(self, name) is None:
                setattr(self, name, default)
        return self


def _unique_codes(zones: list[ZoneIn]) -> list[ZoneIn]:
    repeated = [code for code, n in Tally(z.code for z in zones).items() if n > 1]
    if repeated:
        raise _fail(
            f"zone '{repeated[0]}' appears more than once; zone codes must be unique per camera"
        )
    return zones


ZoneSet = Annotated[
    list[ZoneIn],
    Field(max_length=MAX_ZONES, description=f"The camera's whole zone set (at most {MAX_ZONES})"),
    AfterValidator(_unique_codes),
]


class ZoneRead(BaseModel):
    """The shape of ``ZoneIn``: a GET can be edited and PUT back. Thresholds of the other
    kind are null."""

    model_config = ConfigDict(from_attributes=True)
    code: str
    kind: ZoneKind
    counter_id: int
    polygon: list[list[float]]
    anchor: Anchor
    min_presence_s: float | None
    unattended_after_s: float | None
    max_queue: int | None
    wait_sla_s: float | None

    @model_validator(mode="after")
    def _only_own_kind(self) -> ZoneRead:
        for name, (applies_to, *_) in THRESHOLDS.items():
            if applies_to != self.kind:
                setattr(self, name, None)
        return self


# ---------------------------------------------------------------- vision worker config


class ConfigOutlet(BaseModel):
    id: int = Field(description="The outlet's id: evidence uploads name it (outlet_id)")
    code: str
    name: str
    timezone: str
    opening_hours: WeeklyHours
    hours_exceptions: list[HoursExceptionRead] = Field(
        description="Holidays and special hours from today (outlet time) to hours_until"
    )
    hours_until: date = Field(
        description="Last local date the hours exceptions cover: "
        "fetch the configuration again before then"
    )


class ConfigZone(BaseModel):
    id: str
    kind: ZoneKind
    counter: str = Field(description="Code of the counter the zone watches")
    units: Literal["relative"] = "relative"
    polygon: list[list[float]]
    anchor: Anchor
    min_presence_s: float | None
    unattended_after_s: float | None
    max_queue: int | None
    wait_sla_s: float | None


class CameraConfig(BaseModel):
    camera_id: str
    active: bool
    source: str | None = Field(description="Stream URL; null unless the caller has camera:secret")
    analysis_fps: float
    model_options: ModelOptions
    blur_faces: bool
    outlet: ConfigOutlet
    zones: list[ConfigZone]
    generated_at: datetime
