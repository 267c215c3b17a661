"""Queries for worker accounts, their cameras and tokens."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from audit_service.models import ApiToken, Camera, Role, User, WorkerCamera


def workers(session: Session) -> list[User]:
    return list(
        session.scalars(select(User).where(User.role == Role.worker).order_by(User.username))
    )


def cameras_of(session: Session, user_ids: Iterable[int]) -> dict[int, list[Camera]]:
    ids = set(user_ids)
    out: dict[int, list[Camera]] = {i: [] for i in ids}
    if not ids:
        return out
    rows = session.execute(
        select(WorkerCamera.user_id, Camera)
        .join(Camera, Camera.id == WorkerCamera.camera_id)
        .where(WorkerCamera.user_id.in_(ids))
        .order_by(Camera.code)
    )
    for user_id, camera in rows:
        out[user_id].append(camera)
    return out


def tokens_of(session: Session, user_ids: Iterable[int]) -> dict[int, list[ApiToken]]:
    ids = set(user_ids)
    out: dict[int, list[ApiToken]] = {i: [] for i in ids}
    if not ids:
        return out
    rows = session.scalars(
        select(ApiToken)
        .where(ApiToken.user_id.in_(ids))
        .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    )
    for token in rows:
        out[token.user_id].append(token)
    return out


def cameras_by_id(session: Session, ids: Iterable[int]) -> dict[int, Camera]:
    wanted = set(ids)
    if not wanted:
        return {}
    return {c.id: c for c in session.scalars(select(Camera).where(Camera.id.in_(wanted)))}


def assignments(session: Session, user_id: int) -> list[WorkerCamera]:
    return list(session.scalars(select(WorkerCamera).where(WorkerCamera.user_id == user_id)))
