"""Evidence: content-addressed blobs, their use per outlet, and the append-only access log."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from audit_service.core.db import Base, utcnow
from audit_service.models.organisation import Outlet


class EvidenceBlob(Base):
    """One stored object, keyed by the SHA-256 of its bytes: identical uploads share it."""

    __tablename__ = "evidence_blobs"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    content_type: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    width: Mapped[int | None] = mapped_column(default=None)
    height: Mapped[int | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class EvidenceItem(Base):
    """A blob as evidence for one outlet: the unit of access control."""

    __tablename__ = "evidence_items"
    __table_args__ = (UniqueConstraint("sha256", "outlet_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    sha256: Mapped[str] = mapped_column(ForeignKey("evidence_blobs.sha256"), index=True)
    outlet_id: Mapped[int] = mapped_column(ForeignKey("outlets.id"), index=True)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Where it came from: "upload", "camera:<code>", "audit", ...
    source: Mapped[str] = mapped_column(String(100), default="upload")
    caption: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    blob: Mapped[EvidenceBlob] = relationship()
    outlet: Mapped[Outlet] = relationship()


class EvidenceAccess(Base):
    """One minted view URL. Append-only: no route changes it, and a trigger forbids it."""

    __tablename__ = "evidence_access_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    evidence_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("evidence_items.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(500))
    client_ip: Mapped[str] = mapped_column(String(64), default="")
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    expires_at: Mapped[datetime]
