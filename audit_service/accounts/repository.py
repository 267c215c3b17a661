"""Queries for accounts, sessions and login attempts."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select, update
from sqlalchemy.orm import Session

from audit_service.models import (
    ApiToken,
    Camera,
    LoginAttempt,
    Outlet,
    User,
    UserSession,
    WorkerCamera,
)


def user_by_username(session: Session, username: str) -> User | None:
    return session.scalar(select(User).where(User.username == username))


def user_by_id(session: Session, user_id: int) -> User | None:
    return session.get(User, user_id)


def user_by_staff_id(session: Session, staff_id: int) -> User | None:
    return session.scalar(select(User).where(User.staff_id == staff_id))


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.username)))


def outlet_ids_in_regions(session: Session, region_ids: list[int]) -> frozenset[int]:
    return frozenset(session.scalars(select(Outlet.id).where(Outlet.region_id.in_(region_ids))))


def _failures(
    q: Select[Any], *, username: str | None, client_ip: str | None, since: datetime
) -> Select[Any]:
    # The window is (since, now]: a failure exactly one window old no longer counts, so a
    # client that waits Retry-After seconds gets in.
    q = q.where(LoginAttempt.succeeded.is_(False), LoginAttempt.at > since)
    if username is not None:
        q = q.where(LoginAttempt.username == username)
    if client_ip is not None:
        q = q.where(LoginAttempt.client_ip == client_ip)
    return q


def failures_since(
    session: Session, *, username: str | None = None, client_ip: str | None = None, since: datetime
) -> int:
    q = _failures(
        select(func.count()).select_from(LoginAttempt),
        username=username,
        client_ip=client_ip,
        since=since,
    )
    return int(session.scalar(q) or 0)


def oldest_failure_since(
    session: Session,
    *,
    username: str | None = None,
    client_ip: str | None = None,
    since: datetime,
    skip: int = 0,
) -> datetime | None:
    """The time of the oldest failure in the window, after skipping the ``skip`` oldest."""
    q = _failures(select(LoginAttempt.at), username=username, client_ip=client_ip, since=since)
    return session.scalar(q.order_by(LoginAttempt.at, LoginAttempt.id).offset(skip).limit(1))


def session_by_id(session: Session, session_id: uuid.UUID) -> UserSession | None:
    return session.get(UserSession, session_id)


def session_by_refresh_digest(session: Session, digest: str) -> UserSession | None:
    return session.scalar(select(UserSession).where(UserSession.refresh_token_hash == digest))


def revoke_user_sessions(session: Session, user_id: int, now: datetime) -> None:
    session.execute(
        update(UserSession)
        .where(UserSession.user_id == user_id, UserSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )


def api_token_by_digest(session: Session, digest: str) -> ApiToken | None:
    return session.scalar(select(ApiToken).where(ApiToken.token_hash == digest))


def worker_camera_ids(session: Session, user_id: int) -> frozenset[int]:
    return frozenset(
        session.scalars(select(WorkerCamera.camera_id).where(WorkerCamera.user_id == user_id))
    )


def outlets_of_cameras(session: Session, camera_ids: frozenset[int]) -> frozenset[int]:
    if not camera_ids:
        return frozenset()
    return frozenset(
        session.scalars(select(Camera.outlet_id).where(Camera.id.in_(camera_ids)).distinct())
    )


def live_api_tokens(session: Session, user_id: int) -> list[ApiToken]:
    return list(
        session.scalars(
            select(ApiToken).where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
        )
    )
