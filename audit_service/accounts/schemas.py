from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, model_validator

from audit_service.core.security import MIN_PASSWORD_LENGTH
from audit_service.core.types import DbId
from audit_service.models.accounts import Role, ScopeKind

USERNAME_PATTERN = r"^[A-Za-z0-9_.@-]{3,64}$"


class TokenPair(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int = Field(description="Seconds until the access token expires")
    refresh_token: str
    refresh_expires_in: int


class RefreshRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    refresh_token: str = Field(min_length=10, max_length=200)


class PasswordChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    current_password: str = Field(max_length=200)
    new_password: str = Field(min_length=MIN_PASSWORD_LENGTH, max_length=200)


class PasswordReset(BaseModel):
    model_config = ConfigDict(extra="forbid")
    new_password: str = Field(min_length=MIN_PASSWORD_LENGTH, max_length=200)


class _ScopeFields(BaseModel):
    scope_kind: ScopeKind = ScopeKind.all
    region_ids: list[DbId] = Field(default_factory=list, max_length=1000)
    outlet_ids: list[DbId] = Field(default_factory=list, max_length=10000)


class UserCreate(_ScopeFields):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(pattern=USERNAME_PATTERN)
    display_name: str = Field("", max_length=200)
    password: str = Field(min_length=MIN_PASSWORD_LENGTH, max_length=200)
    role: Role
    staff_id: DbId | None = None

    @model_validator(mode="after")
    def _scope_matches_kind(self) -> UserCreate:
        check_scope(self.scope_kind, self.region_ids, self.outlet_ids)
        return self


class UserUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    display_name: str | None = Field(None, max_length=200)
    role: Role | None = None
    scope_kind: ScopeKind | None = None
    region_ids: list[DbId] | None = Field(None, max_length=1000)
    outlet_ids: list[DbId] | None = Field(None, max_length=10000)
    staff_id: DbId | None = None
    active: bool | None = None


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    username: str
    display_name: str
    role: Role
    scope_kind: ScopeKind
    region_ids: list[int]
    outlet_ids: list[int]
    staff_id: int | None
    active: bool
    created_at: datetime


class Me(UserRead):
    permissions: list[str]
    visible_outlet_ids: list[DbId] | None = Field(
        description="Outlets in scope; null means all outlets"
    )


def check_scope(kind: ScopeKind, region_ids: list[int], outlet_ids: list[int]) -> None:
    if kind is ScopeKind.regions and not region_ids:
        raise ValueError("scope_kind 'regions' needs at least one id in region_ids")
    if kind is ScopeKind.outlets and not outlet_ids:
        raise ValueError("scope_kind 'outlets' needs at least one id in outlet_ids")
    if kind is ScopeKind.all and (region_ids or outlet_ids):
        raise ValueError("scope_kind 'all' takes no region_ids or outlet_ids")
