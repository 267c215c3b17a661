"""The application factory: ``create_app(settings)`` builds the whole API."""

from __future__ import annotations

import logging
import time
import uuid
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from audit_service import __version__
from audit_service.config import ServiceSettings, get_settings
from audit_service.core.clock import Clock, system_clock
from audit_service.core.db import make_engine, make_sessionmaker
from audit_service.core.errors import ERROR_RESPONSES, AuditLensError, ServiceUnavailable
from audit_service.core.logging import configure_logging, request_id_var
from audit_service.evidence.store import EvidenceStore, make_store

log = logging.getLogger("audit_service")

API_PREFIX = "/api/v1"


def _routers() -> list[APIRouter]:
    from audit_service.accounts.router import auth_router, users_router
    from audit_service.audits.router import router as audits_router
    from audit_service.camera_findings.router import router as findings_router
    from audit_service.cameras.router import router as cameras_router
    from audit_service.checklists.router import router as checklists_router
    from audit_service.corrective_actions.router import router as actions_router
    from audit_service.cross_checks.router import router as cross_checks_router
    from audit_service.evidence.router import router as evidence_router
    from audit_service.organisation.router import router as organisation_router
    from audit_service.performance.router import router as performance_router
    from audit_service.roster.router import router as roster_router
    from audit_service.staff.router import router as staff_router
    from audit_service.workers.router import router as workers_router

    return [
        auth_router,
        users_router,
        organisation_router,
        cameras_router,
        staff_router,
        roster_router,
        evidence_router,
        workers_router,
        findings_router,
        checklists_router,
        audits_router,
        actions_router,
        performance_router,
        cross_checks_router,
    ]


def _error(status: int, error: str, detail: Any, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": error, "detail": detail, **extra}, status_code=status)


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AuditLensError)
    async def _domain(request: Request, exc: AuditLensError) -> JSONResponse:
        headers = {}
        if exc.status_code == 401:
            headers["WWW-Authenticate"] = "Bearer"
        if exc.status_code == 429:
            headers["Retry-After"] = str(exc.extra.get("retry_after_s", 60))
        return JSONResponse(exc.body(), status_code=exc.status_code, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        fields = [
            {
                "field": ".".join(str(p) for p in err.get("loc", ())),
                "message": err.get("msg", ""),
                "type": err.get("type", ""),
            }
            for err in exc.errors()
        ]
        summary = "; ".join(f"{f['field']}: {f['message']}" for f in fields[:5])
        return _error(422, "validation_error", summary or "invalid request", fields=fields)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return _error(
            exc.status_code,
            code,
            exc.detail,
        )

    @app.exception_handler(IntegrityError)
    async def _integrity(request: Request, exc: IntegrityError) -> JSONResponse:
        log.warning("integrity error", extra={"ctx_error": str(exc.orig)[:300]})
        return _error(
            409,
            "conflict",
            "the change conflicts with stored data (a duplicate code or a reference still in use)",
        )

    @app.exception_handler(OperationalError)
    async def _db_down(request: Request, exc: OperationalError) -> JSONResponse:
        log.error("database unavailable", extra={"ctx_error": str(exc.orig)[:300]})
        return _error(503, "service_unavailable", "database unavailable; retry shortly")

    @app.exception_handler(DBAPIError)
    async def _db_data(request: Request, exc: DBAPIError) -> JSONResponse:
        # e.g. a number out of the column's range: the client's input, not our fault.
        log.warning("database rejected input", extra={"ctx_error": str(exc.orig)[:300]})
        if "NUL" in str(exc.orig) or "0x00" in str(exc.orig):
            return _error(422, "invalid_input", "text must not contain NUL (\\u0000) characters")
        return _error(422, "invalid_input", "a value is out of the range the database accepts")


def _route_template(request: Request) -> str:
    """The matched route's template (bounded label cardinality), with the API prefix."""
    route = request.scope.get("route")
    path = getattr(route, "path_format", None) or getattr(route, "path", None)
    if path is None:
        return "unmatched"
    # Newer FastAPI keeps included routers nested, so the route knows only its own part.
    if request.url.path.startswith(API_PREFIX) and not path.startswith(API_PREFIX):
        path = API_PREFIX + path
    return str(path)


def _install_middleware(app: FastAPI, registry: CollectorRegistry) -> None:
    requests_total = Counter(
        "auditlens_http_requests_total",
        "HTTP requests",
        ["method", "route", "status"],
        registry=registry,
    )
    latency = Histogram(
        "auditlens_http_request_seconds",
        "HTTP request latency",
        ["method", "route"],
        registry=registry,
    )

    @app.middleware("http")
    async def _request_context(request: Request, call_next: Any) -> Any:
        rid = request.headers.get("x-request-id") or uuid.uuid4().hex
        token = request_id_var.set(rid[:64])
        start = time.perf_counter()
        status = 500
        try:
            response = await call_next(request)
            status = response.status_code
        except Exception:
            log.exception("unhandled error")
            response = _error(500, "internal_error", "internal error; quote request id " + rid)
        finally:
            elapsed = time.perf_counter() - start
            path = _route_template(request)
            requests_total.labels(request.method, path, str(status)).inc()
            latency.labels(request.method, path).observe(elapsed)
            log.info(
                "request",
                extra={
                    "ctx_method": request.method,
                    "ctx_path": request.url.path,
                    "ctx_status": status,
                    "ctx_ms": round(elapsed * 1000, 1),
                },
            )
            request_id_var.reset(token)
        response.headers["X-Request-ID"] = rid[:64]
        return response


def create_app(
    settings: ServiceSettings | None = None,
    *,
    clock: Clock = system_clock,
    store: EvidenceStore | None = None,
    configure_logs: bool = True,
) -> FastAPI:
    settings = settings or get_settings()
    if configure_logs:
        configure_logging(settings.log_level, settings.log_json)
    engine = make_engine(settings.database_url)
    app = FastAPI(
        title="AuditLens API",
        version=__version__,
        description="System of record for outlets, staff, rosters, cameras, audits and evidence.",
        openapi_url="/openapi.json",
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessionmaker = make_sessionmaker(engine)
    app.state.clock = clock
    app.state.evidence_store = store or make_store(settings)
    registry = CollectorRegistry()
    app.state.metrics_registry = registry

    _install_error_handlers(app)
    _install_middleware(app, registry)
    for router in _routers():
        app.include_router(router, prefix=API_PREFIX, responses=ERROR_RESPONSES)
    from audit_service.mobile.router import router as mobile_router

    app.include_router(mobile_router)  # the phone app at /m/ (static files)

    @app.get("/healthz", tags=["operations"], summary="The process is up")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get(
        "/readyz",
        tags=["operations"],
        summary="Database and object store reachable",
        responses={503: {"description": "a dependency is down"}},
    )
    def readyz() -> JSONResponse:
        checks: dict[str, str] = {}
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            checks["database"] = "ok"
        except Exception as exc:  # report, never raise: this is a probe
            checks["database"] = f"down: {exc.__class__.__name__}"
        try:
            app.state.evidence_store.ping()
            checks["object_store"] = "ok"
        except ServiceUnavailable as exc:
            checks["object_store"] = f"down: {exc.detail}"
        ok = all(v == "ok" for v in checks.values())
        return JSONResponse(
            {"status": "ok" if ok else "unavailable", "checks": checks},
            status_code=200 if ok else 503,
        )

    @app.get(
        "/metrics",
        tags=["operations"],
        response_class=PlainTextResponse,
        summary="Prometheus metrics",
    )
    def metrics() -> PlainTextResponse:
        return PlainTextResponse(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return app
