"""Vision worker accounts (admin) and the worker's own camera configuration."""

from __future__ import annotations

from fastapi import APIRouter, Body, status

from audit_service.authz import Permission
from audit_service.cameras.schemas import CameraConfig
from audit_service.core.types import IdPath
from audit_service.deps import ClockDep, Requires, SessionDep, SettingsDep
from audit_service.workers import service
from audit_service.workers.schemas import (
    TokenRequest,
    WorkerCameras,
    WorkerCreate,
    WorkerRead,
    WorkerWithToken,
)

router = APIRouter(prefix="/vision/workers", tags=["vision workers"])

Admin = Requires(Permission.user_admin)
Worker = Requires(Permission.vision_ingest)


# Declared before the /{worker_id} routes so "me" is never read as an id.
@router.get(
    "/me/cameras",
    response_model=list[CameraConfig],
    summary="The calling worker's cameras and their configuration (stream URL included)",
)
def my_cameras(
    caller: Worker, session: SessionDep, settings: SettingsDep, clock: ClockDep
) -> list[CameraConfig]:
    return service.my_cameras(
        session, caller, secret_key=settings.secret_key.get_secret_value(), now=clock()
    )


@router.get("", response_model=list[WorkerRead], summary="Worker accounts, their cameras, tokens")
def list_workers(_: Admin, session: SessionDep) -> list[WorkerRead]:
    return service.list_workers(session)


@router.post(
    "",
    response_model=WorkerWithToken,
    status_code=status.HTTP_201_CREATED,
    summary="Create a worker account and its API token (the token is shown once)",
)
def create_worker(
    body: WorkerCreate, caller: Admin, session: SessionDep, clock: ClockDep
) -> WorkerWithToken:
    return service.create_worker(session, caller, body, now=clock())


@router.put(
    "/{worker_id}/cameras",
    response_model=WorkerRead,
    summary="Replace the cameras a worker runs",
)
def set_cameras(
    worker_id: IdPath, body: WorkerCameras, caller: Admin, session: SessionDep, clock: ClockDep
) -> WorkerRead:
    return service.set_cameras(session, caller, worker_id, body.camera_ids, now=clock())


@router.post(
    "/{worker_id}/tokens",
    response_model=WorkerWithToken,
    status_code=status.HTTP_201_CREATED,
    summary="Issue a new API token (shown once); the worker's older tokens are revoked",
)
def rotate_token(
    worker_id: IdPath,
    _: Admin,
    session: SessionDep,
    clock: ClockDep,
    body: TokenRequest | None = Body(None),
) -> WorkerWithToken:
    name = body.name if body is not None else ""
    return service.rotate_token(session, worker_id, name=name, now=clock())


@router.delete(
    "/{worker_id}/tokens",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Revoke every API token of a worker (it stops at its next call)",
)
def revoke_tokens(worker_id: IdPath, _: Admin, session: SessionDep, clock: ClockDep) -> None:
    service.revoke_tokens(session, worker_id, now=clock())
