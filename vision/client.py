"""The worker's side of the HTTP contract with audit_service (``docs/vision-contract.md``).

Every call raises ``DeliveryError`` on failure, with ``retryable`` telling the caller whether to
back off and try again (the network, 5xx, 429, and the errors an operator fixes without touching
the data: 401, 403, 404, 408) or to set the records aside (any other 4xx, e.g. a 422 naming an
unknown zone: sending the same body again can only fail the same way).
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any
from urllib.parse import urljoin

import httpx

from vision.config import CameraConfig, ConfigError, parse_camera_config

log = logging.getLogger(__name__)

API_PREFIX = "/api/v1"
# Status codes worth retrying unchanged: transient, or fixed by an operator (a new token, a
# camera assigned, the API upgraded) rather than by changing the records.
RETRYABLE_STATUS = frozenset({401, 403, 404, 408, 425, 429})
# For a snapshot, 403/404 name the outlet (not in this worker's scope, or gone): retrying cannot
# help, and the event is worth more delivered without its picture than held forever.
SNAPSHOT_RETRYABLE_STATUS = frozenset({401, 408, 425, 429})


class DeliveryError(Exception):
    """A call to the API failed. ``retryable``: try the same request again later.
    ``status_code`` is None when no HTTP answer came back."""

    def __init__(
        self,
        message: str,
        *,
        retryable: bool,
        status_code: int | None = None,
        retry_after_s: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.retryable = retryable
        self.status_code = status_code
        self.retry_after_s = retry_after_s


def _server_message(resp: httpx.Response) -> str:
    try:
        body = resp.json()
    except ValueError:
        return resp.text[:500]
    if isinstance(body, dict) and ("error" in body or "detail" in body):
        return f"{body.get('error', '')}: {body.get('detail', '')}".strip(": ")
    return str(body)[:500]


def _retry_after(resp: httpx.Response) -> float | None:
    value = resp.headers.get("retry-after", "")
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


class AuditLensClient:
    """Calls the API with a worker token (``alw_...``). ``timeout`` is per request, in seconds.

    ``transport`` (an httpx transport) lets tests call an app in-process.
    """

    def __init__(
        self,
        api_url: str,
        token: str,
        *,
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self._http = httpx.Client(
            base_url=self.api_url,
            headers={"Authorization": f"Bearer {token}"},
            timeout=timeout,
            transport=transport,
        )
        # Presigned URLs carry their own signature: never send them the API token.
        self._bare = httpx.Client(timeout=timeout, transport=transport)

    def close(self) -> None:
        self._http.close()
        self._bare.close()

    def __enter__(self) -> AuditLensClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ calls

    def fetch_cameras(self) -> list[CameraConfig]:
        """This worker's cameras (``GET /vision/workers/me/cameras``), validated.

        A camera whose config does not validate is logged and left out; the others still run.
        """
        items = self._json("GET", f"{API_PREFIX}/vision/workers/me/cameras")
        if not isinstance(items, list):
            raise DeliveryError(
                "GET /vision/workers/me/cameras: expected a list of camera configs",
                retryable=True,
            )
        configs = []
        for i, raw in enumerate(items):
            where = raw.get("camera_id", f"#{i + 1}") if isinstance(raw, dict) else f"#{i + 1}"
            try:
                configs.append(parse_camera_config(raw, source=f"API camera {where}"))
            except ConfigError as exc:
                log.error("skipping a camera the API sent: %s", exc)
        return configs

    def upload_snapshot(self, outlet_id: int, jpeg: bytes, camera_id: str, caption: str) -> str:
        """Upload a JPEG as evidence for the outlet (presigned flow); returns the evidence id.

        Idempotent: the same bytes for the same outlet return the existing item.
        """
        sha256 = hashlib.sha256(jpeg).hexdigest()
        retry_on = SNAPSHOT_RETRYABLE_STATUS
        grant = self._json(
            "POST",
            f"{API_PREFIX}/evidence/uploads",
            retry_on=retry_on,
            json={
                "outlet_id": outlet_id,
                "sha256": sha256,
                "size_bytes": len(jpeg),
                "content_type": "image/jpeg",
            },
        )
        url = urljoin(self.api_url + "/", str(grant["upload_url"]))
        headers = {str(k): str(v) for k, v in (grant.get("headers") or {}).items()}
        headers.setdefault("Content-Type", "image/jpeg")
        try:
            resp = self._bare.put(url, content=jpeg, headers=headers)
        except httpx.HTTPError as exc:
            raise DeliveryError(f"PUT snapshot: {exc!r}", retryable=True) from exc
        self._check(resp, "PUT snapshot", retry_on)
        item = self._json(
            "POST",
            f"{API_PREFIX}/evidence/uploads/complete",
            retry_on=retry_on,
            json={
                "outlet_id": outlet_id,
                "sha256": sha256,
                "source": f"camera:{camera_id}",
                "caption": caption[:500],
            },
        )
        return str(item["id"])

    def post_batch(
        self,
        events: list[dict[str, Any]] | None = None,
        samples: list[dict[str, Any]] | None = None,
        states: list[dict[str, Any]] | None = None,
        health: list[dict[str, Any]] | None = None,
        waits: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """``POST /vision/batches``; returns the server's counts (stored / duplicates).

        ``waits`` is sent only when there are some: an API older than the list refuses the key,
        and only the batches that carry waits should be refused by it.
        """
        body: dict[str, list[dict[str, Any]]] = {
            "events": events or [],
            "samples": samples or [],
            "states": states or [],
            "health": health or [],
        }
        if waits:
            body["waits"] = waits
        result = self._json("POST", f"{API_PREFIX}/vision/batches", json=body)
        return result if isinstance(result, dict) else {}

    # ------------------------------------------------------------------ plumbing

    def _json(
        self,
        method: str,
        path: str,
        *,
        retry_on: frozenset[int] = RETRYABLE_STATUS,
        **kw: Any,
    ) -> Any:
        what = f"{method} {path}"
        try:
            resp = self._http.request(method, path, **kw)
        except httpx.HTTPError as exc:
            raise DeliveryError(f"{what}: {exc!r}", retryable=True) from exc
        self._check(resp, what, retry_on)
        try:
            return resp.json()
        except ValueError as exc:
            raise DeliveryError(f"{what}: the answer is not JSON", retryable=True) from exc

    @staticmethod
    def _check(
        resp: httpx.Response, what: str, retry_on: frozenset[int] = RETRYABLE_STATUS
    ) -> None:
        code = resp.status_code
        if code < 400:
            return
        message = f"{what}: {code} {_server_message(resp)}"
        retryable = code >= 500 or code in retry_on
        raise DeliveryError(
            message, retryable=retryable, status_code=code, retry_after_s=_retry_after(resp)
        )
