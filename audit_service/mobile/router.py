"""Serves the phone app (plain HTML/CSS/ES modules, no build step) at ``/m/``.

Only files that exist directly in ``static/`` are served, looked up by exact name in a listing
of that folder: nothing the client sends is ever joined into a filesystem path. ``sw.js`` gets
``Service-Worker-Allowed: /m/`` and a build id (a hash over every static file) so any change to
the app installs a new service worker with a fresh, versioned cache.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from audit_service.core.errors import NotFound

STATIC_DIR = Path(__file__).resolve().parent / "static"
BUILD_PLACEHOLDER = "__BUILD_ID__"

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".webmanifest": "application/manifest+json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".txt": "text/plain; charset=utf-8",
}

# The page may load nothing from anywhere else: no CDN, no inline script.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; "
    "connect-src 'self'; worker-src 'self'; manifest-src 'self'; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)

router = APIRouter(tags=["mobile"], include_in_schema=False)


def _listing() -> dict[str, Path]:
    """Servable files by name: regular files directly in ``static/`` with a known type."""
    return {
        p.name: p
        for p in STATIC_DIR.iterdir()
        if p.is_file() and not p.name.startswith(".") and p.suffix in CONTENT_TYPES
    }


@lru_cache(maxsize=8)
def _build_id(stamp: tuple[tuple[str, int, int], ...]) -> str:
    digest = hashlib.sha256()
    for name, _, _ in stamp:
        digest.update(name.encode())
        digest.update((STATIC_DIR / name).read_bytes())
    return digest.hexdigest()[:16]


def build_id() -> str:
    """A hash over every static file (recomputed only when a file's size or mtime changes)."""
    files = _listing()
    stamp = tuple(sorted((n, p.stat().st_size, p.stat().st_mtime_ns) for n, p in files.items()))
    return _build_id(stamp)


def _respond(request: Request, name: str) -> Response:
    path = _listing().get(name)
    if path is None:
        raise NotFound("file", name[:100])
    content = path.read_bytes()
    headers = {"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"}
    if name == "sw.js":
        content = content.replace(BUILD_PLACEHOLDER.encode(), build_id().encode())
        headers["Service-Worker-Allowed"] = "/m/"
    if name.endswith(".html"):
        headers["Content-Security-Policy"] = CSP
        headers["Referrer-Policy"] = "same-origin"
    etag = '"' + hashlib.sha256(content).hexdigest()[:32] + '"'
    headers["ETag"] = etag
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    return Response(content, media_type=CONTENT_TYPES[path.suffix], headers=headers)


@router.get("/m", response_class=RedirectResponse)
def app_root() -> RedirectResponse:
    # Relative, so the app also works behind a proxy that adds a path prefix.
    return RedirectResponse("m/", status_code=308)


@router.get("/m/")
def index(request: Request) -> Response:
    return _respond(request, "index.html")


@router.get("/m/{asset:path}")
def asset(asset: str, request: Request) -> Response:
    return _respond(request, asset)
