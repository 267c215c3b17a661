from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from audit_service.core.security import MIN_PASSWORD_LENGTH
from audit_service.core.types import DbId
from audit_service.models.accounts import Role, ScopeKind

USERNAME_PATTERN = r"^[A-Za-z0-9_.@-]{3,64}$"


class TokenPair(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth2 token type, not a secret
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
    region_ids: list[DbId] = Field(default_factory=list, max_length=1000, validate_default=True)
    outlet_ids: list[DbId] = Field(default_factory=list, max_length=10000, validate_default=True)

    @field_validator("region_ids", "outlet_ids")
    @classmethod
    def _ids_match_kind(cls, ids: list[int], info: ValidationInfo) -> list[int]:
        # Field validators (not a model one) so a 422 names region_ids / outlet_ids.
        kind = info.data.get("scope_kind")  # absent when scope_kind itself was invalid
        if kind is not None:
            message = _scope_problem(kind, str(info.field_name), ids)
            if message:
                raise ValueError(message)
        return ids


class UserCreate(_ScopeFields):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(pattern=USERNAME_PATTERN)
    display_name: str = Field("", max_length=200)
    password: str = Field(min_length=MIN_PASSWORD_LENGTH, max_length=200)
    role: Role
    staff_id: DbId | None = None


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


class ScopeError(ValueError):
    """A scope that does not match its kind; ``field`` names the offending field."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


def _scope_problem(kind: ScopeKind, field: str, ids: list[int]) -> str | None:
    wanted = {"region_ids": ScopeKind.regions, "outlet_ids": ScopeKind.outlets}[field]
    if kind is wanted and not ids:
        return f"scope_kind '{kind.value}' needs at least one id in {field}"
    if kind is not wanted and ids:
        return f"scope_kind '{kind.value}' takes no {field}"
    return None


def check_scope(kind: ScopeKind, region_ids: list[int], outlet_ids: list[int]) -> None:
    """Raise :class:`ScopeError` (a ``ValueError``) unless the ids fit the scope kind."""
    for field, ids in (("region_ids", region_ids), ("outlet_ids", outlet_ids)):
        message = _scope_problem(kind, field, ids)
        if message:
            raise ScopeError(message, field)
