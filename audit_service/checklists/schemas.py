"""Request and response bodies of the checklist routes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from audit_service.models.audits import VersionStatus

CODE_PATTERN = r"^[a-z0-9][a-z0-9-]{1,63}$"


class LabelsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    zh: str = Field(min_length=1, max_length=200)
    en: str = Field(min_length=1, max_length=200)


class TemplateCreate(BaseModel):
    """A new template; its first draft is ``definition`` (or a one-item starter if omitted)."""

    model_config = ConfigDict(extra="forbid")
    code: str = Field(pattern=CODE_PATTERN, description="Lower-case letters, digits, dashes")
    definition: dict[str, Any] | None = Field(
        None, description="A checklist definition (docs/audits-api.md)"
    )


class VersionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    definition: dict[str, Any] | None = Field(
        None, description="The new draft's definition; omitted: a copy of the latest version"
    )


class VersionUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    definition: dict[str, Any]


class VersionSummary(BaseModel):
    id: int
    number: int
    status: VersionStatus
    created_at: datetime
    published_at: datetime | None
    items: int


class TemplateRead(BaseModel):
    id: int
    code: str
    name: dict[str, str]
    created_at: datetime
    versions: list[VersionSummary]
    latest_published_id: int | None


class VersionRead(BaseModel):
    id: int
    template_id: int
    template_code: str
    number: int
    status: VersionStatus
    created_at: datetime
    published_at: datetime | None
    definition: dict[str, Any]
