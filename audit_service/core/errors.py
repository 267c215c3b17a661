"""The one error hierarchy. Every domain error subclasses :class:`AuditLensError`.

Handlers in :mod:`audit_service.app` render them as ``{"error": <code>, "detail": <text>}``.
"""

from __future__ import annotations

from typing import Any


class AuditLensError(Exception):
    status_code = 400
    error = "bad_request"

    def __init__(self, detail: str, *, extra: dict[str, Any] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra or {}

    def body(self) -> dict[str, Any]:
        return {"error": self.error, "detail": self.detail, **self.extra}


class NotFound(AuditLensError):
    """Unknown id, or an object outside the caller's scope (never tell which)."""

    status_code = 404
    error = "not_found"

    def __init__(self, kind: str, ident: object) -> None:
        super().__init__(f"{kind} {ident!s} not found")


class Unauthenticated(AuditLensError):
    status_code = 401
    error = "unauthenticated"


class Forbidden(AuditLensError):
    status_code = 403
    error = "forbidden"


class Conflict(AuditLensError):
    status_code = 409
    error = "conflict"


class InvalidInput(AuditLensError):
    """Input that passed schema validation but breaks a domain rule."""

    status_code = 422
    error = "invalid_input"

    def __init__(self, detail: str, *, field: str | None = None, **kw: Any) -> None:
        super().__init__(detail, **kw)
        if field:
            self.extra.setdefault("field", field)
            # Same shape as request-validation errors, so clients read one list.
            self.extra.setdefault(
                "fields", [{"field": field, "message": detail, "type": "invalid_input"}]
            )

    @classmethod
    def many(cls, problems: list[tuple[str, str]]) -> InvalidInput:
        """One 422 listing every (field path, message); ``detail`` is the first message."""
        first_field, first_message = problems[0]
        error = cls(
            first_message
            if len(problems) == 1
            else f"{first_message} (and {len(problems) - 1} more)"
        )
        error.extra["field"] = first_field
        error.extra["fields"] = [
            {"field": f, "message": m, "type": "invalid_input"} for f, m in problems
        ]
        return error


class IdempotencyConflict(Conflict):
    """The same Idempotency-Key was used with a different request."""

    error = "idempotency_conflict"


class PayloadTooLarge(AuditLensError):
    status_code = 413
    error = "payload_too_large"


class UnsupportedMedia(AuditLensError):
    status_code = 415
    error = "unsupported_media_type"


class RateLimited(AuditLensError):
    status_code = 429
    error = "rate_limited"

    def __init__(self, detail: str, retry_after_s: int) -> None:
        super().__init__(detail, extra={"retry_after_s": retry_after_s})
        self.retry_after_s = retry_after_s


class ServiceUnavailable(AuditLensError):
    status_code = 503
    error = "service_unavailable"


# ---------------------------------------------------------------- the documented error body
from pydantic import BaseModel, ConfigDict  # noqa: E402


class FieldError(BaseModel):
    field: str
    message: str
    type: str = ""


class ErrorBody(BaseModel):
    """What every error response looks like."""

    model_config = ConfigDict(extra="allow")
    error: str
    detail: Any
    fields: list[FieldError] | None = None


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody, "description": text}
    for code, text in {
        400: "Bad request",
        401: "Missing, expired or revoked token",
        403: "The caller's role lacks the permission",
        404: "Unknown id, or outside the caller's scope",
        409: "Conflicts with stored data",
        413: "Upload too large",
        415: "Unsupported file type",
        422: "Invalid input; `fields` names each offending field",
        429: "Too many attempts",
        503: "A dependency (database, object store) is unavailable",
    }.items()
}
