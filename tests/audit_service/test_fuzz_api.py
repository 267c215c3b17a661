"""Schemathesis over the whole OpenAPI schema as an admin: no 5xx, no response off its schema.

Runs on SQLite and PostgreSQL (PostgreSQL is where out-of-range numbers would surface).
Examples per operation are bounded and derandomised so CI runs the same cases every time.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from tests import factories as f

MAX_EXAMPLES = 12
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]


@pytest.fixture
def fuzz_world(app, client, db):
    region = f.region(db)
    outlet = f.outlet(db, region)
    f.counter(db, outlet)
    f.staff(db, outlet)
    admin = f.user(db, "fuzz-admin", f.Role.admin)
    # Id 1 of the audit objects exists, so the fuzzer reaches past the 404s.
    version = f.checklist_version(db)
    f.checklist_version(db, published=False)
    visit = f.visit(db, outlet, version, admin)
    f.visit(db, outlet, version, admin)
    db.commit()
    headers = f.login(client, "fuzz-admin")
    resp = client.post(
        f"/api/v1/visits/{visit.id}/audit", json=f.submission(), headers=headers | f.idem()
    )
    assert resp.status_code == 201, resp.text
    return {"headers": headers}


# These end the admin's own session or password; fuzzing them would log the fuzzer out.
# tests/audit_service/test_auth.py covers them.
SELF_ENDING = {("POST", "/api/v1/auth/logout"), ("POST", "/api/v1/auth/password")}


def _operations() -> list[tuple[str, str]]:
    """Every (method, path) of the schema, read from an app that needs no database."""
    from audit_service.app import create_app
    from audit_service.config import ServiceSettings

    app = create_app(
        ServiceSettings(database_url="sqlite://", evidence_dir="/tmp/unused"), configure_logs=False
    )
    ops = [
        (method.upper(), path)
        for path, item in app.openapi()["paths"].items()
        for method in item
        if method in {"get", "post", "put", "patch", "delete"}
        and (method.upper(), path) not in SELF_ENDING
        and not path.endswith("/reset-password")
    ]
    app.state.engine.dispose()
    return ops


@pytest.mark.parametrize(("method", "path"), _operations(), ids=lambda v: str(v))
def test_api_never_errors_and_keeps_its_schema(method, path, app, fuzz_world):
    # Built here first (FastAPI caches it): the loader's request has a 10 s timeout, and building
    # the schema of every route on a loaded CI machine can come close.
    app.openapi()
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operation = schema[path][method]

    @given(case=operation.as_strategy())
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case):
        case.call_and_validate(headers=fuzz_world["headers"], checks=CHECKS)

    run()
