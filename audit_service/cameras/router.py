"""Cameras of an outlet, their zones, and the configuration vision workers fetch."""

from __future__ import annotations

from fastapi import APIRouter, Query, status

from audit_service.authz import Permission
from audit_service.cameras import service
from audit_service.cameras.schemas import (
    CameraConfig,
    CameraCreate,
    CameraRead,
    CameraUpdate,
    ZoneRead,
    ZoneSet,
)
from audit_service.core.types import MAX_ID, IdPath
from audit_service.deps import ClockDep, Requires, SessionDep, SettingsDep

router = APIRouter(tags=["cameras"])

Reader = Requires(Permission.camera_read)
Writer = Requires(Permission.camera_write)


def _secret(settings: SettingsDep) -> str:
    return settings.secret_key.get_secret_value()


@router.get("/cameras", response_model=list[CameraRead])
def list_cameras(
    caller: Reader,
    session: SessionDep,
    settings: SettingsDep,
    outlet_id: int | None = Query(None, ge=1, le=MAX_ID),
    active: bool | None = None,
) -> list[CameraRead]:
    cameras = service.list_cameras(session, caller, outlet_id=outlet_id, active=active)
    return [service.to_read(c, caller, _secret(settings)) for c in cameras]


@router.get("/outlets/{outlet_id}/cameras", response_model=list[CameraRead])
def list_outlet_cameras(
    outlet_id: IdPath, caller: Reader, session: SessionDep, settings: SettingsDep
) -> list[CameraRead]:
    cameras = service.list_outlet_cameras(session, caller, outlet_id)
    return [service.to_read(c, caller, _secret(settings)) for c in cameras]


@router.post("/cameras", response_model=CameraRead, status_code=status.HTTP_201_CREATED)
def create_camera(
    body: CameraCreate, caller: Writer, session: SessionDep, settings: SettingsDep
) -> CameraRead:
    camera = service.create_camera(session, caller, body, secret_key=_secret(settings))
    return service.to_read(camera, caller, _secret(settings))


@router.get("/cameras/{camera_id}", response_model=CameraRead)
def get_camera(
    camera_id: IdPath, caller: Reader, session: SessionDep, settings: SettingsDep
) -> CameraRead:
    camera = service.get_camera(session, caller, camera_id)
    return service.to_read(camera, caller, _secret(settings))


@router.patch("/cameras/{camera_id}", response_model=CameraRead)
def update_camera(
    camera_id: IdPath,
    body: CameraUpdate,
    caller: Writer,
    session: SessionDep,
    settings: SettingsDep,
) -> CameraRead:
    camera = service.update_camera(session, caller, camera_id, body, secret_key=_secret(settings))
    return service.to_read(camera, caller, _secret(settings))


@router.delete("/cameras/{camera_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_camera(camera_id: IdPath, caller: Writer, session: SessionDep) -> None:
    service.delete_camera(session, caller, camera_id)


@router.get("/cameras/{camera_id}/zones", response_model=list[ZoneRead])
def list_zones(camera_id: IdPath, caller: Reader, session: SessionDep) -> list[ZoneRead]:
    return [service.zone_read(z) for z in service.list_zones(session, caller, camera_id)]


@router.put(
    "/cameras/{camera_id}/zones",
    response_model=list[ZoneRead],
    summary="Replace the camera's whole zone set (all valid, or nothing changes)",
)
def put_zones(
    camera_id: IdPath, body: ZoneSet, caller: Writer, session: SessionDep
) -> list[ZoneRead]:
    return [service.zone_read(z) for z in service.put_zones(session, caller, camera_id, body)]


@router.get(
    "/cameras/{camera_id}/config",
    response_model=CameraConfig,
    summary="The configuration a vision worker runs this camera with",
)
def camera_config(
    camera_id: IdPath, caller: Reader, session: SessionDep, settings: SettingsDep, clock: ClockDep
) -> CameraConfig:
    return service.camera_config(
        session, caller, camera_id, secret_key=_secret(settings), now=clock()
    )
