from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from audit_service.core.types import MAX_ID, DbId
from audit_service.models import EvidenceItem

SHA256_PATTERN = r"^[0-9a-fA-F]{64}$"
SOURCE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:/-]{0,99}$"

Sha256 = Annotated[
    str,
    Field(pattern=SHA256_PATTERN, description="SHA-256 of the file's bytes, 64 hex digits"),
    AfterValidator(str.lower),
]
Source = Annotated[
    str,
    Field(
        pattern=SOURCE_PATTERN,
        max_length=100,
        description='Where it came from: "upload", "camera:<code>", ...',
    ),
]
Caption = Annotated[str, Field(max_length=500)]
Purpose = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=5, max_length=500),
    Field(description="Why the evidence is being viewed (written to the access log)"),
]


class EvidenceRead(BaseModel):
    """An evidence item and its blob's metadata (never a URL: see /view-url)."""

    id: uuid.UUID
    outlet_id: int
    sha256: str
    content_type: str
    size_bytes: int
    width: int | None
    height: int | None
    source: str
    caption: str
    uploaded_by_id: int | None
    created_at: datetime

    @classmethod
    def of(cls, item: EvidenceItem) -> EvidenceRead:
        blob = item.blob
        return cls(
            id=item.id,
            outlet_id=item.outlet_id,
            sha256=item.sha256,
            content_type=blob.content_type,
            size_bytes=blob.size_bytes,
            width=blob.width,
            height=blob.height,
            source=item.source,
            caption=item.caption,
            uploaded_by_id=item.uploaded_by_id,
            created_at=item.created_at,
        )


class EvidencePage(BaseModel):
    items: list[EvidenceRead]
    total: int
    limit: int
    offset: int


class UploadUrlRequest(BaseModel):
    """Ask for a presigned PUT: the client then PUTs the bytes and calls /uploads/complete."""

    model_config = ConfigDict(extra="forbid")
    outlet_id: DbId
    sha256: Sha256
    size_bytes: int = Field(ge=1, le=MAX_ID, description="Size of the file in bytes")
    content_type: str = Field(max_length=100, description="image/jpeg, image/png or image/webp")


class UploadUrl(BaseModel):
    upload_url: str
    method: Literal["PUT"] = "PUT"
    headers: dict[str, str] = Field(description="Headers to send with the PUT")
    expires_at: datetime
    sha256: str
    max_bytes: int


class UploadComplete(BaseModel):
    model_config = ConfigDict(extra="forbid")
    outlet_id: DbId
    sha256: Sha256
    source: Source = "upload"
    caption: Caption = ""


class ViewUrlRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    purpose: Purpose


class ViewUrl(BaseModel):
    url: str
    expires_at: datetime
    evidence_id: uuid.UUID
    access_id: int


class AccessLogRead(BaseModel):
    id: int
    evidence_id: uuid.UUID
    outlet_id: int
    user_id: int
    username: str
    purpose: str
    client_ip: str
    at: datetime
    expires_at: datetime


class AccessLogPage(BaseModel):
    items: list[AccessLogRead]
    total: int
    limit: int
    offset: int


class BlobReceipt(BaseModel):
    """Answer to a PUT on a local presigned upload URL."""

    sha256: str
    size_bytes: int
