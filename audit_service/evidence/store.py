"""Where evidence bytes live: one interface, a local folder or an S3 bucket (MinIO).

Objects are keyed by the SHA-256 of their content, so an identical upload is stored once.
Nobody outside audit_service holds credentials: clients get short-lived presigned URLs.

Two areas per store:

* **objects** (``sha256/<ab>/<sha256>``): verified evidence, written only by the API after it
  has checked the hash and decoded the image. Nothing a client holds can write here.
* **uploads** (``uploads/<user id>/<sha256>``): where a presigned PUT lands. The API reads it
  back on "complete", verifies it and copies it into *objects*, then discards it. Keying the
  upload area by uploader means a client can neither overwrite stored evidence nor "complete"
  someone else's upload by knowing a hash (it must have sent the bytes itself).
"""

from __future__ import annotations

import hashlib
import hmac
import io
import logging
import os
import re
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol
from urllib.parse import urlencode

from audit_service.config import ServiceSettings
from audit_service.core.errors import NotFound, ServiceUnavailable

log = logging.getLogger(__name__)

UPLOAD_AREA_TTL_DAYS = 1
SHA256_RE = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class StoredObject:
    key: str
    size_bytes: int
    content_type: str


class ObjectTooLarge(Exception):
    """An uploaded object is larger than the caller allows; it was not read."""

    def __init__(self, size_bytes: int) -> None:
        super().__init__(f"object of {size_bytes} bytes is over the limit")
        self.size_bytes = size_bytes


def _check_sha(sha256: str) -> str:
    if not SHA256_RE.match(sha256):
        raise ValueError(f"not a lowercase hex SHA-256: {sha256[:80]!r}")
    return sha256


def object_key(sha256: str) -> str:
    # Two levels of fan-out keep folders (and S3 listings) small.
    _check_sha(sha256)
    return f"sha256/{sha256[:2]}/{sha256}"


def upload_key(sha256: str, uploader_id: int) -> str:
    _check_sha(sha256)
    return f"uploads/{int(uploader_id)}/{sha256}"


def _check_content(sha256: str, data: bytes) -> None:
    actual = hashlib.sha256(data).hexdigest()
    if actual != sha256:
        raise ValueError(f"content hashes to {actual}, not to its key {sha256}")


class EvidenceStore(Protocol):
    """Content-addressed object storage for evidence.

    ``now`` on the presigning methods is the instant the URL is signed at (the API's clock);
    the URL stops working ``ttl_s`` seconds later.
    """

    def put(self, sha256: str, data: bytes, content_type: str) -> StoredObject:
        """Store ``data`` under its hash (refused with ValueError if it does not hash to it)."""

    def get(self, sha256: str) -> bytes:
        """The object's bytes; NotFound if absent."""

    def stat(self, sha256: str) -> StoredObject | None: ...

    def presigned_get(
        self, sha256: str, *, ttl_s: int, content_type: str, now: datetime | None = None
    ) -> str: ...

    def presigned_put(
        self,
        sha256: str,
        *,
        ttl_s: int,
        content_type: str,
        uploader_id: int,
        now: datetime | None = None,
    ) -> str:
        """A URL the uploader PUTs the bytes to; they land in the upload area, not in objects."""

    def read_upload(self, sha256: str, *, uploader_id: int, max_bytes: int) -> bytes | None:
        """The uploaded bytes, None if nothing was uploaded; ObjectTooLarge past ``max_bytes``."""

    def discard_upload(self, sha256: str, *, uploader_id: int) -> None: ...

    def ping(self) -> None:
        """Raise ServiceUnavailable if the store cannot be reached."""


def _epoch(now: datetime | None, fallback: Callable[[], float]) -> int:
    return int(now.timestamp()) if now is not None else int(fallback())


class LocalEvidenceStore:
    """The embedded default: files under a folder, URLs signed by the API and served by it.

    URLs point at ``/api/v1/evidence/blobs/{sha256}`` on the API; the route checks them with
    :meth:`verify` (HMAC over method, key, expiry, content type and, for PUT, the uploader).
    """

    def __init__(
        self,
        root: Path,
        *,
        signing_key: str,
        base_url: str,
        clock_s: Callable[[], float] | None = None,
    ) -> None:
        self.root = Path(root)
        self._key = hashlib.sha256(("auditlens-local-urls:" + signing_key).encode()).digest()
        self.base_url = base_url.rstrip("/")
        self._now_s = clock_s or time.time
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, sha256: str) -> Path:
        return self.root / object_key(sha256)

    def _upload_path(self, sha256: str, uploader_id: int) -> Path:
        return self.root / upload_key(sha256, uploader_id)

    @staticmethod
    def _write_atomic(path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Write then rename, so a crash never leaves a half-written object under its key.
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def put(self, sha256: str, data: bytes, content_type: str) -> StoredObject:
        _check_content(sha256, data)
        path = self._path(sha256)
        try:
            if not path.exists():
                self._write_atomic(path, data)
        except OSError as exc:
            raise ServiceUnavailable(
                f"evidence folder {self.root} is not writable ({exc.strerror or exc})"
            ) from exc
        return StoredObject(object_key(sha256), len(data), content_type)

    def get(self, sha256: str) -> bytes:
        path = self._path(sha256)
        if not path.is_file():
            raise NotFound("evidence object", sha256)
        return path.read_bytes()

    def stat(self, sha256: str) -> StoredObject | None:
        path = self._path(sha256)
        if not path.is_file():
            return None
        return StoredObject(object_key(sha256), path.stat().st_size, "application/octet-stream")

    # ------------------------------------------------------------ signed URLs

    def sign(
        self,
        method: str,
        sha256: str,
        expires: int,
        content_type: str,
        uploader_id: int | None = None,
    ) -> str:
        who = "" if uploader_id is None else str(uploader_id)
        msg = f"{method}\n{sha256}\n{expires}\n{content_type}\n{who}".encode()
        return hmac.new(self._key, msg, hashlib.sha256).hexdigest()

    def expired(self, expires: int, *, now_s: float | None = None) -> bool:
        return expires < (self._now_s() if now_s is None else now_s)

    def verify(
        self,
        method: str,
        sha256: str,
        expires: int,
        content_type: str,
        sig: str,
        *,
        uploader_id: int | None = None,
        now_s: float | None = None,
    ) -> bool:
        """True if the URL was signed by this store for exactly these values and is unexpired."""
        if self.expired(expires, now_s=now_s):
            return False
        expected = self.sign(method, sha256, expires, content_type, uploader_id)
        # Bytes, not str: compare_digest refuses non-ASCII str, and sig comes from the client.
        return hmac.compare_digest(expected.encode(), sig.encode("utf-8", "replace"))

    def _url(
        self,
        method: str,
        sha256: str,
        ttl_s: int,
        content_type: str,
        now: datetime | None,
        uploader_id: int | None = None,
    ) -> str:
        _check_sha(sha256)
        expires = _epoch(now, self._now_s) + ttl_s
        params: dict[str, object] = {"expires": expires, "ct": content_type}
        if uploader_id is not None:
            params["u"] = uploader_id
        params["sig"] = self.sign(method, sha256, expires, content_type, uploader_id)
        return f"{self.base_url}/api/v1/evidence/blobs/{sha256}?{urlencode(params)}"

    def presigned_get(
        self, sha256: str, *, ttl_s: int, content_type: str, now: datetime | None = None
    ) -> str:
        return self._url("GET", sha256, ttl_s, content_type, now)

    def presigned_put(
        self,
        sha256: str,
        *,
        ttl_s: int,
        content_type: str,
        uploader_id: int,
        now: datetime | None = None,
    ) -> str:
        return self._url("PUT", sha256, ttl_s, content_type, now, uploader_id)

    # ------------------------------------------------------------ upload area

    def write_upload(self, sha256: str, *, uploader_id: int, data: bytes) -> None:
        """Receive a presigned PUT (local backend only; the route has checked the hash)."""
        _check_content(sha256, data)
        try:
            self._write_atomic(self._upload_path(sha256, uploader_id), data)
        except OSError as exc:
            raise ServiceUnavailable(
                f"evidence folder {self.root} is not writable ({exc.strerror or exc})"
            ) from exc

    def read_upload(self, sha256: str, *, uploader_id: int, max_bytes: int) -> bytes | None:
        path = self._upload_path(sha256, uploader_id)
        if not path.is_file():
            return None
        size = path.stat().st_size
        if size > max_bytes:
            raise ObjectTooLarge(size)
        with path.open("rb") as fh:
            data = fh.read(max_bytes + 1)
        if len(data) > max_bytes:  # grew since stat
            raise ObjectTooLarge(len(data))
        return data

    def discard_upload(self, sha256: str, *, uploader_id: int) -> None:
        self._upload_path(sha256, uploader_id).unlink(missing_ok=True)

    def ping(self) -> None:
        if not os.access(self.root, os.W_OK):
            raise ServiceUnavailable(f"evidence folder {self.root} is not writable")


def _default_http_client(secure: bool):  # type: ignore[no-untyped-def]
    """minio's default waits 5 minutes to connect and retries 5 times with back-off; a request
    should fail fast (503) when the store is down, not hang."""
    import certifi
    import urllib3

    return urllib3.PoolManager(
        timeout=urllib3.Timeout(connect=5, read=60),
        maxsize=10,
        cert_reqs="CERT_REQUIRED" if secure else "CERT_NONE",
        ca_certs=os.environ.get("SSL_CERT_FILE") or certifi.where(),
        retries=urllib3.Retry(total=2, backoff_factor=0.2, status_forcelist=[500, 502, 503, 504]),
    )


_MISSING_CODES = frozenset({"NoSuchKey", "NoSuchObject", "NotFound"})


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
        http_client=None,  # type: ignore[no-untyped-def]
        public_endpoint: str = "",
    ) -> None:
        from minio import Minio

        self.bucket = bucket
        self.endpoint = endpoint
        # A region given up front: presigning needs no network round trip.
        self.client = Minio(
            endpoint,
            access_key=access_key,
            secret_key=secret_key,
            secure=secure,
            region=region,
            http_client=http_client or _default_http_client(secure),
        )
        # Browsers and phones may reach the store under another name than the API does
        # (e.g. "minio:9000" inside compose): URLs are signed for the public endpoint.
        self.presign_client = self.client
        if public_endpoint:
            public_secure = public_endpoint.startswith("https://")
            host = public_endpoint.split("://", 1)[-1].rstrip("/")
            self.presign_client = Minio(
                host,
                access_key=access_key,
                secret_key=secret_key,
                secure=public_secure,
                region=region,
            )
        self._create_bucket = create_bucket
        self._bucket_ready = False

    @staticmethod
    def _unavailable(exc: Exception) -> ServiceUnavailable:
        from minio.error import S3Error

        if isinstance(exc, S3Error):
            return ServiceUnavailable(f"object store error: {exc.code}; retry shortly")
        return ServiceUnavailable(
            f"object store unreachable ({exc.__class__.__name__}); retry shortly"
        )

    def _ensure_bucket(self) -> None:
        if self._bucket_ready:
            return
        try:
            if self._create_bucket and not self.client.bucket_exists(self.bucket):
                self.client.make_bucket(self.bucket)
                self._expire_abandoned_uploads()
        except Exception as exc:  # network or auth failure: report, don't crash the request
            raise self._unavailable(exc) from exc
        self._bucket_ready = True

    def _expire_abandoned_uploads(self) -> None:
        """On a bucket we created: presigned PUTs never completed vanish after a day.

        (On an existing bucket the operator owns the lifecycle; add the same rule there.)
        """
        from minio.commonconfig import ENABLED, Filter
        from minio.lifecycleconfig import Expiration, LifecycleConfig, Rule

        rule = Rule(
            ENABLED,
            rule_filter=Filter(prefix="uploads/"),
            rule_id="auditlens-expire-abandoned-uploads",
            expiration=Expiration(days=UPLOAD_AREA_TTL_DAYS),
        )
        try:
            self.client.set_bucket_lifecycle(self.bucket, LifecycleConfig([rule]))
        except Exception as exc:  # not fatal: uploads are discarded on complete anyway
            log.warning(
                "could not set the upload-area lifecycle rule",
                extra={"ctx_bucket": self.bucket, "ctx_error": str(exc)[:300]},
            )

    def _put_key(self, key: str, data: bytes, content_type: str, sha256: str) -> None:
        self._ensure_bucket()
        try:
            self.client.put_object(
                self.bucket,
                key,
                io.BytesIO(data),
                len(data),
                content_type=content_type,
                metadata={"sha256": sha256},
            )
        except Exception as exc:
            raise self._unavailable(exc) from exc

    def put(self, sha256: str, data: bytes, content_type: str) -> StoredObject:
        _check_content(sha256, data)
        self._put_key(object_key(sha256), data, content_type, sha256)
        return StoredObject(object_key(sha256), len(data), content_type)

    def _read(self, key: str, *, length: int = 0) -> bytes | None:
        from minio.error import S3Error

        self._ensure_bucket()
        try:
            resp = self.client.get_object(self.bucket, key, length=length)
        except S3Error as exc:
            if exc.code in _MISSING_CODES:
                return None
            raise self._unavailable(exc) from exc
        except Exception as exc:
            raise self._unavailable(exc) from exc
        try:
            return resp.read()
        except Exception as exc:
            raise self._unavailable(exc) from exc
        finally:
            resp.close()
            resp.release_conn()

    def get(self, sha256: str) -> bytes:
        data = self._read(object_key(sha256))
        if data is None:
            raise NotFound("evidence object", sha256)
        return data

    def _stat_key(self, key: str) -> StoredObject | None:
        from minio.error import S3Error

        self._ensure_bucket()
        try:
            st = self.client.stat_object(self.bucket, key)
        except S3Error as exc:
            if exc.code in _MISSING_CODES:
                return None
            raise self._unavailable(exc) from exc
        except Exception as exc:
            raise self._unavailable(exc) from exc
        return StoredObject(key, int(st.size or 0), st.content_type or "application/octet-stream")

    def stat(self, sha256: str) -> StoredObject | None:
        return self._stat_key(object_key(sha256))

    def _presign(
        self,
        method: str,
        key: str,
        ttl_s: int,
        now: datetime | None,
        response_headers: dict[str, str] | None = None,
    ) -> str:
        self._ensure_bucket()
        try:
            return self.presign_client.get_presigned_url(
                method,
                self.bucket,
                key,
                expires=timedelta(seconds=ttl_s),
                response_headers=response_headers,
                request_date=(now or datetime.now(UTC)).astimezone(UTC),
            )
        except Exception as exc:
            raise self._unavailable(exc) from exc

    def presigned_get(
        self, sha256: str, *, ttl_s: int, content_type: str, now: datetime | None = None
    ) -> str:
        return self._presign(
            "GET",
            object_key(sha256),
            ttl_s,
            now,
            {
                "response-content-type": content_type,
                "response-cache-control": "private, no-store",
            },
        )

    def presigned_put(
        self,
        sha256: str,
        *,
        ttl_s: int,
        content_type: str,
        uploader_id: int,
        now: datetime | None = None,
    ) -> str:
        return self._presign("PUT", upload_key(sha256, uploader_id), ttl_s, now)

    def read_upload(self, sha256: str, *, uploader_id: int, max_bytes: int) -> bytes | None:
        key = upload_key(sha256, uploader_id)
        st = self._stat_key(key)
        if st is None:
            return None
        if st.size_bytes > max_bytes:
            raise ObjectTooLarge(st.size_bytes)
        if st.size_bytes == 0:
            return b""  # a range request on an empty object is refused (InvalidRange)
        # Bounded: even if the object was replaced since the stat, read no more than the limit.
        data = self._read(key, length=max_bytes + 1)
        if data is None:
            return None
        if len(data) > max_bytes:
            raise ObjectTooLarge(len(data))
        return data

    def discard_upload(self, sha256: str, *, uploader_id: int) -> None:
        self._ensure_bucket()
        try:
            self.client.remove_object(self.bucket, upload_key(sha256, uploader_id))
        except Exception as exc:
            raise self._unavailable(exc) from exc

    def ping(self) -> None:
        try:
            self.client.bucket_exists(self.bucket)
        except Exception as exc:
            raise self._unavailable(exc) from exc


def make_store(settings: ServiceSettings) -> EvidenceStore:
    if settings.evidence_backend == "s3":
        return S3EvidenceStore(
            endpoint=settings.s3_endpoint,
            access_key=settings.s3_access_key.get_secret_value(),
            secret_key=settings.s3_secret_key.get_secret_value(),
            bucket=settings.s3_bucket,
            secure=settings.s3_secure,
            region=settings.s3_region,
            public_endpoint=settings.s3_public_endpoint,
        )
    base = settings.public_url or f"http://{settings.api_host}:{settings.api_port}"
    return LocalEvidenceStore(
        settings.evidence_dir, signing_key=settings.secret_key.get_secret_value(), base_url=base
    )
