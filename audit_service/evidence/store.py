"""Where evidence bytes live: one interface, a local folder or an S3 bucket (MinIO).

Objects are keyed by the SHA-256 of their content, so an identical upload is stored once.
Nobody outside audit_service holds credentials: clients get short-lived presigned URLs.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import os
import tempfile
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Protocol
from urllib.parse import urlencode

from audit_service.config import ServiceSettings
from audit_service.core.errors import NotFound, ServiceUnavailable


@dataclass(frozen=True)
class StoredObject:
    key: str
    size_bytes: int
    content_type: str


def object_key(sha256: str) -> str:
    # Two levels of fan-out keep folders (and S3 listings) small.
    return f"sha256/{sha256[:2]}/{sha256}"


class EvidenceStore(Protocol):
    """Content-addressed object storage for evidence."""

    def put(self, sha256: str, data: bytes, content_type: str) -> StoredObject: ...

    def get(self, sha256: str) -> bytes: ...

    def stat(self, sha256: str) -> StoredObject | None: ...

    def presigned_get(self, sha256: str, *, ttl_s: int, content_type: str) -> str: ...

    def presigned_put(self, sha256: str, *, ttl_s: int, content_type: str) -> str: ...

    def ping(self) -> None:
        """Raise ServiceUnavailable if the store cannot be reached."""


class LocalEvidenceStore:
    """The embedded default: files under a folder, URLs signed by the API and served by it."""

    def __init__(self, root: Path, *, signing_key: str, base_url: str, clock_s=None) -> None:
        import time

        self.root = root
        self._key = hashlib.sha256(("auditlens-local-urls:" + signing_key).encode()).digest()
        self.base_url = base_url.rstrip("/")
        self._now_s = clock_s or time.time
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, sha256: str) -> Path:
        return self.root / object_key(sha256)

    def put(self, sha256: str, data: bytes, content_type: str) -> StoredObject:
        path = self._path(sha256)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            # Write then rename, so a crash never leaves a half-written object under its key.
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, path)
        return StoredObject(object_key(sha256), len(data), content_type)

    def get(self, sha256: str) -> bytes:
        path = self._path(sha256)
        if not path.exists():
            raise NotFound("evidence object", sha256)
        return path.read_bytes()

    def stat(self, sha256: str) -> StoredObject | None:
        path = self._path(sha256)
        if not path.exists():
            return None
        return StoredObject(object_key(sha256), path.stat().st_size, "application/octet-stream")

    def sign(self, method: str, sha256: str, expires: int, content_type: str) -> str:
        msg = f"{method}\n{sha256}\n{expires}\n{content_type}".encode()
        return hmac.new(self._key, msg, hashlib.sha256).hexdigest()

    def verify(self, method: str, sha256: str, expires: int, content_type: str, sig: str) -> bool:
        if expires < self._now_s():
            return False
        return hmac.compare_digest(self.sign(method, sha256, expires, content_type), sig)

    def _url(self, method: str, sha256: str, ttl_s: int, content_type: str) -> str:
        expires = int(self._now_s()) + ttl_s
        query = urlencode({"expires": expires, "ct": content_type,
                           "sig": self.sign(method, sha256, expires, content_type)})
        return f"{self.base_url}/api/v1/evidence/blobs/{sha256}?{query}"

    def presigned_get(self, sha256: str, *, ttl_s: int, content_type: str) -> str:
        return self._url("GET", sha256, ttl_s, content_type)

    def presigned_put(self, sha256: str, *, ttl_s: int, content_type: str) -> str:
        return self._url("PUT", sha256, ttl_s, content_type)

    def ping(self) -> None:
        if not os.access(self.root, os.W_OK):
            raise ServiceUnavailable(f"evidence folder {self.root} is not writable")


class S3EvidenceStore:
    """S3-compatible storage through the ``minio`` SDK (MinIO in docker compose)."""

    def __init__(
        self,
        *,
        endpoint: str,
        access_key: str,
        secret_key: str,
        bucket: str,
        secure: bool,
        region: str,
        create_bucket: bool = True,
    ) -> None:
        from minio import Minio

        self.bucket = bucket
        self.client = Minio(endpoint, access_key=access_key, secret_key=secret_key,
                            secure=secure, region=region)
        self._create_bucket = create_bucket
        self._bucket_ready = False

    def _ensure_bucket(self) -> None:
        if self._bucket_ready:
            return
        try:
            if self._create_bucket and not self.client.bucket_exists(self.bucket):
                self.client.make_bucket(self.bucket)
        except Exception as exc:  # network or auth failure: report, don't crash the request
            raise ServiceUnavailable(f"object store unreachable: {exc.__class__.__name__}") from exc
        self._bucket_ready = True

    def put(self, sha256: str, data: bytes, content_type: str) -> StoredObject:
        from minio.error import S3Error

        self._ensure_bucket()
        try:
            self.client.put_object(
                self.bucket, object_key(sha256), io.BytesIO(data), len(data),
                content_type=content_type, metadata={"sha256": sha256},
            )
        except (S3Error, OSError, Exception) as exc:
            raise ServiceUnavailable(f"object store refused the upload: {exc}") from exc
        return StoredObject(object_key(sha256), len(data), content_type)

    def get(self, sha256: str) -> bytes:
        from minio.error import S3Error

        self._ensure_bucket()
        try:
            resp = self.client.get_object(self.bucket, object_key(sha256))
        except S3Error as exc:
            if exc.code in ("NoSuchKey", "NoSuchObject"):
                raise NotFound("evidence object", sha256) from exc
            raise ServiceUnavailable(f"object store error: {exc.code}") from exc
        except Exception as exc:
            raise ServiceUnavailable(f"object store unreachable: {exc.__class__.__name__}") from exc
        try:
            return resp.read()
        finally:
            resp.close()
            resp.release_conn()

    def stat(self, sha256: str) -> StoredObject | None:
        from minio.error import S3Error

        self._ensure_bucket()
        try:
            st = self.client.stat_object(self.bucket, object_key(sha256))
        except S3Error as exc:
            if exc.code in ("NoSuchKey", "NoSuchObject", "NotFound"):
                return None
            raise ServiceUnavailable(f"object store error: {exc.code}") from exc
        except Exception as exc:
            raise ServiceUnavailable(f"object store unreachable: {exc.__class__.__name__}") from exc
        return StoredObject(object_key(sha256), int(st.size or 0),
                            st.content_type or "application/octet-stream")

    def presigned_get(self, sha256: str, *, ttl_s: int, content_type: str) -> str:
        self._ensure_bucket()
        return self.client.presigned_get_object(
            self.bucket, object_key(sha256), expires=timedelta(seconds=ttl_s),
            response_headers={"response-content-type": content_type},
        )

    def presigned_put(self, sha256: str, *, ttl_s: int, content_type: str) -> str:
        self._ensure_bucket()
        return self.client.presigned_put_object(
            self.bucket, object_key(sha256), expires=timedelta(seconds=ttl_s)
        )

    def ping(self) -> None:
        try:
            self.client.bucket_exists(self.bucket)
        except Exception as exc:
            raise ServiceUnavailable(f"object store unreachable: {exc.__class__.__name__}") from exc


def make_store(settings: ServiceSettings) -> EvidenceStore:
    if settings.evidence_backend == "s3":
        return S3EvidenceStore(
            endpoint=settings.s3_endpoint,
            access_key=settings.s3_access_key.get_secret_value(),
            secret_key=settings.s3_secret_key.get_secret_value(),
            bucket=settings.s3_bucket,
            secure=settings.s3_secure,
            region=settings.s3_region,
        )
    base = settings.public_url or f"http://{settings.api_host}:{settings.api_port}"
    return LocalEvidenceStore(
        settings.evidence_dir, signing_key=settings.secret_key.get_secret_value(), base_url=base
    )
