"""The evidence store contract, run against both backends.

The local backend's URLs are served by the API (fetched here with the TestClient, an httpx
client); the S3 backend talks to moto's real S3 HTTP server through the real minio SDK, and its
URLs are fetched with plain httpx. Nothing is mocked.
"""

from __future__ import annotations

import hashlib
import io
import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from audit_service.app import create_app
from audit_service.config import ServiceSettings
from audit_service.core.errors import NotFound, ServiceUnavailable
from audit_service.evidence.store import (
    LocalEvidenceStore,
    ObjectTooLarge,
    S3EvidenceStore,
    object_key,
    upload_key,
)
from tests.conftest import TEST_SECRET, free_port

TTL = 60
UPLOAD_LIMIT = 4096


def png(seed: int = 0, size: tuple[int, int] = (16, 12)) -> bytes:
    pixels = random.Random(seed).randbytes(size[0] * size[1] * 3)
    buf = io.BytesIO()
    Image.frombytes("RGB", size, pixels).save(buf, "PNG")
    return buf.getvalue()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class Backend:
    name: str
    store: Any
    http: httpx.Client  # fetches the store's URLs (TestClient for the local backend)

    def objects(self) -> list[str]:
        """Keys in the objects area (not the upload area)."""
        if isinstance(self.store, LocalEvidenceStore):
            base = self.store.root / "sha256"
            return (
                sorted(str(p.relative_to(self.store.root)) for p in base.rglob("*") if p.is_file())
                if base.exists()
                else []
            )
        if not self.store.client.bucket_exists(self.store.bucket):
            return []
        return sorted(
            o.object_name
            for o in self.store.client.list_objects(
                self.store.bucket, prefix="sha256/", recursive=True
            )
        )


@contextmanager
def local_backend(tmp_path: Path, clock) -> Iterator[Backend]:  # type: ignore[no-untyped-def]
    store = LocalEvidenceStore(
        tmp_path / "evidence", signing_key=TEST_SECRET, base_url="http://testserver"
    )
    # The API serves local URLs; these routes touch no database, so none is migrated.
    settings = ServiceSettings(
        environment="test",
        database_url=f"sqlite:///{tmp_path / 'unused.db'}",
        secret_key=TEST_SECRET,
        evidence_dir=tmp_path / "evidence",
        public_url="http://testserver",
        max_upload_bytes=UPLOAD_LIMIT,
        log_level="WARNING",
    )
    app = create_app(settings, clock=clock, store=store, configure_logs=False)
    try:
        with TestClient(app, raise_server_exceptions=False) as http:
            yield Backend("local", store, http)
    finally:
        app.state.engine.dispose()


@contextmanager
def s3_backend(endpoint: str, bucket: str) -> Iterator[Backend]:
    store = S3EvidenceStore(
        endpoint=endpoint,
        access_key="testing",
        secret_key="testing",
        bucket=bucket,
        secure=False,
        region="us-east-1",
    )
    with httpx.Client(timeout=10) as http:
        yield Backend("s3", store, http)


@pytest.fixture(params=["local", "s3"])
def backend(request, tmp_path: Path, clock) -> Iterator[Backend]:  # type: ignore[no-untyped-def]
    if request.param == "local":
        with local_backend(tmp_path, clock) as b:
            yield b
    else:
        with s3_backend(
            request.getfixturevalue("s3_server"), request.getfixturevalue("s3_bucket")
        ) as b:
            yield b


@pytest.fixture
def local(tmp_path: Path, clock) -> Iterator[Backend]:  # type: ignore[no-untyped-def]
    with local_backend(tmp_path, clock) as b:
        yield b


def put_upload(b: Backend, data: bytes, *, uploader: int, now, key_sha: str | None = None):  # type: ignore[no-untyped-def]
    url = b.store.presigned_put(
        key_sha or sha(data), ttl_s=TTL, content_type="image/png", uploader_id=uploader, now=now
    )
    return b.http.put(url, content=data, headers={"Content-Type": "image/png"})


# ---------------------------------------------------------------- objects


def test_put_get_stat_round_trip(backend, clock):
    data = png(1)
    key = sha(data)
    assert backend.store.stat(key) is None

    stored = backend.store.put(key, data, "image/png")

    assert stored.key == object_key(key) == f"sha256/{key[:2]}/{key}"
    assert stored.size_bytes == len(data)
    st = backend.store.stat(key)
    assert st is not None and st.size_bytes == len(data) and st.key == object_key(key)
    assert backend.store.get(key) == data
    assert backend.objects() == [object_key(key)]


def test_identical_content_is_stored_once(backend):
    a, b = png(1), png(2)
    backend.store.put(sha(a), a, "image/png")
    backend.store.put(sha(a), a, "image/png")
    backend.store.put(sha(b), b, "image/png")

    assert backend.objects() == sorted([object_key(sha(a)), object_key(sha(b))])
    assert backend.store.get(sha(a)) == a


def test_put_refuses_bytes_that_do_not_hash_to_the_key(backend):
    a, b = png(1), png(2)
    with pytest.raises(ValueError, match="hashes to"):
        backend.store.put(sha(a), b, "image/png")
    assert backend.objects() == []


def test_missing_object_is_not_found_and_has_no_stat(backend):
    key = sha(b"never stored")
    assert backend.store.stat(key) is None
    with pytest.raises(NotFound):
        backend.store.get(key)


def test_keys_must_be_lowercase_hex_sha256(backend):
    for bad in ("../../etc/passwd", "A" * 64, "ab"):
        with pytest.raises(ValueError):
            backend.store.stat(bad)


# ---------------------------------------------------------------- presigned GET


def test_presigned_get_is_fetchable_over_http(backend, clock):
    data = png(3)
    backend.store.put(sha(data), data, "image/png")

    url = backend.store.presigned_get(sha(data), ttl_s=TTL, content_type="image/png", now=clock())
    resp = backend.http.get(url)

    assert resp.status_code == 200, resp.text
    assert resp.content == data
    assert resp.headers["content-type"] == "image/png"


def test_presigned_get_carries_its_expiry(backend, clock):
    data = png(3)
    backend.store.put(sha(data), data, "image/png")
    url = backend.store.presigned_get(sha(data), ttl_s=TTL, content_type="image/png", now=clock())
    query = parse_qs(urlsplit(url).query)
    if backend.name == "local":
        assert int(query["expires"][0]) == int(clock().timestamp()) + TTL
    else:
        # moto does not enforce expiry, so check what MinIO/S3 would: signed at now, for TTL s.
        assert query["X-Amz-Date"] == [clock().strftime("%Y%m%dT%H%M%SZ")]
        assert query["X-Amz-Expires"] == [str(TTL)]
        assert "X-Amz-Signature" in query


def test_local_presigned_get_is_refused_once_expired(local, clock):
    # (moto does not enforce S3 expiry: test_presigned_get_carries_its_expiry covers S3.)
    backend = local
    data = png(4)
    backend.store.put(sha(data), data, "image/png")
    url = backend.store.presigned_get(sha(data), ttl_s=TTL, content_type="image/png", now=clock())
    clock.advance(seconds=TTL - 1)
    assert backend.http.get(url).status_code == 200
    clock.advance(seconds=2)

    resp = backend.http.get(url)

    assert resp.status_code == 403
    assert "expired" in resp.json()["detail"]


def test_local_presigned_get_refuses_an_altered_url(local, clock):
    backend = local
    data, other = png(4), png(5)
    backend.store.put(sha(data), data, "image/png")
    backend.store.put(sha(other), other, "image/png")
    url = backend.store.presigned_get(sha(data), ttl_s=TTL, content_type="image/png", now=clock())

    for altered in (
        url.replace(sha(data), sha(other)),  # another object
        url.replace("ct=image%2Fpng", "ct=text%2Fhtml"),  # another type
        url[:-4] + "0000",  # another signature
        url.replace("sig=", "sig=%C3%A9"),
    ):  # non-ASCII signature
        resp = backend.http.get(altered)
        assert resp.status_code == 403, (altered, resp.text)
        assert "signature" in resp.json()["detail"]


# ---------------------------------------------------------------- presigned PUT and uploads


def test_presigned_put_lands_in_the_callers_upload_area_only(backend, clock):
    data = png(6)

    resp = put_upload(backend, data, uploader=7, now=clock())

    assert resp.status_code == 200, resp.text
    assert backend.store.read_upload(sha(data), uploader_id=7, max_bytes=UPLOAD_LIMIT) == data
    # Not in another uploader's area, and not (yet) evidence: the API verifies it first.
    assert backend.store.read_upload(sha(data), uploader_id=8, max_bytes=UPLOAD_LIMIT) is None
    assert backend.store.stat(sha(data)) is None
    assert backend.objects() == []

    backend.store.discard_upload(sha(data), uploader_id=7)

    assert backend.store.read_upload(sha(data), uploader_id=7, max_bytes=UPLOAD_LIMIT) is None


def test_presigned_put_url_targets_the_upload_key(backend, clock):
    key = sha(b"x")
    url = backend.store.presigned_put(
        key, ttl_s=TTL, content_type="image/png", uploader_id=7, now=clock()
    )
    if backend.name == "s3":
        assert urlsplit(url).path.endswith("/" + upload_key(key, 7))
        assert parse_qs(urlsplit(url).query)["X-Amz-Expires"] == [str(TTL)]
    else:
        assert urlsplit(url).path == f"/api/v1/evidence/blobs/{key}"
        assert parse_qs(urlsplit(url).query)["u"] == ["7"]


def test_read_upload_refuses_objects_over_the_limit(backend, clock):
    data = png(7, size=(24, 24))
    assert 1000 < len(data) <= UPLOAD_LIMIT
    assert put_upload(backend, data, uploader=7, now=clock()).status_code == 200

    with pytest.raises(ObjectTooLarge) as exc:
        backend.store.read_upload(sha(data), uploader_id=7, max_bytes=1000)

    assert exc.value.size_bytes == len(data)
    assert backend.store.read_upload(sha(data), uploader_id=7, max_bytes=len(data)) == data


def test_local_presigned_put_checks_signature_expiry_hash_and_size(local, clock):
    backend = local
    data = png(8)
    url = backend.store.presigned_put(
        sha(data), ttl_s=TTL, content_type="image/png", uploader_id=7, now=clock()
    )

    # Someone else's area: the uploader is part of what is signed.
    assert backend.http.put(url.replace("u=7", "u=8"), content=data).status_code == 403
    # Bytes that are not the file the URL was issued for.
    wrong = backend.http.put(url, content=png(9))
    assert wrong.status_code == 422
    assert "hashes to" in wrong.json()["detail"]
    # Over the upload limit: refused without storing anything.
    big = backend.store.presigned_put(
        sha(b"z" * (UPLOAD_LIMIT + 1)),
        ttl_s=TTL,
        content_type="image/png",
        uploader_id=7,
        now=clock(),
    )
    too_big = backend.http.put(big, content=b"z" * (UPLOAD_LIMIT + 1))
    assert too_big.status_code == 413
    assert str(UPLOAD_LIMIT) in too_big.json()["detail"]
    assert not list((backend.store.root / "uploads").rglob("*"))

    clock.advance(seconds=TTL + 1)
    expired = backend.http.put(url, content=data)
    assert expired.status_code == 403
    assert "expired" in expired.json()["detail"]
    assert backend.store.read_upload(sha(data), uploader_id=7, max_bytes=UPLOAD_LIMIT) is None


def test_local_urls_are_not_served_by_an_s3_backed_api(tmp_path, clock, s3_server, s3_bucket):
    settings = ServiceSettings(
        environment="test",
        database_url=f"sqlite:///{tmp_path / 'unused.db'}",
        secret_key=TEST_SECRET,
        evidence_backend="s3",
        s3_endpoint=s3_server,
        s3_access_key="testing",
        s3_secret_key="testing",
        s3_bucket=s3_bucket,
        public_url="http://testserver",
    )
    local = LocalEvidenceStore(
        tmp_path / "ev", signing_key=TEST_SECRET, base_url="http://testserver"
    )
    data = png(1)
    local.put(sha(data), data, "image/png")
    url = local.presigned_get(sha(data), ttl_s=TTL, content_type="image/png", now=clock())
    app = create_app(settings, clock=clock, configure_logs=False)
    with TestClient(app, raise_server_exceptions=False) as http:
        resp = http.get(url)
    app.state.engine.dispose()
    assert resp.status_code == 404


# ---------------------------------------------------------------- availability


def test_s3_bucket_created_by_the_store_expires_abandoned_uploads(s3_server, s3_bucket):
    with s3_backend(s3_server, s3_bucket) as b:
        b.store.ping()
        assert not b.store.client.bucket_exists(s3_bucket)
        b.store.stat(sha(b"x"))  # first use creates the bucket

        rules = b.store.client.get_bucket_lifecycle(s3_bucket).rules

    assert [(r.rule_filter.prefix, r.expiration.days) for r in rules] == [("uploads/", 1)]


def test_ping_succeeds_when_reachable(backend):
    backend.store.ping()


def test_s3_store_down_is_service_unavailable_everywhere(clock):
    store = S3EvidenceStore(
        endpoint=f"127.0.0.1:{free_port()}",
        access_key="testing",
        secret_key="testing",
        bucket="closed",
        secure=False,
        region="us-east-1",
    )
    data = png(1)
    calls = [
        store.ping,
        lambda: store.put(sha(data), data, "image/png"),
        lambda: store.get(sha(data)),
        lambda: store.stat(sha(data)),
        lambda: store.presigned_get(sha(data), ttl_s=TTL, content_type="image/png"),
        lambda: store.presigned_put(sha(data), ttl_s=TTL, content_type="image/png", uploader_id=1),
        lambda: store.read_upload(sha(data), uploader_id=1, max_bytes=UPLOAD_LIMIT),
        lambda: store.discard_upload(sha(data), uploader_id=1),
    ]
    for call in calls:
        with pytest.raises(ServiceUnavailable, match="object store unreachable"):
            call()


def test_local_store_on_an_unwritable_folder_is_service_unavailable(tmp_path):
    root = tmp_path / "ev"
    store = LocalEvidenceStore(root, signing_key=TEST_SECRET, base_url="http://x")
    (root / "sha256").write_text("a file where a folder should be")
    data = png(1)
    with pytest.raises(ServiceUnavailable, match="not writable"):
        store.put(sha(data), data, "image/png")


def test_presign_uses_the_given_instant(backend, clock):
    data = png(2)
    first = backend.store.presigned_get(sha(data), ttl_s=TTL, content_type="image/png", now=clock())
    later = backend.store.presigned_get(
        sha(data), ttl_s=TTL, content_type="image/png", now=clock() + timedelta(hours=1)
    )
    assert first != later


def test_s3_urls_are_signed_for_the_public_endpoint(s3_server, s3_bucket):
    store = S3EvidenceStore(
        endpoint=s3_server,
        access_key="testing",
        secret_key="testing",
        bucket=s3_bucket,
        secure=False,
        region="us-east-1",
        public_endpoint="https://evidence.example.com",
    )
    url = store.presigned_get("a" * 64, ttl_s=60, content_type="image/jpeg")
    assert url.startswith(f"https://evidence.example.com/{s3_bucket}/")
    assert "X-Amz-Signature=" in url
