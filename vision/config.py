"""Camera configuration: the YAML a worker reads, and the same model the API serves.

Validated with pydantic; unknown keys are errors, and every message names the zone and field:
"zone 'till-1': polygon needs at least 3 points, got 2".
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator


class ConfigError(ValueError):
    """A camera configuration that can't be used; the message says where and how to fix it."""


class ZoneKind(StrEnum):
    counter = "counter"  # the staff station behind a counter
    queue = "queue"  # the customers' waiting area


class Anchor(StrEnum):
    center = "center"
    bottom_center = "bottom_center"


class Backend(StrEnum):
    auto = "auto"  # the fastest that works here (measured once, cached)
    torch = "torch"
    onnx = "onnx"
    openvino = "openvino"


_Strict = ConfigDict(extra="forbid")

DEFAULTS = {
    ZoneKind.counter: {"anchor": Anchor.center, "min_presence_s": 2.0, "unattended_after_s": 60.0},
    ZoneKind.queue: {"anchor": Anchor.bottom_center, "max_queue": 5, "wait_sla_s": 300.0},
}


class ZoneConfig(BaseModel):
    model_config = _Strict
    id: str = Field(min_length=1, max_length=64)
    kind: ZoneKind
    counter: str | None = Field(None, description="Code of the counter the zone watches")
    units: Literal["pixels", "relative"] = "pixels"
    polygon: list[list[float]]
    anchor: Anchor | None = None
    min_presence_s: float | None = None
    unattended_after_s: float | None = None
    max_queue: int | None = None
    wait_sla_s: float | None = None

    @model_validator(mode="after")
    def _check(self) -> ZoneConfig:
        where = f"zone '{self.id}'"
        if len(self.polygon) < 3:
            raise ValueError(f"{where}: polygon needs at least 3 points, got {len(self.polygon)}")
        for i, point in enumerate(self.polygon, start=1):
            if len(point) != 2:
                raise ValueError(
                    f"{where}: polygon point {i} needs 2 numbers [x, y], got {len(point)}"
                )
            x, y = point
            if self.units == "relative" and not (0 <= x <= 1 and 0 <= y <= 1):
                raise ValueError(
                    f"{where}: polygon point {i} is ({x}, {y}); relative "
                    "coordinates must be within 0-1 (or set units: pixels)"
                )
            if self.units == "pixels" and (x < 0 or y < 0):
                raise ValueError(
                    f"{where}: polygon point {i} is ({x}, {y}); pixel coordinates can't be negative"
                )
        if _area(self.polygon) <= 0:
            raise ValueError(f"{where}: polygon has no area (points in a line?)")
        own = DEFAULTS[self.kind]
        for name in ("min_presence_s", "unattended_after_s", "max_queue", "wait_sla_s"):
            value = getattr(self, name)
            if value is None:
                setattr(self, name, own.get(name))
            elif name not in own:
                raise ValueError(
                    f"{where}: {name} applies to "
                    f"{'queue' if self.kind is ZoneKind.counter else 'counter'} "
                    f"zones, not {self.kind.value} zones; remove it"
                )
            elif value < 0 or (name != "min_presence_s" and value == 0):
                raise ValueError(f"{where}: {name} must be positive, got {value}")
        if self.anchor is None:
            self.anchor = own["anchor"]
        return self

    def polygon_px(self, width: int, height: int) -> list[tuple[float, float]]:
        """The polygon in pixels of a frame of the given size."""
        if self.units == "relative":
            return [(x * width, y * height) for x, y in self.polygon]
        return [(x, y) for x, y in self.polygon]


def _area(points: list[list[float]]) -> float:
    s = 0.0
    for (x1, y1), (x2, y2) in zip(points, points[1:] + points[:1], strict=True):
        s += x1 * y2 - x2 * y1
    return abs(s) / 2


class HoursInterval(BaseModel):
    model_config = _Strict
    opens: str
    closes: str
    extended: bool = False


class HoursException(BaseModel):
    model_config = _Strict
    day: date
    closed: bool
    intervals: list[HoursInterval] = Field(default_factory=list)
    note: str = ""


class OutletHours(BaseModel):
    """The outlet's local time zone and opening hours: a counter is 'unattended' only when open."""

    model_config = _Strict
    id: int | None = None
    code: str = ""
    name: str = ""
    timezone: str = "UTC"
    opening_hours: dict[str, list[HoursInterval]] = Field(default_factory=dict)
    hours_exceptions: list[HoursException] = Field(default_factory=list)
    hours_until: date | None = None


class ModelOptions(BaseModel):
    model_config = _Strict
    imgsz: int = Field(640, ge=32, le=4096)
    conf: float = Field(0.25, gt=0, lt=1)
    iou: float = Field(0.7, gt=0, lt=1)
    backend: Backend = Backend.auto


class CameraConfig(BaseModel):
    model_config = _Strict
    camera_id: str = Field(min_length=1, max_length=64)
    source: str | None = None
    active: bool = True
    analysis_fps: float = Field(2.0, gt=0, le=30)
    model_options: ModelOptions = Field(default_factory=ModelOptions)
    blur_faces: bool = True
    outlet: OutletHours | None = None
    zones: list[ZoneConfig] = Field(min_length=1)
    generated_at: datetime | None = None

    @model_validator(mode="after")
    def _unique_zone_ids(self) -> CameraConfig:
        seen: set[str] = set()
        for zone in self.zones:
            if zone.id in seen:
                raise ValueError(f"zone '{zone.id}': id is used twice; zone ids must be unique")
            seen.add(zone.id)
        return self


def _where(loc: tuple[Any, ...], raw: Any) -> str:
    if len(loc) >= 2 and loc[0] == "zones" and isinstance(loc[1], int):
        zone = raw.get("zones", [])[loc[1]] if isinstance(raw, dict) else None
        name = zone.get("id") if isinstance(zone, dict) else None
        label = f"zone '{name}'" if name else f"zone #{loc[1] + 1}"
        rest = ".".join(str(p) for p in loc[2:])
        return f"{label}: {rest}" if rest else label
    return ".".join(str(p) for p in loc) or "config"


def parse_camera_config(raw: Any, *, source: str = "camera config") -> CameraConfig:
    """Validate a mapping; raise ConfigError with one line per problem."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: expected a mapping with camera_id and zones")
    try:
        return CameraConfig.model_validate(raw)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            msg = str(err.get("msg", "")).removeprefix("Value error, ")
            if msg.startswith("zone '"):
                lines.append(msg)  # already names the zone and field
            elif err.get("type") == "extra_forbidden":
                lines.append(
                    f"{_where(err['loc'], raw)}: unknown key; remove it or fix its spelling"
                )
            else:
                lines.append(f"{_where(err['loc'], raw)}: {msg}")
        raise ConfigError(f"{source}: " + "; ".join(lines)) from None


def load_camera_configs(path: str | Path) -> list[CameraConfig]:
    """One camera (a mapping) or several (a list, or a mapping with ``cameras:``) from YAML."""
    p = Path(path)
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{p}: file not found") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{p}: not valid YAML ({exc})") from None
    if isinstance(data, dict) and "cameras" in data and "camera_id" not in data:
        data = data["cameras"]
    items = data if isinstance(data, list) else [data]
    return [parse_camera_config(item, source=str(p)) for item in items]
