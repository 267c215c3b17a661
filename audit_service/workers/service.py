"""Worker accounts: created by an admin with a token (shown once) and a set of cameras.

A worker is a ``users`` row with role ``worker`` and an unusable password hash: it cannot log
in, it authenticates with an API token (see ``accounts.service.principal_from_token``). Its
scope is its cameras (``Principal.camera_ids``) and their outlets.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from audit_service.accounts import repository as accounts_repo
from audit_service.accounts import service as accounts_service
from audit_service.authz import Principal
from audit_service.cameras import service as cameras_service
from audit_service.cameras.schemas import CameraConfig
from audit_service.core.errors import Conflict, InvalidInput, NotFound
from audit_service.models import Role, ScopeKind, User, UserOutletScope, WorkerCamera
from audit_service.workers import repository as repo
from audit_service.workers.schemas import (
    TokenRead,
    WorkerCameraRead,
    WorkerCreate,
    WorkerRead,
    WorkerWithToken,
)

# Not an Argon2 hash: verification always fails, so no password ever logs a worker in.
NO_PASSWORD = "!worker-account-has-no-password"  # noqa: S105 - deliberately unusable


def to_reads(session: Session, users: list[User]) -> list[WorkerRead]:
    ids = [u.id for u in users]
    cameras = repo.cameras_of(session, ids)
    tokens = repo.tokens_of(session, ids)
    return [
        WorkerRead(
            id=u.id,
            username=u.username,
            display_name=u.display_name,
            active=u.active,
            camera_ids=sorted(c.id for c in cameras[u.id]),
            cameras=[
                WorkerCameraRead(id=c.id, code=c.code, outlet_id=c.outlet_id, active=c.active)
                for c in cameras[u.id]
            ],
            tokens=[
                TokenRead(
                    id=t.id,
                    name=t.name,
                    prefix=t.prefix,
                    created_at=t.created_at,
                    last_used_at=t.last_used_at,
                    revoked_at=t.revoked_at,
                )
                for t in tokens[u.id]
            ],
            created_at=u.created_at,
        )
        for u in users
    ]


def to_read(session: Session, user: User) -> WorkerRead:
    return to_reads(session, [user])[0]


def get_worker(session: Session, worker_id: int) -> User:
    user = accounts_repo.user_by_id(session, worker_id)
    if user is None or user.role is not Role.worker:
        raise NotFound("worker", worker_id)
    return user


def list_workers(session: Session) -> list[WorkerRead]:
    return to_reads(session, repo.workers(session))


def _assign(session: Session, principal: Principal, user: User, camera_ids: list[int]) -> None:
    """Replace the worker's cameras: every id is checked before anything changes."""
    cameras = repo.cameras_by_id(session, camera_ids)
    for i, cid in enumerate(camera_ids):
        camera = cameras.get(cid)
        # Unknown and out-of-scope cameras read the same.
        if camera is None or not principal.sees_outlet(camera.outlet_id):
            raise InvalidInput(
                f"camera_ids[{i}]: camera {cid} does not exist; list cameras with "
                "GET /api/v1/cameras",
                field=f"camera_ids[{i}]",
            )
    wanted = set(camera_ids)
    for row in repo.assignments(session, user.id):
        if row.camera_id not in wanted:
            session.delete(row)
        else:
            wanted.discard(row.camera_id)
    session.flush()
    for cid in sorted(wanted):
        session.add(WorkerCamera(user_id=user.id, camera_id=cid))
    # The stored scope mirrors the cameras' outlets, so GET /users shows where a worker reaches
    # (authentication recomputes it from the cameras, so it can never be wider).
    outlets = sorted({cameras[cid].outlet_id for cid in camera_ids})
    user.scope_kind = ScopeKind.outlets
    user.outlet_scopes = [UserOutletScope(outlet_id=o) for o in outlets]
    session.flush()


def create_worker(
    session: Session, principal: Principal, data: WorkerCreate, *, now: datetime
) -> WorkerWithToken:
    if accounts_repo.user_by_username(session, data.username) is not None:
        raise Conflict(f"username '{data.username}' is taken; choose another")
    user = User(
        username=data.username,
        display_name=data.display_name,
        password_hash=NO_PASSWORD,
        role=Role.worker,
        scope_kind=ScopeKind.outlets,
        password_changed_at=now,
        created_at=now,
        updated_at=now,
    )
    session.add(user)
    session.flush()
    _assign(session, principal, user, data.camera_ids)
    token = accounts_service.issue_api_token(session, user, name=data.token_name, now=now)
    return WorkerWithToken(worker=to_read(session, user), token=token)


def set_cameras(
    session: Session, principal: Principal, worker_id: int, camera_ids: list[int], *, now: datetime
) -> WorkerRead:
    user = get_worker(session, worker_id)
    _assign(session, principal, user, camera_ids)
    user.updated_at = now
    session.flush()
    return to_read(session, user)


def rotate_token(session: Session, worker_id: int, *, name: str, now: datetime) -> WorkerWithToken:
    user = get_worker(session, worker_id)
    token = accounts_service.issue_api_token(session, user, name=name, now=now)
    return WorkerWithToken(worker=to_read(session, user), token=token)


def revoke_tokens(session: Session, worker_id: int, *, now: datetime) -> None:
    user = get_worker(session, worker_id)
    accounts_service.revoke_api_tokens(session, user.id, now=now)


def my_cameras(
    session: Session, principal: Principal, *, secret_key: str, now: datetime
) -> list[CameraConfig]:
    """The configuration of every camera assigned to the calling worker, by camera code."""
    cameras = cameras_service.list_cameras(session, principal)
    return [
        cameras_service.camera_config(session, principal, c.id, secret_key=secret_key, now=now)
        for c in cameras
    ]
