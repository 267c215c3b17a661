"""Accounts and authentication: login with rate limits, revocable sessions, scope resolution."""

from __future__ import annotations

import hashlib
import math
import secrets
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from audit_service.accounts import repository as repo
from audit_service.accounts.schemas import (
    Me,
    ScopeError,
    TokenPair,
    UserCreate,
    UserRead,
    UserUpdate,
    check_scope,
)
from audit_service.authz import Principal
from audit_service.config import ServiceSettings
from audit_service.core import security
from audit_service.core.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    RateLimited,
    Unauthenticated,
)
from audit_service.models import (
    ApiToken,
    LoginAttempt,
    Outlet,
    Region,
    Role,
    ScopeKind,
    Staff,
    User,
    UserOutletScope,
    UserRegionScope,
    UserSession,
)

# ---------------------------------------------------------------- authentication


def _attempt_name(username: str) -> str:
    """The name attempts are stored and counted under: 64 characters (the column's size),
    NUL replaced (PostgreSQL text cannot hold it)."""
    return username[:64].replace("\x00", "\ufffd")


def _check_rate_limit(
    session: Session, *, username: str, client_ip: str, settings: ServiceSettings, now: datetime
) -> None:
    window = timedelta(seconds=settings.login_window_s)
    since = now - window
    for kwargs, limit, who in (
        (
            {"username": _attempt_name(username)},
            settings.login_max_failures_per_user,
            "this username",
        ),
        ({"client_ip": client_ip}, settings.login_max_failures_per_ip, "this address"),
    ):
        count = repo.failures_since(session, since=since, **kwargs)
        if count >= limit:
            # Locked until the count drops below the limit: when the (count - limit + 1)-th
            # oldest failure leaves the window.
            freeing = (
                repo.oldest_failure_since(session, since=since, skip=count - limit, **kwargs) or now
            )
            retry = max(1, math.ceil((freeing + window - now).total_seconds()))
            raise RateLimited(
                f"too many failed logins for {who}; try again in {retry} s", retry_after_s=retry
            )


def _record_failure(session: Session, *, username: str, client_ip: str, now: datetime) -> None:
    """Store a failed attempt; commit at once, since the request is about to fail."""
    session.add(
        LoginAttempt(username=_attempt_name(username), client_ip=client_ip, succeeded=False, at=now)
    )
    session.commit()


def login(
    session: Session,
    *,
    username: str,
    password: str,
    client_ip: str,
    user_agent: str,
    settings: ServiceSettings,
    now: datetime,
) -> TokenPair:
    _check_rate_limit(session, username=username, client_ip=client_ip, settings=settings, now=now)
    # No account name holds a NUL (the schema forbids it); PostgreSQL would refuse the query.
    user = None if "\x00" in username else repo.user_by_username(session, username)
    # Verify against a dummy hash for unknown users so timing does not reveal which exist.
    ok = security.verify_password(user.password_hash if user else security.DUMMY_HASH, password)
    # Worker accounts have no password login (their hash is unusable; the role check is a
    # second lock): they authenticate with API tokens only.
    if not ok or user is None or not user.active or user.role is Role.worker:
        # The attempt row must survive the error response, so it is committed here.
        _record_failure(session, username=username, client_ip=client_ip, now=now)
        raise Unauthenticated("wrong username or password")
    session.add(
        LoginAttempt(username=_attempt_name(username), client_ip=client_ip, succeeded=True, at=now)
    )
    if security.needs_rehash(user.password_hash):
        user.password_hash = security.hash_password(password)
    return _open_session(
        session, user, client_ip=client_ip, user_agent=user_agent, settings=settings, now=now
    )


def _open_session(
    session: Session,
    user: User,
    *,
    client_ip: str,
    user_agent: str,
    settings: ServiceSettings,
    now: datetime,
) -> TokenPair:
    refresh = security.new_refresh_token()
    login_session = UserSession(
        user_id=user.id,
        refresh_token_hash=security.token_digest(refresh),
        created_at=now,
        last_used_at=now,
        expires_at=now + timedelta(seconds=settings.refresh_token_ttl_s),
        client_ip=client_ip,
        user_agent=user_agent[:300],
    )
    session.add(login_session)
    session.flush()
    return _token_pair(login_session, refresh, settings=settings, now=now)


def _token_pair(
    login_session: UserSession, refresh: str, *, settings: ServiceSettings, now: datetime
) -> TokenPair:
    access, _ = security.mint_access_token(
        settings.secret_key.get_secret_value(),
        user_id=login_session.user_id,
        session_id=login_session.id,
        ttl_s=settings.access_token_ttl_s,
        now=now,
    )
    return TokenPair(
        access_token=access,
        expires_in=settings.access_token_ttl_s,
        refresh_token=refresh,
        refresh_expires_in=int((login_session.expires_at - now).total_seconds()),
    )


def refresh(
    session: Session, *, refresh_token: str, settings: ServiceSettings, now: datetime
) -> TokenPair:
    """Rotate: the old refresh token stops working; the session keeps its absolute expiry."""
    login_session = repo.session_by_refresh_digest(session, security.token_digest(refresh_token))
    if login_session is None or login_session.revoked_at is not None:
        raise Unauthenticated("refresh token is invalid or revoked; log in again")
    if login_session.expires_at <= now:
        raise Unauthenticated("refresh token expired; log in again")
    user = repo.user_by_id(session, login_session.user_id)
    if user is None or not user.active:
        raise Unauthenticated("account is disabled")
    new_refresh = security.new_refresh_token()
    login_session.refresh_token_hash = security.token_digest(new_refresh)
    login_session.last_used_at = now
    session.flush()
    return _token_pair(login_session, new_refresh, settings=settings, now=now)


def logout(session: Session, principal: Principal, *, now: datetime) -> None:
    if principal.session_id is None:
        return  # an API token is not a login: an admin revokes it (DELETE .../tokens)
    login_session = repo.session_by_id(session, principal.session_id)
    if login_session is not None and login_session.revoked_at is None:
        login_session.revoked_at = now


def change_password(
    session: Session,
    principal: Principal,
    *,
    current: str,
    new: str,
    now: datetime,
    settings: ServiceSettings | None = None,
    client_ip: str = "",
) -> None:
    """Needs the current password. With ``settings``, wrong guesses count as failed logins
    (so a stolen access token cannot be used to guess the password)."""
    user = _get_user(session, principal.user_id)
    if user.role is Role.worker:
        raise Forbidden(WORKER_LOGIN_REFUSED)
    if settings is not None:
        _check_rate_limit(
            session, username=user.username, client_ip=client_ip, settings=settings, now=now
        )
    if not security.verify_password(user.password_hash, current):
        if settings is not None:
            _record_failure(session, username=user.username, client_ip=client_ip, now=now)
        raise InvalidInput("current_password is wrong", field="current_password")
    _set_password(session, user, new, now=now)


def outlets_of(session: Session, user: User) -> frozenset[int] | None:
    """The outlets an account may see (None: all), as its principal would."""
    return _visible_outlets(session, user)


def principal_from_token(session: Session, *, token: str, secret: str, now: datetime) -> Principal:
    """The caller of a bearer token: a worker's API token (``alw_...``) or a login's JWT."""
    if token.startswith(API_TOKEN_PREFIX):
        return _principal_from_api_token(session, token, now=now)
    claims = security.decode_access_token(secret, token, now=now)
    login_session = repo.session_by_id(session, claims.session_id)
    if login_session is None or login_session.revoked_at is not None:
        raise Unauthenticated("session was revoked (logout or password change); log in again")
    if login_session.expires_at <= now:
        # An access token never outlives the login it belongs to.
        raise Unauthenticated("session expired; log in again")
    user = repo.user_by_id(session, claims.user_id)
    if user is None or not user.active or login_session.user_id != user.id:
        raise Unauthenticated("account is disabled; ask an admin")
    if user.role is Role.worker:
        raise Unauthenticated("worker accounts authenticate with their API token only")
    return Principal(
        user_id=user.id,
        username=user.username,
        role=user.role,
        scope_kind=user.scope_kind,
        outlet_ids=_visible_outlets(session, user),
        staff_id=user.staff_id,
        session_id=login_session.id,
    )


# ---------------------------------------------------------------- worker API tokens

API_TOKEN_PREFIX = "alw_"  # noqa: S105 - the token format's marker, not a secret
# Shown in lists so tokens can be told apart: "alw_" and 8 characters of the secret.
API_TOKEN_DISPLAY = 12
# last_used_at is written at most this often, so polling workers don't write on every call.
TOKEN_TOUCH_S = 60
WORKER_LOGIN_REFUSED = (
    "worker accounts have no password; they use API tokens "
    "(rotate one with POST /api/v1/vision/workers/{id}/tokens)"
)


def api_token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_api_token() -> tuple[str, str, str]:
    """A fresh token: (token shown once, its SHA-256 to store, display prefix)."""
    token = API_TOKEN_PREFIX + secrets.token_urlsafe(32)
    return token, api_token_digest(token), token[:API_TOKEN_DISPLAY]


def _principal_from_api_token(session: Session, token: str, *, now: datetime) -> Principal:
    row = repo.api_token_by_digest(session, api_token_digest(token))
    if row is None:
        raise Unauthenticated("API token is invalid; ask an admin for the worker's token")
    if row.revoked_at is not None:
        raise Unauthenticated("token revoked; ask an admin for the worker's new token")
    user = repo.user_by_id(session, row.user_id)
    if user is None or not user.active or user.role is not Role.worker:
        raise Unauthenticated("account is disabled; ask an admin")
    if row.last_used_at is None or (now - row.last_used_at).total_seconds() >= TOKEN_TOUCH_S:
        row.last_used_at = now
    camera_ids = repo.worker_camera_ids(session, user.id)
    return Principal(
        user_id=user.id,
        username=user.username,
        role=user.role,
        scope_kind=ScopeKind.outlets,
        # A worker's scope is the outlets of its cameras, whatever else is stored.
        outlet_ids=repo.outlets_of_cameras(session, camera_ids),
        staff_id=None,
        session_id=None,
        camera_ids=camera_ids,
        token_id=row.id,
    )


def issue_api_token(session: Session, user: User, *, name: str, now: datetime) -> str:
    """A new token for a worker; every earlier token of it is revoked. Returns the token."""
    revoke_api_tokens(session, user.id, now=now)
    token, digest, prefix = new_api_token()
    session.add(
        ApiToken(user_id=user.id, name=name, token_hash=digest, prefix=prefix, created_at=now)
    )
    session.flush()
    return token


def revoke_api_tokens(session: Session, user_id: int, *, now: datetime) -> int:
    """Revoke every live token of the account; returns how many were live."""
    rows = repo.live_api_tokens(session, user_id)
    for row in rows:
        row.revoked_at = now
    session.flush()
    return len(rows)


def _visible_outlets(session: Session, user: User) -> frozenset[int] | None:
    if user.role is Role.staff:
        # A staff account sees its own outlet only, whatever else is configured.
        staff = session.get(Staff, user.staff_id) if user.staff_id else None
        return frozenset({staff.outlet_id}) if staff else frozenset()
    if user.scope_kind is ScopeKind.all:
        return None
    if user.scope_kind is ScopeKind.regions:
        return repo.outlet_ids_in_regions(session, [s.region_id for s in user.region_scopes])
    return frozenset(s.outlet_id for s in user.outlet_scopes)


def me(session: Session, principal: Principal) -> Me:
    user = _get_user(session, principal.user_id)
    return Me(
        **to_read(user).model_dump(),
        permissions=sorted(p.value for p in principal.permissions),
        visible_outlet_ids=None if principal.outlet_ids is None else sorted(principal.outlet_ids),
    )


# ---------------------------------------------------------------- account administration


def to_read(user: User) -> UserRead:
    return UserRead(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        role=user.role,
        scope_kind=user.scope_kind,
        region_ids=sorted(s.region_id for s in user.region_scopes),
        outlet_ids=sorted(s.outlet_id for s in user.outlet_scopes),
        staff_id=user.staff_id,
        active=user.active,
        created_at=user.created_at,
    )


def _get_user(session: Session, user_id: int) -> User:
    user = repo.user_by_id(session, user_id)
    if user is None:
        raise NotFound("user", user_id)
    return user


def get_user(session: Session, user_id: int) -> User:
    return _get_user(session, user_id)


def list_users(session: Session) -> list[User]:
    return repo.list_users(session)


def _check_refs(
    session: Session,
    *,
    region_ids: list[int],
    outlet_ids: list[int],
    staff_id: int | None,
    role: Role,
) -> None:
    for i, rid in enumerate(region_ids):
        if session.get(Region, rid) is None:
            raise InvalidInput(
                f"region_ids[{i}]: region {rid} does not exist", field=f"region_ids.{i}"
            )
    for i, oid in enumerate(outlet_ids):
        if session.get(Outlet, oid) is None:
            raise InvalidInput(
                f"outlet_ids[{i}]: outlet {oid} does not exist", field=f"outlet_ids.{i}"
            )
    if staff_id is not None and session.get(Staff, staff_id) is None:
        raise InvalidInput(f"staff_id: staff {staff_id} does not exist", field="staff_id")
    if role is Role.staff and staff_id is None:
        raise InvalidInput(
            "staff_id: a 'staff' account must link to its staff record", field="staff_id"
        )


def _apply_scope(user: User, kind: ScopeKind, region_ids: list[int], outlet_ids: list[int]) -> None:
    user.scope_kind = kind
    user.region_scopes = [UserRegionScope(region_id=r) for r in sorted(set(region_ids))]
    user.outlet_scopes = [UserOutletScope(outlet_id=o) for o in sorted(set(outlet_ids))]


def _no_worker_role(role: Role) -> None:
    if role is Role.worker:
        raise InvalidInput(
            "role: worker accounts are created with POST /api/v1/vision/workers "
            "(they have API tokens and cameras, not passwords)",
            field="role",
        )


def create_user(session: Session, data: UserCreate, *, now: datetime) -> User:
    _no_worker_role(data.role)
    if repo.user_by_username(session, data.username) is not None:
        raise Conflict(f"username '{data.username}' is taken; choose another")
    _check_refs(
        session,
        region_ids=data.region_ids,
        outlet_ids=data.outlet_ids,
        staff_id=data.staff_id,
        role=data.role,
    )
    if data.staff_id is not None and repo.user_by_staff_id(session, data.staff_id) is not None:
        raise Conflict(f"staff {data.staff_id} already has an account")
    user = User(
        username=data.username,
        display_name=data.display_name,
        password_hash=security.hash_password(data.password),
        role=data.role,
        staff_id=data.staff_id,
        password_changed_at=now,
        created_at=now,
        updated_at=now,
    )
    _apply_scope(user, data.scope_kind, data.region_ids, data.outlet_ids)
    session.add(user)
    session.flush()
    return user


def update_user(session: Session, user_id: int, data: UserUpdate, *, now: datetime) -> User:
    user = _get_user(session, user_id)
    # null means "leave as is" for every field but staff_id, where it unlinks the record.
    fields = {
        k: v
        for k, v in data.model_dump(exclude_unset=True).items()
        if v is not None or k == "staff_id"
    }
    scope_given = bool({"scope_kind", "region_ids", "outlet_ids"} & fields.keys())
    kind = fields.get("scope_kind", user.scope_kind)
    # A new kind starts from no ids; otherwise the ids not given are kept.
    keep = "scope_kind" not in fields
    region_ids = fields.get("region_ids", [s.region_id for s in user.region_scopes] if keep else [])
    outlet_ids = fields.get("outlet_ids", [s.outlet_id for s in user.outlet_scopes] if keep else [])
    role = fields.get("role", user.role)
    if role is not user.role and Role.worker in (role, user.role):
        raise InvalidInput(
            "role: an account cannot become or stop being a worker; create a worker with "
            "POST /api/v1/vision/workers, or deactivate this account",
            field="role",
        )
    staff_id = fields.get("staff_id", user.staff_id)
    try:
        check_scope(kind, region_ids, outlet_ids)
    except ScopeError as exc:
        raise InvalidInput(str(exc), field=exc.field) from exc
    _check_refs(session, region_ids=region_ids, outlet_ids=outlet_ids, staff_id=staff_id, role=role)
    if staff_id is not None and staff_id != user.staff_id:
        holder = repo.user_by_staff_id(session, staff_id)
        if holder is not None and holder.id != user.id:
            raise Conflict(f"staff {staff_id} already has an account ('{holder.username}')")
    rights_change = (
        fields.get("active") is False
        or ("role" in fields and role != user.role)
        or staff_id != user.staff_id
        or scope_given
    )
    for name in ("display_name", "role", "active"):
        if name in fields:
            setattr(user, name, fields[name])
    user.staff_id = staff_id
    if scope_given:
        _apply_scope(user, kind, region_ids, outlet_ids)
    if rights_change:
        # Changed rights take effect now, not when the tokens run out.
        repo.revoke_user_sessions(session, user.id, now)
    user.updated_at = now
    session.flush()
    return user


def _set_password(session: Session, user: User, new: str, *, now: datetime) -> None:
    if len(new) < security.MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            f"new_password needs at least {security.MIN_PASSWORD_LENGTH} characters",
            field="new_password",
        )
    user.password_hash = security.hash_password(new)
    user.password_changed_at = now
    repo.revoke_user_sessions(session, user.id, now)
    session.flush()


def reset_password(session: Session, user_id: int, new: str, *, now: datetime) -> User:
    user = _get_user(session, user_id)
    if user.role is Role.worker:
        raise InvalidInput(WORKER_LOGIN_REFUSED, field="new_password")
    _set_password(session, user, new, now=now)
    return user


def reset_password_by_username(session: Session, username: str, new: str, *, now: datetime) -> User:
    user = repo.user_by_username(session, username)
    if user is None:
        raise NotFound("user", username)
    if user.role is Role.worker:
        raise InvalidInput(WORKER_LOGIN_REFUSED, field="username")
    _set_password(session, user, new, now=now)
    return user
