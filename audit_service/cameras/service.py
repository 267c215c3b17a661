"""Rules for cameras and zones: scope, secret stream URLs, whole-set zone replacement and the
configuration a vision worker fetches."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from audit_service.authz import Permission, Principal
from audit_service.cameras import repository as repo
from audit_service.cameras.schemas import (
    THRESHOLDS,
    CameraConfig,
    CameraCreate,
    CameraRead,
    CameraUpdate,
    ConfigOutlet,
    ConfigZone,
    ModelOptions,
    ZoneIn,
    ZoneRead,
)
from audit_service.core.errors import Conflict, InvalidInput, NotFound
from audit_service.core.security import decrypt_secret, encrypt_secret
from audit_service.models import Camera, Zone
from audit_service.organisation import repository as org_repo
from audit_service.organisation import service as org_service
from audit_service.organisation.schemas import HoursExceptionRead, WeeklyHours

# How far ahead the worker configuration lists holidays and special hours.
HOURS_HORIZON_DAYS = 14

# ---------------------------------------------------------------- cameras


def stream_url(camera: Camera, principal: Principal, secret_key: str) -> str | None:
    """The plain stream URL, for callers allowed to see it; None for everyone else."""
    if not camera.stream_url_encrypted or not principal.can(Permission.camera_secret):
        return None
    # An unreadable value (the secret key changed) is reported as absent, never as garbage.
    return decrypt_secret(secret_key, camera.stream_url_encrypted) or None


def to_read(camera: Camera, principal: Principal, secret_key: str) -> CameraRead:
    return CameraRead(
        id=camera.id,
        outlet_id=camera.outlet_id,
        code=camera.code,
        name=camera.name,
        stream_url=stream_url(camera, principal, secret_key),
        has_stream_url=bool(camera.stream_url_encrypted),
        analysis_fps=camera.analysis_fps,
        model_options=ModelOptions.model_validate(camera.model_options or {}),
        blur_faces=camera.blur_faces,
        active=camera.active,
        created_at=camera.created_at,
        updated_at=camera.updated_at,
    )


def list_cameras(
    session: Session,
    principal: Principal,
    *,
    outlet_id: int | None = None,
    active: bool | None = None,
) -> list[Camera]:
    return repo.list_cameras(session, principal, outlet_id=outlet_id, active=active)


def list_outlet_cameras(session: Session, principal: Principal, outlet_id: int) -> list[Camera]:
    org_service.get_outlet(session, principal, outlet_id)
    return repo.list_cameras(session, principal, outlet_id=outlet_id)


def get_camera(session: Session, principal: Principal, camera_id: int) -> Camera:
    camera = session.get(Camera, camera_id)
    if camera is None:
        raise NotFound("camera", camera_id)
    principal.check_outlet(camera.outlet_id, "camera", camera_id)
    # A worker account sees only the cameras assigned to it.
    principal.check_camera(camera.id, "camera", camera_id)
    return camera


def _code_free(session: Session, code: str, camera_id: int | None = None) -> None:
    other = repo.camera_by_code(session, code)
    if other is not None and other.id != camera_id:
        raise Conflict(
            f"camera code '{code}' already exists; camera codes are unique across all outlets"
        )


def _encrypt(secret_key: str, url: str | None) -> str | None:
    return encrypt_secret(secret_key, url) if url else None


def create_camera(
    session: Session, principal: Principal, data: CameraCreate, *, secret_key: str
) -> Camera:
    # The body names the outlet: look it up and check the caller may see it (else 404).
    org_service.get_outlet(session, principal, data.outlet_id)
    _code_free(session, data.code)
    camera = Camera(
        outlet_id=data.outlet_id,
        code=data.code,
        name=data.name,
        stream_url_encrypted=_encrypt(secret_key, data.stream_url),
        analysis_fps=data.analysis_fps,
        model_options=data.model_options.model_dump(mode="json"),
        blur_faces=data.blur_faces,
        active=data.active,
    )
    session.add(camera)
    session.flush()
    return camera


def update_camera(
    session: Session, principal: Principal, camera_id: int, data: CameraUpdate, *, secret_key: str
) -> Camera:
    camera = get_camera(session, principal, camera_id)
    given = data.model_fields_set
    if data.code is not None and data.code != camera.code:
        _code_free(session, data.code, camera.id)
        camera.code = data.code
    if "stream_url" in given:  # null removes the URL
        camera.stream_url_encrypted = _encrypt(secret_key, data.stream_url)
    if data.model_options is not None:
        merged = {
            **(camera.model_options or {}),
            **data.model_options.model_dump(mode="json", exclude_unset=True),
        }
        camera.model_options = ModelOptions.model_validate(merged).model_dump(mode="json")
    for name in ("name", "analysis_fps", "blur_faces", "active"):
        value = getattr(data, name)
        if value is not None:
            setattr(camera, name, value)
    session.flush()
    return camera


def delete_camera(session: Session, principal: Principal, camera_id: int) -> None:
    camera = get_camera(session, principal, camera_id)
    session.delete(camera)
    session.flush()


# ---------------------------------------------------------------- zones


def _sorted_zones(camera: Camera) -> list[Zone]:
    return sorted(camera.zones, key=lambda z: z.code)


def zone_read(zone: Zone) -> ZoneRead:
    return ZoneRead.model_validate(zone)


def list_zones(session: Session, principal: Principal, camera_id: int) -> list[Zone]:
    return _sorted_zones(get_camera(session, principal, camera_id))


def put_zones(
    session: Session, principal: Principal, camera_id: int, zones: list[ZoneIn]
) -> list[Zone]:
    """Replace the camera's whole zone set: everything is checked before anything changes."""
    camera = get_camera(session, principal, camera_id)
    counters = repo.counters_by_id(session, (z.counter_id for z in zones))
    for i, z in enumerate(zones):
        counter = counters.get(z.counter_id)
        # Unknown and other-outlet counters read the same: ids outside scope stay unknown.
        if counter is None or counter.outlet_id != camera.outlet_id:
            raise InvalidInput(
                f"zone '{z.code}': counter_id {z.counter_id} is not a counter of outlet "
                f"'{camera.outlet.code}' (the camera's outlet); pick one of its counters "
                f"(GET /api/v1/outlets/{camera.outlet_id}/counters)",
                field=f"zones[{i}].counter_id",
            )
    # Zones keep their row (and id) when their code stays; removed codes are deleted first.
    existing = {z.code: z for z in camera.zones}
    wanted = {z.code for z in zones}
    for code, row in existing.items():
        if code not in wanted:
            camera.zones.remove(row)
    session.flush()
    for z in zones:
        row = existing.get(z.code)
        if row is None:
            row = Zone(code=z.code)
            camera.zones.append(row)
        row.kind = z.kind
        row.counter_id = z.counter_id
        row.counter = counters[z.counter_id]
        row.polygon = z.polygon
        row.anchor = z.anchor  # type: ignore[assignment]  # ZoneIn fills it per kind
        for name, (_, default, *_rest) in THRESHOLDS.items():
            value = getattr(z, name)
            if value is None:  # a threshold of the other kind: null, or the default if required
                value = None if Zone.__table__.c[name].nullable else default
            setattr(row, name, value)
    session.flush()
    return _sorted_zones(camera)


# ---------------------------------------------------------------- vision worker config


def camera_config(
    session: Session, principal: Principal, camera_id: int, *, secret_key: str, now: datetime
) -> CameraConfig:
    camera = get_camera(session, principal, camera_id)
    outlet = camera.outlet
    today = now.astimezone(ZoneInfo(outlet.timezone)).date()
    until = today + timedelta(days=HOURS_HORIZON_DAYS)
    exceptions = org_repo.hours_exceptions(session, outlet.id, start=today, end=until)
    zones = []
    for zone in _sorted_zones(camera):
        read = zone_read(zone)
        zones.append(
            ConfigZone(
                id=read.code,
                kind=read.kind,
                counter=zone.counter.code,
                polygon=read.polygon,
                anchor=read.anchor,
                min_presence_s=read.min_presence_s,
                unattended_after_s=read.unattended_after_s,
                max_queue=read.max_queue,
                wait_sla_s=read.wait_sla_s,
            )
        )
    return CameraConfig(
        camera_id=camera.code,
        active=camera.active,
        source=stream_url(camera, principal, secret_key),
        analysis_fps=camera.analysis_fps,
        model_options=ModelOptions.model_validate(camera.model_options or {}),
        blur_faces=camera.blur_faces,
        outlet=ConfigOutlet(
            id=outlet.id,
            code=outlet.code,
            name=outlet.name,
            timezone=outlet.timezone,
            opening_hours=WeeklyHours.model_validate(outlet.opening_hours or {}),
            hours_exceptions=[HoursExceptionRead.model_validate(r) for r in exceptions],
            hours_until=until,
        ),
        zones=zones,
        generated_at=now,
    )
