"""The HTTP client of the audit_service API: the dashboard's only way to data.

Plain httpx, no Streamlit: every failure becomes a typed :class:`ApiError` carrying the API's
``{"error", "detail", "fields"}`` envelope, so pages can say what went wrong in words. The
Streamlit side (sessions, caching, 401 handling) lives in :mod:`dashboard.data`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx

API_PREFIX = "/api/v1"


@dataclass(eq=False)  # eq=False keeps exceptions hashable, as tracebacks expect
class ApiError(Exception):
    """The API said no, or could not be reached. ``status`` 0: no HTTP answer at all."""

    status: int
    error: str
    detail: str
    fields: list[dict[str, Any]] = field(default_factory=list)

    def __str__(self) -> str:
        return f"{self.status} {self.error}: {self.detail}"


class Unauthorized(ApiError):
    """401: no token, a wrong password, or a token that expired or was revoked."""


class Forbidden(ApiError):
    """403: the role lacks the permission."""


class NotFound(ApiError):
    """404: unknown, or outside the caller's scope (the API never says which)."""


class Conflict(ApiError):
    """409: the object changed meanwhile (e.g. an audit already reviewed)."""


class InvalidInput(ApiError):
    """422: the request broke a rule; ``fields`` names each offending field."""


class RateLimited(ApiError):
    """429: too many failed logins; wait and retry."""


class ApiUnavailable(ApiError):
    """The API could not be reached, timed out, or failed (5xx)."""


_BY_STATUS: dict[int, type[ApiError]] = {
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    422: InvalidInput,
    429: RateLimited,
}


def error_of(response: httpx.Response) -> ApiError:
    """The typed error for a failed response (the API's envelope, or the bare text)."""
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    detail = body.get("detail") or response.text[:300] or response.reason_phrase
    kind = _BY_STATUS.get(response.status_code)
    if kind is None:
        kind = ApiUnavailable if response.status_code >= 500 else ApiError
    return kind(
        status=response.status_code,
        error=str(body.get("error") or "http_error"),
        detail=str(detail),
        fields=list(body.get("fields") or []),
    )


class ApiClient:
    """One connection pool to the API; every call passes the caller's bearer token."""

    def __init__(self, base_url: str, *, timeout_s: float = 15.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout_s)

    def close(self) -> None:
        self._http.close()

    # ------------------------------------------------------------ sessions

    def login(self, username: str, password: str) -> dict[str, Any]:
        """The OAuth2 password flow: ``{access_token, refresh_token, expires_in, ...}``."""
        return self._json(
            "POST", "/auth/token", None, data={"username": username, "password": password}
        )

    def refresh(self, refresh_token: str) -> dict[str, Any]:
        """A new token pair for a refresh token (the old one stops working)."""
        return self._json("POST", "/auth/refresh", None, json={"refresh_token": refresh_token})

    def logout(self, token: str) -> None:
        self._send("POST", "/auth/logout", token)

    # ------------------------------------------------------------ reads and writes

    def get_json(self, token: str, path: str, params: dict[str, Any] | None = None) -> Any:
        return self._json("GET", path, token, params=_clean(params))

    def get_bytes(
        self, token: str, path: str, params: dict[str, Any] | None = None
    ) -> tuple[bytes, str]:
        """A download (CSV, XLSX, PDF): the bytes and their content type."""
        response = self._send("GET", path, token, params=_clean(params))
        return response.content, response.headers.get("content-type", "")

    def send_json(
        self, method: str, token: str, path: str, body: dict[str, Any] | None = None
    ) -> Any:
        return self._json(method, path, token, json=body if body is not None else {})

    def fetch_url(self, url: str) -> bytes:
        """The bytes behind a short-lived presigned URL (the signature is the credential)."""
        try:
            response = httpx.get(url, timeout=self._http.timeout, follow_redirects=True)
        except httpx.HTTPError as exc:
            raise ApiUnavailable(0, "unreachable", f"{url.split('?')[0]}: {exc}") from exc
        if response.is_error:
            raise error_of(response)
        return response.content

    # ------------------------------------------------------------ plumbing

    def _json(self, method: str, path: str, token: str | None, **kw: Any) -> Any:
        response = self._send(method, path, token, **kw)
        if response.status_code == 204 or not response.content:
            return None
        return response.json()

    def _send(self, method: str, path: str, token: str | None, **kw: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        url = path if path.startswith("/api/") else API_PREFIX + path
        try:
            response = self._http.request(method, url, headers=headers, **kw)
        except httpx.HTTPError as exc:
            raise ApiUnavailable(
                0, "unreachable", f"the API at {self.base_url} did not answer ({exc})"
            ) from exc
        if response.is_error:
            raise error_of(response)
        return response


def _clean(params: dict[str, Any] | None) -> dict[str, Any] | None:
    """Query parameters without the unset ones (None), so the API applies its defaults."""
    if not params:
        return None
    return {k: v for k, v in params.items() if v is not None}
