"""Accounts, their scope, revocable login sessions and login attempts."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from audit_service.core.db import Base, TimestampMixin, utcnow
from audit_service.models.staff import Staff


class Role(enum.StrEnum):
    admin = "admin"
    supervisor = "supervisor"
    auditor = "auditor"
    hr = "hr"
    staff = "staff"
    # A vision worker: a machine account with API tokens and no password login.
    worker = "worker"


class ScopeKind(enum.StrEnum):
    all = "all"
    regions = "regions"
    outlets = "outlets"


class User(TimestampMixin, Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(Enum(Role, native_enum=False, length=16))
    scope_kind: Mapped[ScopeKind] = mapped_column(
        Enum(ScopeKind, native_enum=False, length=16), default=ScopeKind.all
    )
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), unique=True)
    active: Mapped[bool] = mapped_column(default=True)
    password_changed_at: Mapped[datetime] = mapped_column(default=utcnow)

    staff: Mapped[Staff | None] = relationship()
    region_scopes: Mapped[list[UserRegionScope]] = relationship(cascade="all, delete-orphan")
    outlet_scopes: Mapped[list[UserOutletScope]] = relationship(cascade="all, delete-orphan")


class UserRegionScope(Base):
    __tablename__ = "user_region_scopes"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"), primary_key=True)


class UserOutletScope(Base):
    __tablename__ = "user_outlet_scopes"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    outlet_id: Mapped[int] = mapped_column(ForeignKey("outlets.id"), primary_key=True)


class UserSession(Base):
    """A login. Access tokens name it (``sid``), so revoking it ends them at once."""

    __tablename__ = "user_sessions"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    refresh_token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
    client_ip: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(String(300), default="")


class ApiToken(Base):
    """A worker's API token (``alw_<secret>``), stored only as its SHA-256."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The first characters of the token, to tell tokens apart in lists (never enough to use).
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)


class LoginAttempt(Base):
    """Every login attempt; failures within a window drive the rate limit."""

    __tablename__ = "login_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    client_ip: Mapped[str] = mapped_column(String(64), index=True)
    succeeded: Mapped[bool]
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
