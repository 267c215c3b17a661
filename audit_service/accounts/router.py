"""Login, token refresh, logout, own password; account administration for admins."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, status
from fastapi.security import OAuth2PasswordRequestForm

from audit_service.accounts import service
from audit_service.accounts.schemas import (
    Me,
    PasswordChange,
    PasswordReset,
    RefreshRequest,
    TokenPair,
    UserCreate,
    UserRead,
    UserUpdate,
)
from audit_service.authz import Permission
from audit_service.core.types import IdPath
from audit_service.deps import (
    ClientIpDep,
    ClockDep,
    PrincipalDep,
    Requires,
    SessionDep,
    SettingsDep,
)

auth_router = APIRouter(prefix="/auth", tags=["auth"])
users_router = APIRouter(prefix="/users", tags=["accounts"])

UserAdmin = Requires(Permission.user_admin)


@auth_router.post("/token", response_model=TokenPair, summary="Log in (OAuth2 password flow)")
def login(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    ip: ClientIpDep,
) -> TokenPair:
    return service.login(
        session,
        username=form.username,
        password=form.password,
        client_ip=ip,
        user_agent=request.headers.get("user-agent", ""),
        settings=settings,
        now=clock(),
    )


@auth_router.post("/refresh", response_model=TokenPair, summary="Swap a refresh token")
def refresh(
    body: RefreshRequest, session: SessionDep, settings: SettingsDep, clock: ClockDep
) -> TokenPair:
    return service.refresh(
        session, refresh_token=body.refresh_token, settings=settings, now=clock()
    )


@auth_router.post(
    "/logout", status_code=status.HTTP_204_NO_CONTENT, summary="Revoke this login's tokens"
)
def logout(principal: PrincipalDep, session: SessionDep, clock: ClockDep) -> None:
    service.logout(session, principal, now=clock())


@auth_router.get("/me", response_model=Me)
def me(principal: PrincipalDep, session: SessionDep) -> Me:
    return service.me(session, principal)


@auth_router.post(
    "/password",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Change own password (ends every login of this account)",
)
def change_password(
    body: PasswordChange,
    principal: PrincipalDep,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    ip: ClientIpDep,
) -> None:
    service.change_password(
        session,
        principal,
        current=body.current_password,
        new=body.new_password,
        now=clock(),
        settings=settings,
        client_ip=ip,
    )


@users_router.get("", response_model=list[UserRead])
def list_users(_: UserAdmin, session: SessionDep) -> list[UserRead]:
    return [service.to_read(u) for u in service.list_users(session)]


@users_router.post("", response_model=UserRead, status_code=status.HTTP_201_CREATED)
def create_user(body: UserCreate, _: UserAdmin, session: SessionDep, clock: ClockDep) -> UserRead:
    return service.to_read(service.create_user(session, body, now=clock()))


@users_router.get("/{user_id}", response_model=UserRead)
def get_user(user_id: IdPath, _: UserAdmin, session: SessionDep) -> UserRead:
    return service.to_read(service.get_user(session, user_id))


@users_router.patch("/{user_id}", response_model=UserRead)
def update_user(
    user_id: IdPath, body: UserUpdate, _: UserAdmin, session: SessionDep, clock: ClockDep
) -> UserRead:
    return service.to_read(service.update_user(session, user_id, body, now=clock()))


@users_router.post("/{user_id}/reset-password", response_model=UserRead)
def reset_password(
    user_id: IdPath, body: PasswordReset, _: UserAdmin, session: SessionDep, clock: ClockDep
) -> UserRead:
    return service.to_read(service.reset_password(session, user_id, body.new_password, now=clock()))
