"""Evidence API: verified uploads, presigned PUT, scope, logged view URLs, the append-only log.

Runs on SQLite and PostgreSQL (``client``/``db``); the S3 cases use moto's real S3 server
through the real minio SDK.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import random
import shutil
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from PIL import Image
from pydantic import SecretStr
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from audit_service.app import create_app
from audit_service.core import migrate
from audit_service.core.db import make_engine, make_sessionmaker
from audit_service.evidence.store import object_key
from audit_service.models import EvidenceAccess, EvidenceBlob, EvidenceItem, Role
from tests import factories as f
from tests.conftest import _drop_pg_database, _pg_database, free_port

API = "/api/v1"
TTL = 300  # settings.presign_ttl_s default


# ---------------------------------------------------------------- images, made in memory


def image(fmt: str = "JPEG", seed: int = 0, size: tuple[int, int] = (32, 24)) -> bytes:
    pixels = random.Random(seed).randbytes(size[0] * size[1] * 3)
    buf = io.BytesIO()
    Image.frombytes("RGB", size, pixels).save(buf, fmt)
    return buf.getvalue()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# ---------------------------------------------------------------- world and helpers


@pytest.fixture
def world(db):  # type: ignore[no-untyped-def]
    r1, r2 = f.region(db, "R1"), f.region(db, "R2", "Region Two")
    o1, o2 = f.outlet(db, r1, "O1"), f.outlet(db, r2, "O2")
    users = {
        "admin": f.user(db, "admin", Role.admin),
        "sup": f.user(db, "sup", Role.supervisor, outlets=[o1]),
        "sup2": f.user(db, "sup2", Role.supervisor, outlets=[o1]),
        "aud": f.user(db, "aud", Role.auditor, outlets=[o1]),
        "hr": f.user(db, "hr", Role.hr),
        "hr1": f.user(db, "hr1", Role.hr, regions=[r1]),
    }
    db.commit()
    return SimpleNamespace(o1=o1.id, o2=o2.id, ids={k: u.id for k, u in users.items()})


_headers: dict[tuple[int, str], dict[str, str]] = {}


def auth(client: TestClient, name: str) -> dict[str, str]:
    key = (id(client), name)
    if key not in _headers:
        _headers[key] = f.login(client, name)
    return _headers[key]


@pytest.fixture(autouse=True)
def _fresh_logins():  # type: ignore[no-untyped-def]
    yield
    _headers.clear()


def upload(
    client: TestClient,
    who: str,
    outlet_id: int,
    data: bytes,
    *,
    name: str = "photo.jpg",
    declared: str = "image/jpeg",
    **form: str,
) -> httpx.Response:
    return client.post(
        f"{API}/evidence",
        headers=auth(client, who),
        files={"file": (name, data, declared)},
        data={"outlet_id": str(outlet_id), **form},
    )


def count(db, model) -> int:  # type: ignore[no-untyped-def]
    db.rollback()  # see what the API committed
    return int(db.scalar(select(func.count()).select_from(model)))


def stored_files(app, area: str = "sha256") -> list[Path]:  # type: ignore[no-untyped-def]
    base = app.state.evidence_store.root / area
    return [p for p in base.rglob("*") if p.is_file()] if base.exists() else []


def nothing_recorded(db) -> bool:  # type: ignore[no-untyped-def]
    return count(db, EvidenceBlob) == 0 and count(db, EvidenceItem) == 0


def view_url(
    client: TestClient, who: str, evidence_id: Any, purpose: str = "complaint #123 review"
) -> httpx.Response:
    return client.post(
        f"{API}/evidence/{evidence_id}/view-url",
        headers=auth(client, who),
        json={"purpose": purpose},
    )


def seed_item(db, outlet_id: int, *, seed: int = 99, user_id: int | None = None) -> EvidenceItem:  # type: ignore[no-untyped-def]
    """An item recorded straight through the ORM (its bytes are not in any store)."""
    data = image("PNG", seed)
    if db.get(EvidenceBlob, sha(data)) is None:
        db.add(
            EvidenceBlob(
                sha256=sha(data),
                content_type="image/png",
                size_bytes=len(data),
                width=32,
                height=24,
            )
        )
    item = EvidenceItem(sha256=sha(data), outlet_id=outlet_id, uploaded_by_id=user_id)
    db.add(item)
    db.commit()
    return item


# ---------------------------------------------------------------- direct upload


def test_upload_jpeg_records_sniffed_metadata_and_stores_the_object(app, client, db, world):
    data = image("JPEG", 1, (40, 30))

    resp = upload(client, "sup", world.o1, data, source="audit", caption="counter 3")

    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert body["sha256"] == sha(data)
    assert body["content_type"] == "image/jpeg"
    assert (body["width"], body["height"]) == (40, 30)
    assert body["size_bytes"] == len(data)
    assert body["outlet_id"] == world.o1
    assert body["uploaded_by_id"] == world.ids["sup"]
    assert (body["source"], body["caption"]) == ("audit", "counter 3")
    assert "url" not in body
    uuid.UUID(body["id"])
    assert count(db, EvidenceBlob) == 1 and count(db, EvidenceItem) == 1
    assert app.state.evidence_store.get(sha(data)) == data


def test_upload_png_and_webp_are_accepted(client, db, world):
    for fmt, content_type in (("PNG", "image/png"), ("WEBP", "image/webp")):
        resp = upload(
            client,
            "sup",
            world.o1,
            image(fmt, 2),
            name="x.bin",
            declared="application/octet-stream",
        )
        assert resp.status_code == 201, resp.text
        assert resp.json()["content_type"] == content_type
    assert count(db, EvidenceItem) == 2


def test_declared_type_and_name_are_not_trusted(client, world):
    png = image("PNG", 3)
    resp = upload(client, "sup", world.o1, png, name="photo.jpg", declared="image/jpeg")
    assert resp.status_code == 201, resp.text
    assert resp.json()["content_type"] == "image/png"


def test_identical_upload_is_stored_once_and_returns_the_existing_item(app, client, db, world):
    data = image("JPEG", 4)
    first = upload(client, "sup", world.o1, data)
    assert first.status_code == 201, first.text

    again = upload(client, "sup2", world.o1, data, caption="same photo")

    assert again.status_code == 200, again.text
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["uploaded_by_id"] == world.ids["sup"]
    assert count(db, EvidenceBlob) == 1 and count(db, EvidenceItem) == 1

    other_outlet = upload(client, "admin", world.o2, data)

    assert other_outlet.status_code == 201, other_outlet.text
    assert other_outlet.json()["id"] != first.json()["id"]
    assert other_outlet.json()["sha256"] == first.json()["sha256"]
    assert count(db, EvidenceBlob) == 1 and count(db, EvidenceItem) == 2
    assert len(stored_files(app)) == 1


def test_a_lost_object_is_restored_by_uploading_the_same_file(app, client, db, world):
    data = image("JPEG", 5)
    assert upload(client, "sup", world.o1, data).status_code == 201
    (app.state.evidence_store.root / object_key(sha(data))).unlink()

    assert upload(client, "sup", world.o1, data).status_code == 200

    assert app.state.evidence_store.get(sha(data)) == data


def test_non_image_renamed_jpg_is_415_and_nothing_is_stored(app, client, db, world):
    resp = upload(
        client,
        "sup",
        world.o1,
        b"just some notes, honest\n" * 20,
        name="notes.jpg",
        declared="image/jpeg",
    )

    assert resp.status_code == 415, resp.text
    detail = resp.json()["detail"]
    assert "image/jpeg, image/png, image/webp" in detail
    assert resp.json()["accepted"] == ["image/jpeg", "image/png", "image/webp"]
    assert nothing_recorded(db)
    assert stored_files(app) == []


def test_other_image_formats_are_415(client, db, world):
    resp = upload(client, "sup", world.o1, image("GIF", 1), name="a.gif", declared="image/gif")
    assert resp.status_code == 415, resp.text
    assert nothing_recorded(db)


def test_oversized_upload_is_413_naming_the_limit_and_nothing_is_stored(
    app, client, db, world, settings
):
    limit = settings.max_upload_bytes
    data = image("PNG", 1)
    data += b"\0" * (limit + 1 - len(data))  # one byte over, within the form allowance

    resp = upload(client, "sup", world.o1, data, name="big.png", declared="image/png")

    assert resp.status_code == 413, resp.text
    assert str(limit) in resp.json()["detail"]
    assert nothing_recorded(db)
    assert stored_files(app) == []


def test_a_body_far_over_the_limit_is_413(client, db, world, settings):
    huge = b"\xff\xd8\xff" + b"\0" * (2 * settings.max_upload_bytes)
    resp = upload(client, "sup", world.o1, huge)
    assert resp.status_code == 413, resp.text
    assert str(settings.max_upload_bytes) in resp.json()["detail"]
    assert nothing_recorded(db)


def test_upload_body_is_not_read_past_the_limit(app, settings):
    """A chunked body without Content-Length: the API stops pulling once past the limit."""
    chunk = 64 * 1024
    enough = settings.max_upload_bytes // chunk + 3  # the limit, the form allowance, one more
    pulled = 0

    async def receive() -> dict[str, Any]:
        nonlocal pulled
        pulled += 1
        if pulled > 3 * enough:  # end the stream for an implementation that never stops
            return {"type": "http.request", "body": b"", "more_body": False}
        return {"type": "http.request", "body": b"\0" * chunk, "more_body": True}

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": f"{API}/evidence",
        "raw_path": f"{API}/evidence".encode(),
        "root_path": "",
        "query_string": b"",
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
        "headers": [
            (b"host", b"testserver"),
            (b"content-type", b"multipart/form-data; boundary=xyz"),
            (b"transfer-encoding", b"chunked"),
        ],
    }
    asyncio.run(app(scope, receive, send))

    assert sent[0]["status"] == 413
    assert pulled <= enough


def test_truncated_jpeg_is_422_does_not_decode(app, client, db, world):
    data = image("JPEG", 6, (64, 64))

    resp = upload(client, "sup", world.o1, data[: len(data) // 2])

    assert resp.status_code == 422, resp.text
    assert "file does not decode as an image" in resp.json()["detail"]
    assert nothing_recorded(db)
    assert stored_files(app) == []


def test_corrupt_png_is_422(client, db, world):
    data = bytearray(image("PNG", 7, (32, 32)))
    data[60:200] = bytes(140)  # damage the compressed pixel data

    resp = upload(client, "sup", world.o1, bytes(data), name="x.png", declared="image/png")

    assert resp.status_code == 422, resp.text
    assert "does not decode" in resp.json()["detail"]
    assert nothing_recorded(db)


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_decompression_bombs_are_refused_clearly(client, db, world, monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    # Over the limit (Pillow only warns) and over twice the limit (Pillow raises).
    for size in ((40, 40), (64, 64)):
        resp = upload(client, "sup", world.o1, image("PNG", 8, size), declared="image/png")
        assert resp.status_code == 422, resp.text
        assert "decompression-bomb" in resp.json()["detail"]
        assert "1000" in resp.json()["detail"]
    assert nothing_recorded(db)


def test_upload_needs_the_permission_and_an_outlet_in_scope(app, client, db, world):
    data = image("JPEG", 9)

    assert upload(client, "hr", world.o1, data).status_code == 403
    out_of_scope = upload(client, "sup", world.o2, data)
    assert out_of_scope.status_code == 404
    assert upload(client, "admin", 999_999, data).status_code == 404
    assert (
        client.post(
            f"{API}/evidence",
            files={"file": ("a.jpg", data, "image/jpeg")},
            data={"outlet_id": str(world.o1)},
        ).status_code
        == 401
    )
    assert nothing_recorded(db)
    assert stored_files(app) == []


def test_upload_form_fields_are_validated(client, world):
    resp = upload(client, "sup", world.o1, image("JPEG", 1), source="bad source!")
    assert resp.status_code == 422
    resp = client.post(
        f"{API}/evidence", headers=auth(client, "sup"), data={"outlet_id": str(world.o1)}
    )
    assert resp.status_code == 422


# ---------------------------------------------------------------- presigned PUT


def ask_upload_url(
    client: TestClient, who: str, outlet_id: int, data: bytes, content_type: str = "image/png"
) -> httpx.Response:
    return client.post(
        f"{API}/evidence/uploads",
        headers=auth(client, who),
        json={
            "outlet_id": outlet_id,
            "sha256": sha(data),
            "size_bytes": len(data),
            "content_type": content_type,
        },
    )


def complete(
    client: TestClient, who: str, outlet_id: int, data: bytes, **extra: str
) -> httpx.Response:
    return client.post(
        f"{API}/evidence/uploads/complete",
        headers=auth(client, who),
        json={"outlet_id": outlet_id, "sha256": sha(data), **extra},
    )


def test_presigned_put_flow_on_the_local_backend(app, client, db, world, clock):
    data = image("PNG", 10)

    ticket = ask_upload_url(client, "aud", world.o1, data)
    assert ticket.status_code == 200, ticket.text
    t = ticket.json()
    assert t["method"] == "PUT"
    assert t["upload_url"].startswith(f"http://testserver{API}/evidence/blobs/{sha(data)}?")
    assert t["headers"] == {"Content-Type": "image/png"}
    assert t["expires_at"] == (clock() + timedelta(seconds=TTL)).isoformat().replace("+00:00", "Z")
    assert nothing_recorded(db)

    put = client.put(t["upload_url"], content=data, headers=t["headers"])  # no bearer token
    assert put.status_code == 200, put.text
    assert put.json() == {"sha256": sha(data), "size_bytes": len(data)}
    assert nothing_recorded(db)

    done = complete(client, "aud", world.o1, data, source="audit", caption="shelf")

    assert done.status_code == 201, done.text
    body = done.json()
    assert (body["sha256"], body["content_type"], body["source"]) == (
        sha(data),
        "image/png",
        "audit",
    )
    assert body["uploaded_by_id"] == world.ids["aud"]
    assert count(db, EvidenceItem) == 1
    assert app.state.evidence_store.get(sha(data)) == data
    assert stored_files(app, "uploads") == []  # the upload area is emptied

    # A retried complete returns the item; it does not need the upload any more.
    retry = complete(client, "aud", world.o1, data)
    assert retry.status_code == 200, retry.text
    assert retry.json()["id"] == body["id"]


def test_presigned_put_url_expires_and_rejects_a_bad_signature(client, db, world, clock):
    data = image("PNG", 11)
    url = ask_upload_url(client, "sup", world.o1, data).json()["upload_url"]

    bad = client.put(url.replace("sig=", "sig=0"), content=data)
    assert bad.status_code == 403
    assert "signature" in bad.json()["detail"]

    clock.advance(seconds=TTL + 1)
    expired = client.put(url, content=data)
    assert expired.status_code == 403
    assert "expired" in expired.json()["detail"]
    assert complete(client, "sup", world.o1, data).status_code == 422
    assert nothing_recorded(db)


def test_presigned_put_of_other_bytes_is_refused(client, db, world):
    data = image("PNG", 12)
    url = ask_upload_url(client, "sup", world.o1, data).json()["upload_url"]

    resp = client.put(url, content=image("PNG", 13))

    assert resp.status_code == 422
    assert "hashes to" in resp.json()["detail"]
    assert complete(client, "sup", world.o1, data).status_code == 422
    assert nothing_recorded(db)


def test_complete_refuses_a_non_image_and_discards_it(app, client, db, world):
    text_file = b"not an image at all\n" * 10
    url = ask_upload_url(client, "sup", world.o1, text_file).json()["upload_url"]
    assert client.put(url, content=text_file).status_code == 200  # hash matches: accepted
    assert len(stored_files(app, "uploads")) == 1

    resp = complete(client, "sup", world.o1, text_file)

    assert resp.status_code == 415, resp.text
    assert nothing_recorded(db)
    assert stored_files(app, "uploads") == [] and stored_files(app) == []


def test_complete_refuses_a_truncated_image_and_discards_it(app, client, db, world):
    broken = image("JPEG", 14, (64, 64))[:900]
    url = ask_upload_url(client, "sup", world.o1, broken, "image/jpeg").json()["upload_url"]
    assert client.put(url, content=broken).status_code == 200

    resp = complete(client, "sup", world.o1, broken)

    assert resp.status_code == 422, resp.text
    assert "does not decode" in resp.json()["detail"]
    assert nothing_recorded(db)
    assert stored_files(app, "uploads") == [] and stored_files(app) == []


def test_complete_needs_your_own_upload(client, db, world):
    """Knowing a hash is not enough: the caller must have PUT the bytes itself."""
    data = image("PNG", 15)
    url = ask_upload_url(client, "sup", world.o1, data).json()["upload_url"]
    assert client.put(url, content=data).status_code == 200

    resp = complete(client, "sup2", world.o1, data)

    assert resp.status_code == 422, resp.text
    assert "nothing was uploaded" in resp.json()["detail"]
    assert nothing_recorded(db)
    # Nor may the URL be redirected to someone else's upload area.
    assert (
        client.put(
            url.replace(f"u={world.ids['sup']}", f"u={world.ids['sup2']}"), content=data
        ).status_code
        == 403
    )


def test_upload_url_request_is_checked(client, world, settings):
    data = image("PNG", 16)
    assert ask_upload_url(client, "sup", world.o2, data).status_code == 404
    assert ask_upload_url(client, "hr", world.o1, data).status_code == 403
    wrong_type = ask_upload_url(client, "sup", world.o1, data, "application/pdf")
    assert wrong_type.status_code == 415
    assert "image/jpeg, image/png, image/webp" in wrong_type.json()["detail"]
    big = client.post(
        f"{API}/evidence/uploads",
        headers=auth(client, "sup"),
        json={
            "outlet_id": world.o1,
            "sha256": sha(data),
            "size_bytes": settings.max_upload_bytes + 1,
            "content_type": "image/png",
        },
    )
    assert big.status_code == 413
    assert str(settings.max_upload_bytes) in big.json()["detail"]
    bad_sha = client.post(
        f"{API}/evidence/uploads",
        headers=auth(client, "sup"),
        json={"outlet_id": world.o1, "sha256": "abc", "size_bytes": 5, "content_type": "image/png"},
    )
    assert bad_sha.status_code == 422


def test_complete_checks_scope_before_touching_the_upload(app, client, db, world):
    data = image("PNG", 17)
    url = ask_upload_url(client, "sup", world.o1, data).json()["upload_url"]
    assert client.put(url, content=data).status_code == 200

    assert complete(client, "sup", world.o2, data).status_code == 404

    assert nothing_recorded(db)
    assert len(stored_files(app, "uploads")) == 1  # still there for the right outlet
    assert complete(client, "sup", world.o1, data).status_code == 201


# ---------------------------------------------------------------- S3 backend (moto)


@pytest.fixture
def s3_client(settings, clock, s3_server, s3_bucket):  # type: ignore[no-untyped-def]
    s3_settings = settings.model_copy(
        update={
            "evidence_backend": "s3",
            "s3_endpoint": s3_server,
            "s3_access_key": SecretStr("testing"),
            "s3_secret_key": SecretStr("testing"),
            "s3_bucket": s3_bucket,
        }
    )
    application = create_app(s3_settings, clock=clock, configure_logs=False)
    with TestClient(application, raise_server_exceptions=False) as c:
        yield c
    application.state.engine.dispose()


def bucket_keys(client: TestClient) -> list[str]:
    store = client.app.state.evidence_store
    return sorted(o.object_name for o in store.client.list_objects(store.bucket, recursive=True))


def test_presigned_put_flow_on_s3(s3_client, db, world):
    data = image("JPEG", 20)
    ticket = ask_upload_url(s3_client, "sup", world.o1, data, "image/jpeg")
    assert ticket.status_code == 200, ticket.text
    t = ticket.json()
    assert "X-Amz-Signature=" in t["upload_url"]
    assert f"/uploads/{world.ids['sup']}/{sha(data)}?" in t["upload_url"]

    put = httpx.put(t["upload_url"], content=data, headers=t["headers"], timeout=10)
    assert put.status_code == 200, put.text

    done = complete(s3_client, "sup", world.o1, data)

    assert done.status_code == 201, done.text
    assert done.json()["content_type"] == "image/jpeg"
    assert count(db, EvidenceItem) == 1
    assert bucket_keys(s3_client) == [object_key(sha(data))]

    minted = view_url(s3_client, "sup", done.json()["id"])
    assert minted.status_code == 200, minted.text
    got = httpx.get(minted.json()["url"], timeout=10)
    assert got.status_code == 200
    assert got.content == data
    assert got.headers["content-type"] == "image/jpeg"


def test_s3_upload_of_other_bytes_is_discarded_and_nothing_recorded(s3_client, db, world):
    declared = image("PNG", 21)
    ticket = ask_upload_url(s3_client, "sup", world.o1, declared).json()
    # S3 does not check content against the key: the API does, on complete.
    httpx.put(ticket["upload_url"], content=image("PNG", 22), timeout=10).raise_for_status()

    resp = complete(s3_client, "sup", world.o1, declared)

    assert resp.status_code == 422, resp.text
    assert "hash to" in resp.json()["detail"]
    assert nothing_recorded(db)
    assert bucket_keys(s3_client) == []


def test_direct_upload_and_dedupe_on_s3(s3_client, db, world):
    data = image("PNG", 23)
    assert upload(s3_client, "sup", world.o1, data, declared="image/png").status_code == 201
    assert upload(s3_client, "sup", world.o1, data, declared="image/png").status_code == 200
    assert upload(s3_client, "admin", world.o2, data, declared="image/png").status_code == 201
    assert bucket_keys(s3_client) == [object_key(sha(data))]
    assert count(db, EvidenceBlob) == 1 and count(db, EvidenceItem) == 2


# ---------------------------------------------------------------- object store down


@pytest.fixture
def down_client(settings, clock):  # type: ignore[no-untyped-def]
    down = settings.model_copy(
        update={
            "evidence_backend": "s3",
            "s3_endpoint": f"127.0.0.1:{free_port()}",  # nothing listens
            "s3_access_key": SecretStr("testing"),
            "s3_secret_key": SecretStr("testing"),
        }
    )
    application = create_app(down, clock=clock, configure_logs=False)
    with TestClient(application, raise_server_exceptions=False) as c:
        yield c
    application.state.engine.dispose()


def test_object_store_down_is_503_and_nothing_is_recorded(down_client, db, world):
    data = image("JPEG", 30)

    for resp in (
        upload(down_client, "sup", world.o1, data),
        ask_upload_url(down_client, "sup", world.o1, data),
        complete(down_client, "sup", world.o1, data),
    ):
        assert resp.status_code == 503, resp.text
        assert resp.json()["error"] == "service_unavailable"
        assert "object store unreachable" in resp.json()["detail"]
    assert nothing_recorded(db)

    item = seed_item(db, world.o1)
    minted = view_url(down_client, "sup", item.id)
    assert minted.status_code == 503, minted.text
    assert count(db, EvidenceAccess) == 0


# ---------------------------------------------------------------- view URLs and their log


def log_rows(db) -> list[EvidenceAccess]:  # type: ignore[no-untyped-def]
    db.rollback()
    return list(db.scalars(select(EvidenceAccess).order_by(EvidenceAccess.id)))


def test_view_url_is_logged_once_per_mint_and_works(client, db, world, clock):
    data = image("JPEG", 40)
    item_id = upload(client, "aud", world.o1, data).json()["id"]

    resp = view_url(client, "sup", item_id, purpose="  complaint #123 review  ")

    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["evidence_id"] == item_id
    rows = log_rows(db)
    assert len(rows) == 1
    row = rows[0]
    assert (str(row.evidence_id), row.user_id) == (item_id, world.ids["sup"])
    assert row.purpose == "complaint #123 review"
    assert row.client_ip == "testclient"
    assert row.at == clock()
    assert row.expires_at == clock() + timedelta(seconds=TTL)
    assert body["access_id"] == row.id

    got = client.get(body["url"])  # no bearer token: the signature is the authority
    assert got.status_code == 200
    assert got.content == data
    assert got.headers["content-type"] == "image/jpeg"

    assert view_url(client, "admin", item_id).status_code == 200
    assert len(log_rows(db)) == 2


def test_expired_local_view_url_is_403(client, db, world, clock):
    item_id = upload(client, "sup", world.o1, image("JPEG", 41)).json()["id"]
    url = view_url(client, "sup", item_id).json()["url"]
    clock.advance(seconds=TTL - 1)
    assert client.get(url).status_code == 200

    clock.advance(seconds=2)
    resp = client.get(url)

    assert resp.status_code == 403
    assert "expired" in resp.json()["detail"]


def test_out_of_scope_evidence_is_404_and_not_logged(client, db, world):
    other = upload(client, "admin", world.o2, image("JPEG", 42)).json()["id"]

    assert view_url(client, "sup", other).status_code == 404
    assert view_url(client, "sup", uuid.uuid4()).status_code == 404
    assert client.get(f"{API}/evidence/{other}", headers=auth(client, "sup")).status_code == 404
    assert client.get(f"{API}/evidence/{other}", headers=auth(client, "aud")).status_code == 404
    assert log_rows(db) == []


def test_roles_without_evidence_view_get_403_and_no_log(client, db, world):
    item_id = upload(client, "sup", world.o1, image("JPEG", 43)).json()["id"]

    for who in ("aud", "hr"):
        resp = view_url(client, who, item_id)
        assert resp.status_code == 403, (who, resp.text)
        assert "evidence:view" in resp.json()["detail"]
    assert log_rows(db) == []


def test_view_url_needs_a_purpose(client, db, world):
    item_id = upload(client, "sup", world.o1, image("JPEG", 44)).json()["id"]
    for body in (
        {},
        {"purpose": ""},
        {"purpose": "    \t   "},
        {"purpose": "why"},
        {"purpose": "x" * 501},
    ):
        resp = client.post(
            f"{API}/evidence/{item_id}/view-url", headers=auth(client, "sup"), json=body
        )
        assert resp.status_code == 422, (body, resp.text)
    assert log_rows(db) == []


def test_a_missing_object_is_reported_not_minted(app, client, db, world):
    item = seed_item(db, world.o1)  # recorded, but its bytes were never stored

    resp = view_url(client, "sup", item.id)

    assert resp.status_code == 409
    assert "missing from the object store" in resp.json()["detail"]
    assert log_rows(db) == []


def test_metadata_is_readable_with_view_or_upload_in_scope(client, world):
    data = image("PNG", 45)
    item_id = upload(client, "sup", world.o1, data, declared="image/png").json()["id"]

    for who in ("sup", "aud", "admin"):
        resp = client.get(f"{API}/evidence/{item_id}", headers=auth(client, who))
        assert resp.status_code == 200, (who, resp.text)
        assert resp.json()["sha256"] == sha(data)
        assert "url" not in resp.json()
    resp = client.get(f"{API}/evidence/{item_id}", headers=auth(client, "hr"))
    assert resp.status_code == 403
    assert client.get(f"{API}/evidence/not-a-uuid", headers=auth(client, "sup")).status_code == 422


def test_evidence_list_is_scoped(client, world):
    mine = upload(client, "sup", world.o1, image("JPEG", 46)).json()["id"]
    theirs = upload(client, "admin", world.o2, image("JPEG", 47)).json()["id"]

    seen = client.get(f"{API}/evidence", headers=auth(client, "sup")).json()
    assert [i["id"] for i in seen["items"]] == [mine] and seen["total"] == 1
    everything = client.get(f"{API}/evidence", headers=auth(client, "admin")).json()
    assert {i["id"] for i in everything["items"]} == {mine, theirs}
    only_o2 = client.get(
        f"{API}/evidence", params={"outlet_id": world.o2}, headers=auth(client, "admin")
    ).json()
    assert [i["id"] for i in only_o2["items"]] == [theirs]
    assert client.get(f"{API}/evidence", headers=auth(client, "hr")).status_code == 403


# ---------------------------------------------------------------- the access log


@pytest.fixture
def logged(client, db, world, clock):  # type: ignore[no-untyped-def]
    """Three mints: sup views an O1 item twice (10 minutes apart), admin views an O2 item."""
    o1_item = upload(client, "sup", world.o1, image("JPEG", 50)).json()["id"]
    o2_item = upload(client, "admin", world.o2, image("JPEG", 51)).json()["id"]
    start = clock()
    assert view_url(client, "sup", o1_item, "first look at it").status_code == 200
    clock.advance(minutes=10)  # within the access token's life
    assert view_url(client, "sup", o1_item, "second look at it").status_code == 200
    assert view_url(client, "admin", o2_item, "regional review").status_code == 200
    return SimpleNamespace(o1_item=o1_item, o2_item=o2_item, start=start)


def read_log(client: TestClient, who: str, **params: Any) -> httpx.Response:
    return client.get(f"{API}/evidence/access-log", headers=auth(client, who), params=params)


def test_access_log_is_readable_by_admin_and_hr_not_supervisor(client, world, logged):
    for who in ("admin", "hr"):
        resp = read_log(client, who)
        assert resp.status_code == 200, (who, resp.text)
        page = resp.json()
        assert page["total"] == 3
        assert [r["purpose"] for r in page["items"]] == [
            "regional review",
            "second look at it",
            "first look at it",
        ]
        first = page["items"][-1]
        assert (first["username"], first["user_id"]) == ("sup", world.ids["sup"])
        assert first["outlet_id"] == world.o1 and first["client_ip"] == "testclient"
    for who in ("sup", "aud"):
        assert read_log(client, who).status_code == 403


def test_access_log_is_scope_filtered_for_scoped_readers(client, world, logged):
    page = read_log(client, "hr1").json()  # hr limited to region R1 (outlet O1)
    assert page["total"] == 2
    assert {r["evidence_id"] for r in page["items"]} == {logged.o1_item}


def test_access_log_filters_and_pages(client, world, logged):
    def purposes(**params: Any) -> list[str]:
        resp = read_log(client, "admin", **params)
        assert resp.status_code == 200, resp.text
        return [r["purpose"] for r in resp.json()["items"]]

    assert purposes(evidence_id=logged.o2_item) == ["regional review"]
    assert purposes(user_id=world.ids["sup"]) == ["second look at it", "first look at it"]
    later = (logged.start + timedelta(minutes=10)).isoformat()
    assert purposes(start=later) == ["regional review", "second look at it"]
    assert purposes(end=later) == ["first look at it"]
    assert purposes(limit=1, offset=1) == ["second look at it"]
    page = read_log(client, "admin", limit=2).json()
    assert (page["total"], page["limit"], page["offset"], len(page["items"])) == (3, 2, 0, 2)
    assert read_log(client, "admin", start="2026-11-20T09:00:00").status_code == 422  # naive
    assert read_log(client, "admin", start=later, end=later).status_code == 422
    assert read_log(client, "admin", limit=0).status_code == 422


def test_access_log_has_no_update_or_delete_route(app, client, world, logged):
    paths = app.openapi()["paths"]
    assert set(paths[f"{API}/evidence/access-log"]) == {"get"}
    for method in ("put", "patch", "delete"):
        resp = client.request(
            method.upper(), f"{API}/evidence/access-log", headers=auth(client, "admin")
        )
        assert resp.status_code == 405
    assert read_log(client, "admin").json()["total"] == 3


# ---------------------------------------------------------------- append-only in the database


def test_access_log_rejects_update_and_delete_through_raw_sql(db, world):
    item = seed_item(db, world.o1)
    db.add(
        EvidenceAccess(
            evidence_id=item.id,
            user_id=world.ids["sup"],
            purpose="original",
            expires_at=datetime.now(UTC),
        )
    )
    db.commit()

    for statement in (
        "UPDATE evidence_access_log SET purpose = 'rewritten'",
        "DELETE FROM evidence_access_log",
    ):
        with pytest.raises(DBAPIError) as exc:
            db.execute(text(statement))
        assert isinstance(exc.value, IntegrityError)
        assert "append-only" in str(exc.value.orig)
        db.rollback()

    assert [r.purpose for r in log_rows(db)] == ["original"]
    # Appending still works.
    db.add(
        EvidenceAccess(
            evidence_id=item.id,
            user_id=world.ids["sup"],
            purpose="another one",
            expires_at=log_rows(db)[0].expires_at,
        )
    )
    db.commit()
    assert len(log_rows(db)) == 2


@pytest.fixture
def scratch_database(database_url, tmp_path):  # type: ignore[no-untyped-def]
    """A database of its own (this test migrates up and down), on the current backend."""
    if database_url.startswith("sqlite"):
        path = tmp_path / "scratch.db"
        shutil.copy(database_url.removeprefix("sqlite:///"), path)
        yield f"sqlite:///{path}"
        return
    name = f"auditlens_ev_{uuid.uuid4().hex[:8]}"
    url = _pg_database(name)
    migrate.upgrade(url)
    yield url
    _drop_pg_database(name)


def test_migration_0002_installs_and_removes_the_triggers(scratch_database):
    engine = make_engine(scratch_database)
    session = make_sessionmaker(engine)()
    try:
        region = f.region(session)
        user = f.user(session, "someone", Role.admin)
        item = seed_item(session, f.outlet(session, region).id)
        session.add(
            EvidenceAccess(
                evidence_id=item.id, user_id=user.id, purpose="before", expires_at=datetime.now(UTC)
            )
        )
        session.commit()
        update = text("UPDATE evidence_access_log SET purpose = 'after'")
        with pytest.raises(IntegrityError):
            session.execute(update)
        session.rollback()
        session.close()
        engine.dispose()

        migrate.downgrade(scratch_database, "0001_foundation")
        session.execute(update)
        session.commit()
        assert session.scalar(select(EvidenceAccess.purpose)) == "after"
        session.close()
        engine.dispose()

        migrate.upgrade(scratch_database)
        with pytest.raises(IntegrityError):
            session.execute(text("DELETE FROM evidence_access_log"))
        session.rollback()
    finally:
        session.close()
        engine.dispose()
