"""Probes, metrics, request ids, structured logs and the error envelope."""

from __future__ import annotations

import json
import logging

from audit_service.core.logging import JsonFormatter, request_id_var
from audit_service.evidence.store import S3EvidenceStore
from tests import factories as f


def test_healthz_is_up(client):
    resp = client.get("/healthz")
    assert resp.status_code == 200
    assert resp.json() == {"status": "ok"}


def test_readyz_reports_database_and_store(client):
    resp = client.get("/readyz")
    assert resp.status_code == 200
    assert resp.json()["checks"] == {"database": "ok", "object_store": "ok"}


def test_readyz_is_503_when_the_object_store_is_down(app, client):
    # A port nothing listens on: the store is unreachable.
    app.state.evidence_store = S3EvidenceStore(
        endpoint="127.0.0.1:9",
        access_key="x",
        secret_key="y",
        bucket="b",
        secure=False,
        region="us-east-1",
    )
    resp = client.get("/readyz")
    assert resp.status_code == 503
    body = resp.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["object_store"].startswith("down")


def test_metrics_count_requests_by_route(client):
    client.get("/healthz")
    client.get("/api/v1/outlets/7")
    text = client.get("/metrics").text
    assert 'auditlens_http_requests_total{method="GET",route="/healthz",status="200"}' in text
    assert 'route="/api/v1/outlets/{outlet_id}",status="401"' in text


def test_request_id_is_echoed_or_minted(client):
    assert client.get("/healthz", headers={"X-Request-ID": "abc123"}).headers["x-request-id"] == (
        "abc123"
    )
    minted = client.get("/healthz").headers["x-request-id"]
    assert len(minted) == 32


def test_json_log_lines_carry_the_request_id():
    token = request_id_var.set("req-42")
    try:
        record = logging.LogRecord(
            "audit_service", logging.INFO, __file__, 1, "hello %s", ("world",), None
        )
        record.ctx_status = 200
        line = json.loads(JsonFormatter().format(record))
    finally:
        request_id_var.reset(token)
    assert line["msg"] == "hello world"
    assert line["request_id"] == "req-42"
    assert line["status"] == 200
    assert line["level"] == "info"


def test_unknown_route_and_method_use_the_error_envelope(client, db):
    f.user(db, "admin", f.Role.admin)
    db.commit()
    headers = f.login(client, "admin")
    resp = client.get("/api/v1/no-such-thing", headers=headers)
    assert resp.status_code == 404
    assert resp.json()["error"] == "not_found"
    resp = client.delete("/api/v1/regions", headers=headers)
    assert resp.status_code == 405
    assert set(resp.json()) >= {"error", "detail"}


def test_validation_errors_are_422_with_field_paths(client, db):
    f.user(db, "admin", f.Role.admin)
    db.commit()
    headers = f.login(client, "admin")
    resp = client.post("/api/v1/regions", json={"code": "", "name": 5}, headers=headers)
    assert resp.status_code == 422
    body = resp.json()
    assert body["error"] == "validation_error"
    fields = {item["field"] for item in body["fields"]}
    assert {"body.code", "body.name"} <= fields


def test_missing_token_is_401_with_envelope(client):
    resp = client.get("/api/v1/regions")
    assert resp.status_code == 401
    assert resp.json()["error"] == "unauthenticated"
    assert resp.headers["www-authenticate"] == "Bearer"
