"""Evidence: uploads (multipart or presigned PUT), metadata, logged view URLs, the access log.

Bytes are never served to a bearer token directly: a caller with ``evidence:view`` asks for a
short-lived presigned URL (``/view-url``), and each such mint is logged. With the local backend
the presigned URLs point at ``/evidence/blobs/{sha256}``, which needs no token, only a valid
signature.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Path, Query, Request, Response, UploadFile, status
from fastapi.routing import APIRoute
from pydantic import AwareDatetime
from starlette.concurrency import run_in_threadpool

from audit_service.authz import Permission
from audit_service.core.types import MAX_ID
from audit_service.deps import (
    ClientIpDep,
    ClockDep,
    PrincipalDep,
    Requires,
    SessionDep,
    SettingsDep,
    StoreDep,
)
from audit_service.evidence import images, service
from audit_service.evidence.schemas import (
    SOURCE_PATTERN,
    AccessLogPage,
    BlobReceipt,
    EvidencePage,
    EvidenceRead,
    UploadComplete,
    UploadUrl,
    UploadUrlRequest,
    ViewUrl,
    ViewUrlRequest,
)

Uploader = Requires(Permission.evidence_upload)
Viewer = Requires(Permission.evidence_view)
LogReader = Requires(Permission.evidence_log)

# Room for the multipart boundaries and the small text fields around the file.
FORM_OVERHEAD = 64 * 1024
MAX_EXPIRES = 253402300799  # 9999-12-31: bounds the query value, nothing valid comes close

BlobSha = Annotated[str, Path(pattern=r"^[0-9a-f]{64}$", description="SHA-256 (lowercase hex)")]

_EXISTING = {
    200: {
        "model": EvidenceRead,
        "description": "The identical file is already evidence for this outlet: "
        "the existing item (nothing new stored)",
    }
}


async def read_body_bounded(request: Request, *, cap: int, limit: int) -> bytes:
    """The request body, refused with 413 as soon as it passes ``cap`` bytes.

    A declared Content-Length over the cap is refused before reading anything; a chunked body
    is read only until it passes the cap, so no client can make the API hold more than that.
    """
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > cap:
        raise service.too_large(limit)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > cap:
            raise service.too_large(limit)
    return bytes(body)


class BoundedUploadRoute(APIRoute):
    """Reads the body itself, within the upload limit, before FastAPI parses the form.

    Without this the multipart parser would spool a body of any size to disk first.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def bounded(request: Request) -> Response:
            limit = request.app.state.settings.max_upload_bytes
            body = await read_body_bounded(request, cap=limit + FORM_OVERHEAD, limit=limit)
            # Starlette's Request.stream()/form() replay a body already read into ``_body``.
            request._body = body
            return await handler(request)

        return bounded


router = APIRouter(tags=["evidence"])
upload_router = APIRouter(tags=["evidence"], route_class=BoundedUploadRoute)


@upload_router.post(
    "/evidence",
    response_model=EvidenceRead,
    status_code=status.HTTP_201_CREATED,
    responses=_EXISTING,
    summary="Upload an image (JPEG, PNG, WebP) as evidence for an outlet",
    description="The type is sniffed from the bytes and the image must decode in full. An "
    "identical file is stored once; for the same outlet the existing item is "
    "returned with 200.",
)
def upload(
    response: Response,
    caller: Uploader,
    session: SessionDep,
    store: StoreDep,
    settings: SettingsDep,
    clock: ClockDep,
    file: Annotated[UploadFile, File(description="The image")],
    outlet_id: Annotated[int, Form(ge=1, le=MAX_ID)],
    source: Annotated[str, Form(pattern=SOURCE_PATTERN, max_length=100)] = "upload",
    caption: Annotated[str, Form(max_length=500)] = "",
) -> EvidenceRead:
    limit = settings.max_upload_bytes
    data = file.file.read(limit + 1)  # bounded: one byte past the limit is enough to refuse
    item, created = service.upload(
        session,
        store,
        caller,
        outlet_id=outlet_id,
        data=data,
        source=source,
        caption=caption,
        max_bytes=limit,
        now=clock(),
    )
    if not created:
        response.status_code = status.HTTP_200_OK
    return EvidenceRead.of(item)


router.include_router(upload_router)


@router.get(
    "/evidence",
    response_model=EvidencePage,
    summary="Evidence items in scope, newest first (metadata only)",
)
def list_evidence(
    caller: PrincipalDep,
    session: SessionDep,
    outlet_id: int | None = Query(None, ge=1, le=MAX_ID),
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0, le=MAX_ID),
) -> EvidencePage:
    return service.list_items(session, caller, outlet_id=outlet_id, limit=limit, offset=offset)


@router.post(
    "/evidence/uploads",
    response_model=UploadUrl,
    summary="Get a presigned PUT URL for an image (then PUT it, then /complete)",
)
def create_upload_url(
    body: UploadUrlRequest,
    caller: Uploader,
    session: SessionDep,
    store: StoreDep,
    settings: SettingsDep,
    clock: ClockDep,
) -> UploadUrl:
    return service.create_upload_url(
        session,
        store,
        caller,
        body,
        max_bytes=settings.max_upload_bytes,
        ttl_s=settings.presign_ttl_s,
        now=clock(),
    )


@router.post(
    "/evidence/uploads/complete",
    response_model=EvidenceRead,
    status_code=status.HTTP_201_CREATED,
    responses=_EXISTING,
    summary="Record a file PUT to a presigned URL (hash, size and image verified)",
    description="An upload that fails verification is discarded (413, 415 or 422).",
)
def complete_upload(
    body: UploadComplete,
    response: Response,
    caller: Uploader,
    session: SessionDep,
    store: StoreDep,
    settings: SettingsDep,
    clock: ClockDep,
) -> EvidenceRead:
    item, created = service.complete_upload(
        session, store, caller, body, max_bytes=settings.max_upload_bytes, now=clock()
    )
    if not created:
        response.status_code = status.HTTP_200_OK
    return EvidenceRead.of(item)


@router.get(
    "/evidence/access-log",
    response_model=AccessLogPage,
    summary="Who minted which view URL, when and why (newest first; read-only)",
)
def access_log(
    caller: LogReader,
    session: SessionDep,
    evidence_id: uuid.UUID | None = None,
    user_id: int | None = Query(None, ge=1, le=MAX_ID),
    start: AwareDatetime | None = Query(None, description="From this instant (inclusive)"),
    end: AwareDatetime | None = Query(None, description="Until this instant (exclusive)"),
    limit: int = Query(100, ge=1, le=500),
    offset: int = Query(0, ge=0, le=MAX_ID),
) -> AccessLogPage:
    return service.access_log(
        session,
        caller,
        evidence_id=evidence_id,
        user_id=user_id,
        start=start,
        end=end,
        limit=limit,
        offset=offset,
    )


_BLOB_CONTENT = {ct: {"schema": {"type": "string", "format": "binary"}} for ct in images.ACCEPTED}


@router.get(
    "/evidence/blobs/{sha256}",
    response_class=Response,
    responses={200: {"description": "The image", "content": _BLOB_CONTENT}},
    summary="Download through a presigned URL (local backend; the signature, not a token)",
)
def get_blob(
    sha256: BlobSha,
    store: StoreDep,
    clock: ClockDep,
    expires: int = Query(ge=0, le=MAX_EXPIRES),
    ct: str = Query(max_length=100),
    sig: str = Query(max_length=128),
) -> Response:
    local = service.local_store(store)
    service.check_local_url(
        local,
        "GET",
        sha256,
        expires=expires,
        content_type=ct,
        sig=sig,
        uploader_id=None,
        now=clock(),
    )
    data = local.get(sha256)
    return Response(
        content=data,
        media_type=ct,
        headers={
            "Cache-Control": "private, no-store",
            "X-Content-Type-Options": "nosniff",
            "Content-Disposition": "inline",
        },
    )


@router.put(
    "/evidence/blobs/{sha256}",
    response_model=BlobReceipt,
    summary="Upload through a presigned URL (local backend; the signature, not a token)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
            },
        }
    },
)
async def put_blob(
    sha256: BlobSha,
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    clock: ClockDep,
    expires: int = Query(ge=0, le=MAX_EXPIRES),
    ct: str = Query(max_length=100),
    u: int = Query(ge=1, le=MAX_ID, description="The uploader the URL was issued to"),
    sig: str = Query(max_length=128),
) -> BlobReceipt:
    local = service.local_store(store)
    # The signature is checked before a byte of the body is read.
    service.check_local_url(
        local, "PUT", sha256, expires=expires, content_type=ct, sig=sig, uploader_id=u, now=clock()
    )
    limit = settings.max_upload_bytes
    data = await read_body_bounded(request, cap=limit, limit=limit)
    return await run_in_threadpool(
        service.receive_local_put, local, sha256, uploader_id=u, data=data
    )


@router.get(
    "/evidence/{evidence_id}",
    response_model=EvidenceRead,
    summary="An evidence item's metadata (no URL: see /view-url)",
)
def get_evidence(evidence_id: uuid.UUID, caller: PrincipalDep, session: SessionDep) -> EvidenceRead:
    return service.read_item(session, caller, evidence_id)


@router.post(
    "/evidence/{evidence_id}/view-url",
    response_model=ViewUrl,
    summary="Mint a short-lived download URL (logged with its purpose)",
)
def view_url(
    evidence_id: uuid.UUID,
    body: ViewUrlRequest,
    caller: Viewer,
    session: SessionDep,
    store: StoreDep,
    settings: SettingsDep,
    clock: ClockDep,
    client_ip: ClientIpDep,
) -> ViewUrl:
    return service.mint_view_url(
        session,
        store,
        caller,
        evidence_id,
        purpose=body.purpose,
        client_ip=client_ip,
        ttl_s=settings.presign_ttl_s,
        now=clock(),
    )
