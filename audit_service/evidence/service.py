"""Evidence rules: verified uploads (direct or presigned PUT), scope, and logged view URLs.

* Bytes are sniffed and decoded before anything is stored (see ``images``); the declared
  type and file name are never trusted.
* The object goes to the store first, the rows second: if the store is down the request
  fails (503) before the database is touched, and the request's single commit never half-
  records an upload.
* Every view URL is minted after a scope check and logged in the same transaction; the log
  is append-only (no route changes it; migration 0002 makes the database refuse it too).
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from audit_service.authz import Permission, Principal
from audit_service.core.errors import (
    AuditLensError,
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
)
from audit_service.evidence import images
from audit_service.evidence import repository as repo
from audit_service.evidence.schemas import (
    AccessLogPage,
    AccessLogRead,
    BlobReceipt,
    EvidencePage,
    EvidenceRead,
    UploadComplete,
    UploadUrl,
    UploadUrlRequest,
    ViewUrl,
)
from audit_service.evidence.store import EvidenceStore, LocalEvidenceStore, ObjectTooLarge
from audit_service.models import EvidenceAccess, EvidenceBlob, EvidenceItem, Outlet

log = logging.getLogger(__name__)


def too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"file is larger than the upload limit of {limit} bytes ({limit / 1048576:.1f} MiB); "
        "send a smaller file",
        extra={"max_bytes": limit},
    )


def _whole_seconds(now: datetime) -> datetime:
    # URLs carry whole seconds (S3's X-Amz-Date, the local ?expires=): so does expires_at.
    return now.astimezone(UTC).replace(microsecond=0)


# ---------------------------------------------------------------- reading


def get_item(session: Session, principal: Principal, evidence_id: uuid.UUID) -> EvidenceItem:
    item = repo.item(session, evidence_id)
    if item is None:
        raise NotFound("evidence", evidence_id)
    principal.check_outlet(item.outlet_id, "evidence", evidence_id)
    return item


def _require_view_or_upload(principal: Principal) -> None:
    if not (principal.can(Permission.evidence_view) or principal.can(Permission.evidence_upload)):
        raise Forbidden(
            f"role '{principal.role.value}' lacks permission "
            f"'{Permission.evidence_view.value}' or '{Permission.evidence_upload.value}'"
        )


def read_item(session: Session, principal: Principal, evidence_id: uuid.UUID) -> EvidenceRead:
    _require_view_or_upload(principal)
    return EvidenceRead.of(get_item(session, principal, evidence_id))


def list_items(
    session: Session, principal: Principal, *, outlet_id: int | None, limit: int, offset: int
) -> EvidencePage:
    _require_view_or_upload(principal)
    rows, total = repo.list_items(
        session, principal, outlet_id=outlet_id, limit=limit, offset=offset
    )
    return EvidencePage(
        items=[EvidenceRead.of(r) for r in rows], total=total, limit=limit, offset=offset
    )


# ---------------------------------------------------------------- uploads


def _outlet_for_upload(session: Session, principal: Principal, outlet_id: int) -> Outlet:
    """Never trust the id in the body: look the outlet up and check it is in scope."""
    outlet = session.get(Outlet, outlet_id)
    if outlet is None:
        raise NotFound("outlet", outlet_id)
    principal.check_outlet(outlet.id, "outlet", outlet_id)
    return outlet


def _record(
    session: Session,
    store: EvidenceStore,
    principal: Principal,
    *,
    outlet: Outlet,
    sha256: str,
    data: bytes,
    info: images.ImageInfo,
    source: str,
    caption: str,
    now: datetime,
) -> tuple[EvidenceItem, bool]:
    """Store the object (once per content) and record blob + item; (item, created)."""
    if store.stat(sha256) is None:  # also heals an object lost from the store
        store.put(sha256, data, info.content_type)
    blob = session.get(EvidenceBlob, sha256)
    if blob is None:
        blob = EvidenceBlob(
            sha256=sha256,
            content_type=info.content_type,
            size_bytes=len(data),
            width=info.width,
            height=info.height,
            created_at=now,
        )
        session.add(blob)
    existing = repo.item_for(session, sha256, outlet.id)
    if existing is not None:
        return existing, False
    item = EvidenceItem(
        sha256=sha256,
        outlet_id=outlet.id,
        uploaded_by_id=principal.user_id,
        source=source,
        caption=caption,
        created_at=now,
    )
    item.blob = blob
    session.add(item)
    session.flush()
    return item, True


def upload(
    session: Session,
    store: EvidenceStore,
    principal: Principal,
    *,
    outlet_id: int,
    data: bytes,
    source: str,
    caption: str,
    max_bytes: int,
    now: datetime,
) -> tuple[EvidenceItem, bool]:
    """A file sent through the API (multipart). Returns (item, created)."""
    outlet = _outlet_for_upload(session, principal, outlet_id)
    if len(data) > max_bytes:
        raise too_large(max_bytes)
    info = images.inspect(data)
    sha256 = hashlib.sha256(data).hexdigest()
    return _record(
        session,
        store,
        principal,
        outlet=outlet,
        sha256=sha256,
        data=data,
        info=info,
        source=source,
        caption=caption,
        now=now,
    )


def _content_type(declared: str) -> str:
    value = declared.split(";", 1)[0].strip().lower()
    if value not in images.ACCEPTED:
        raise images.unsupported(f"content_type '{declared[:100]}'")
    return value


def create_upload_url(
    session: Session,
    store: EvidenceStore,
    principal: Principal,
    data: UploadUrlRequest,
    *,
    max_bytes: int,
    ttl_s: int,
    now: datetime,
) -> UploadUrl:
    _outlet_for_upload(session, principal, data.outlet_id)
    content_type = _content_type(data.content_type)
    if data.size_bytes > max_bytes:
        raise too_large(max_bytes)
    now = _whole_seconds(now)
    url = store.presigned_put(
        data.sha256, ttl_s=ttl_s, content_type=content_type, uploader_id=principal.user_id, now=now
    )
    return UploadUrl(
        upload_url=url,
        headers={"Content-Type": content_type},
        expires_at=now + timedelta(seconds=ttl_s),
        sha256=data.sha256,
        max_bytes=max_bytes,
    )


def _discard(store: EvidenceStore, sha256: str, uploader_id: int) -> None:
    try:
        store.discard_upload(sha256, uploader_id=uploader_id)
    except AuditLensError as exc:  # a leftover in the upload area harms nothing
        log.warning(
            "could not discard upload", extra={"ctx_sha256": sha256, "ctx_error": exc.detail}
        )


def complete_upload(
    session: Session,
    store: EvidenceStore,
    principal: Principal,
    data: UploadComplete,
    *,
    max_bytes: int,
    now: datetime,
) -> tuple[EvidenceItem, bool]:
    """Fetch what the caller PUT, verify hash, size and image, then record it."""
    outlet = _outlet_for_upload(session, principal, data.outlet_id)
    sha256, uid = data.sha256, principal.user_id
    try:
        raw = store.read_upload(sha256, uploader_id=uid, max_bytes=max_bytes)
    except ObjectTooLarge as exc:
        _discard(store, sha256, uid)
        raise too_large(max_bytes) from exc
    if raw is None:
        existing = repo.item_for(session, sha256, outlet.id)
        if existing is not None:  # a retried complete: the first one already recorded it
            return existing, False
        raise InvalidInput(
            f"sha256: nothing was uploaded for {sha256} by you; PUT the file to the "
            "upload_url from POST /api/v1/evidence/uploads first",
            field="sha256",
        )
    try:
        actual = hashlib.sha256(raw).hexdigest()
        if actual != sha256:
            raise InvalidInput(
                f"sha256: the uploaded bytes hash to {actual}, not {sha256}; "
                "the upload was discarded, upload the file again",
                field="sha256",
            )
        info = images.inspect(raw)
    except AuditLensError:
        _discard(store, sha256, uid)
        raise
    result = _record(
        session,
        store,
        principal,
        outlet=outlet,
        sha256=sha256,
        data=raw,
        info=info,
        source=data.source,
        caption=data.caption,
        now=now,
    )
    _discard(store, sha256, uid)
    return result


# ---------------------------------------------------------------- viewing and its log


def mint_view_url(
    session: Session,
    store: EvidenceStore,
    principal: Principal,
    evidence_id: uuid.UUID,
    *,
    purpose: str,
    client_ip: str,
    ttl_s: int,
    now: datetime,
) -> ViewUrl:
    """A short-lived URL to the bytes; the same transaction appends the access-log row."""
    item = get_item(session, principal, evidence_id)
    if store.stat(item.sha256) is None:
        raise Conflict(
            f"evidence {evidence_id}: its file is missing from the object store; "
            "upload the same file again to restore it"
        )
    now = _whole_seconds(now)
    url = store.presigned_get(
        item.sha256, ttl_s=ttl_s, content_type=item.blob.content_type, now=now
    )
    row = EvidenceAccess(
        evidence_id=item.id,
        user_id=principal.user_id,
        purpose=purpose,
        client_ip=client_ip[:64],
        at=now,
        expires_at=now + timedelta(seconds=ttl_s),
    )
    session.add(row)
    session.flush()
    return ViewUrl(url=url, expires_at=row.expires_at, evidence_id=item.id, access_id=row.id)


def read_for_embedding(
    session: Session, store: EvidenceStore, principal: Principal, evidence_id: uuid.UUID
) -> tuple[EvidenceItem, bytes]:
    """An item's bytes, to embed in a document (the PDF audit report): scope and permission
    checked like a view URL. Nothing is logged yet: call :func:`log_embedded` once the bytes
    are really used."""
    principal.require(Permission.evidence_view)
    item = get_item(session, principal, evidence_id)
    if store.stat(item.sha256) is None:
        raise Conflict(
            f"evidence {evidence_id}: its file is missing from the object store; "
            "upload the same file again to restore it"
        )
    return item, store.get(item.sha256)


def log_embedded(
    session: Session,
    principal: Principal,
    item: EvidenceItem,
    *,
    purpose: str,
    client_ip: str,
    now: datetime,
) -> EvidenceAccess:
    """The access-log row for evidence embedded in a document, as :func:`mint_view_url` writes
    for a view URL. No URL outlives the response, so it expires when it is written."""
    now = _whole_seconds(now)
    row = EvidenceAccess(
        evidence_id=item.id,
        user_id=principal.user_id,
        purpose=purpose,
        client_ip=client_ip[:64],
        at=now,
        expires_at=now,
    )
    session.add(row)
    session.flush()
    return row


def access_log(
    session: Session,
    principal: Principal,
    *,
    evidence_id: uuid.UUID | None,
    user_id: int | None,
    start: datetime | None,
    end: datetime | None,
    limit: int,
    offset: int,
) -> AccessLogPage:
    if start is not None and end is not None and end <= start:
        raise InvalidInput("end: must be after start", field="end")
    rows, total = repo.access_log(
        session,
        principal,
        evidence_id=evidence_id,
        user_id=user_id,
        start=start,
        end=end,
        limit=limit,
        offset=offset,
    )
    items = [
        AccessLogRead(
            id=row.id,
            evidence_id=row.evidence_id,
            outlet_id=outlet_id,
            user_id=row.user_id,
            username=username,
            purpose=row.purpose,
            client_ip=row.client_ip,
            at=row.at,
            expires_at=row.expires_at,
        )
        for row, outlet_id, username in rows
    ]
    return AccessLogPage(items=items, total=total, limit=limit, offset=offset)


# ---------------------------------------------------------------- local backend URLs


def local_store(store: EvidenceStore) -> LocalEvidenceStore:
    if not isinstance(store, LocalEvidenceStore):
        raise NotFound(
            "local evidence URL", "(this server keeps evidence in S3; use the URL the API gave you)"
        )
    return store


def check_local_url(
    store: LocalEvidenceStore,
    method: str,
    sha256: str,
    *,
    expires: int,
    content_type: str,
    sig: str,
    uploader_id: int | None,
    now: datetime,
) -> None:
    now_s = now.timestamp()
    if store.expired(expires, now_s=now_s):
        at = datetime.fromtimestamp(min(expires, 253402300799), UTC).isoformat()
        raise Forbidden(f"this evidence URL expired at {at}; ask the API for a new one")
    if not store.verify(
        method, sha256, expires, content_type, sig, uploader_id=uploader_id, now_s=now_s
    ):
        raise Forbidden(
            "this evidence URL's signature is invalid (the URL was altered or not "
            "issued by this server); ask the API for a new one"
        )


def receive_local_put(
    store: LocalEvidenceStore, sha256: str, *, uploader_id: int, data: bytes
) -> BlobReceipt:
    actual = hashlib.sha256(data).hexdigest()
    if actual != sha256:
        raise InvalidInput(
            f"body hashes to {actual}, not {sha256} (the sha256 in the URL); PUT exactly "
            "the file you asked the upload URL for",
            field="body",
        )
    store.write_upload(sha256, uploader_id=uploader_id, data=data)
    return BlobReceipt(sha256=sha256, size_bytes=len(data))
