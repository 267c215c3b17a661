"""The Streamlit side of the API: this browser session's login, cached reads, writes.

- The access and refresh tokens live in ``st.session_state`` (never on disk, never in a URL).
- Reads are cached with ``st.cache_data`` keyed by the token, so two users never share an
  answer and one user's reruns do not hit the API again within the TTL. Live reads (counters,
  queues) have a shorter TTL than reference data (outlets, audits).
- A 401 triggers one refresh with the refresh token; if that fails too the login is over:
  :class:`SessionExpired` is raised and the app returns to the login page with a message.
- Writes go straight to the API and then drop the cached reads, so the page shows the change.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import date, datetime
from enum import Enum
from typing import Any, TypeVar

import streamlit as st

from dashboard import settings as settings_module
from dashboard.api import ApiClient, ApiError, Unauthorized
from dashboard.i18n import LANG_KEY

AUTH_KEY = "auth"
FLASH_KEY = "flash"

T = TypeVar("T")
Params = tuple[tuple[str, Any], ...]

_SETTINGS = settings_module.current()


class SessionExpired(Exception):
    """Not logged in, or the login expired (401 even after a refresh)."""


@st.cache_resource(show_spinner=False)
def client(api_url: str, timeout_s: float) -> ApiClient:
    """One HTTP connection pool per API for the whole server process."""
    return ApiClient(api_url, timeout_s=timeout_s)


def api() -> ApiClient:
    s = settings_module.current()
    return client(s.api_url, s.dashboard_http_timeout_s)


# ---------------------------------------------------------------- the login


def logged_in() -> bool:
    return bool(st.session_state.get(AUTH_KEY))


def login(username: str, password: str) -> None:
    """Log in through the API; raises :class:`dashboard.api.Unauthorized` for a wrong password."""
    pair = api().login(username, password)
    _keep(pair)


def logout() -> None:
    """End this login at the API (best effort) and forget everything about it here."""
    auth = st.session_state.get(AUTH_KEY)
    if auth:
        # Already expired or unreachable: forgetting it here is what matters.
        with contextlib.suppress(ApiError):
            api().logout(auth["access_token"])
    _forget()


def expire(message: str) -> None:
    """The API no longer accepts this login: forget it and tell the login page why."""
    _forget()
    st.session_state[FLASH_KEY] = message


def _keep(pair: dict[str, Any]) -> None:
    st.session_state[AUTH_KEY] = {
        "access_token": pair["access_token"],
        "refresh_token": pair.get("refresh_token"),
    }


def _forget() -> None:
    # Everything but the language goes: selections and filters belong to the old login.
    for key in list(st.session_state.keys()):
        if key != LANG_KEY:
            del st.session_state[key]


def _with_token(call: Callable[[str], T]) -> T:
    auth = st.session_state.get(AUTH_KEY)
    if not auth:
        raise SessionExpired
    try:
        return call(auth["access_token"])
    except Unauthorized:
        pass
    # The access token lasts minutes; the refresh token keeps a working session going.
    refresh_token = auth.get("refresh_token")
    if not refresh_token:
        raise SessionExpired
    try:
        pair = api().refresh(refresh_token)
    except Unauthorized as exc:
        raise SessionExpired from exc
    _keep(pair)
    try:
        return call(pair["access_token"])
    except Unauthorized as exc:
        raise SessionExpired from exc


# ---------------------------------------------------------------- cached reads


@st.cache_data(ttl=_SETTINGS.dashboard_cache_ttl_s, show_spinner=False, max_entries=5000)
def _get(api_url: str, token: str, path: str, params: Params) -> Any:
    return api().get_json(token, path, dict(params))


@st.cache_data(ttl=_SETTINGS.dashboard_live_ttl_s, show_spinner=False, max_entries=1000)
def _get_live(api_url: str, token: str, path: str, params: Params) -> Any:
    return api().get_json(token, path, dict(params))


@st.cache_data(ttl=_SETTINGS.dashboard_cache_ttl_s, show_spinner=False, max_entries=50)
def _get_bytes(api_url: str, token: str, path: str, params: Params) -> tuple[bytes, str]:
    return api().get_bytes(token, path, dict(params))


def _param(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _key(params: dict[str, Any]) -> Params:
    return tuple(sorted((k, _param(v)) for k, v in params.items() if v is not None))


def read(path: str, *, live: bool = False, **params: Any) -> Any:
    """GET ``/api/v1{path}`` as the logged-in user, cached (``live``: the short TTL)."""
    fetch = _get_live if live else _get
    url = settings_module.current().api_url
    return _with_token(lambda token: fetch(url, token, path, _key(params)))


def read_all(path: str, *, page_size: int = 500, **params: Any) -> list[dict[str, Any]]:
    """Every item of a paged list (``{items, total, limit, offset}``), page by page."""
    items: list[dict[str, Any]] = []
    while True:
        page = read(path, limit=page_size, offset=len(items), **params)
        items.extend(page["items"])
        if not page["items"] or len(items) >= page["total"]:
            return items


def download(path: str, **params: Any) -> bytes:
    """A file the API generates (CSV, XLSX, PDF), cached like a read."""
    url = settings_module.current().api_url
    data, _ = _with_token(lambda token: _get_bytes(url, token, path, _key(params)))
    return data


def change(
    method: str, path: str, body: dict[str, Any] | None = None, *, forget: bool = True
) -> Any:
    """POST/PUT/PATCH as the logged-in user. Cached reads are dropped afterwards (unless
    ``forget`` is False: nothing shown changed), so pages show the change."""
    result = _with_token(lambda token: api().send_json(method, token, path, body))
    if forget:
        forget_reads()
    return result


def forget_reads() -> None:
    _get.clear()
    _get_live.clear()
    _get_bytes.clear()
    _outlet_index.clear()


def fetch_url(url: str) -> bytes:
    """The bytes behind a presigned URL the API minted (not cached: each view is logged)."""
    return api().fetch_url(url)


# ---------------------------------------------------------------- reads most pages need


def me() -> dict[str, Any]:
    """The logged-in account: role, scope, permissions (``GET /auth/me``)."""
    return read("/auth/me")


def can(permission: str) -> bool:
    return permission in me()["permissions"]


@st.cache_resource(ttl=_SETTINGS.dashboard_cache_ttl_s, show_spinner=False, max_entries=1000)
def _outlet_index(api_url: str, token: str) -> dict[int, dict[str, Any]]:
    # A resource, not data: tables look an outlet up per row, and cache_data would hand out a
    # fresh copy of every outlet on each lookup. Shared: callers only read it.
    return {o["id"]: o for o in api().get_json(token, "/outlets")}


def outlets_by_id() -> dict[int, dict[str, Any]]:
    """Outlets in scope by id, with their time zones and opening hours (read-only)."""
    url = settings_module.current().api_url
    return _with_token(lambda token: _outlet_index(url, token))


def outlets() -> list[dict[str, Any]]:
    """Outlets in scope, in the API's order."""
    return list(outlets_by_id().values())


def regions() -> list[dict[str, Any]]:
    return read("/regions")


def outlet_timezone(outlet_id: int | None) -> str:
    """An outlet's time zone (the dashboard default for an unknown outlet)."""
    outlet = outlets_by_id().get(outlet_id) if outlet_id is not None else None
    return outlet["timezone"] if outlet else settings_module.current().dashboard_timezone
