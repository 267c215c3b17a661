"""Checklist templates and versions through the API: drafts, publishing, import and export."""

from __future__ import annotations

import copy
import io

import pytest
from openpyxl import load_workbook

from audit_service.models import Role
from tests import factories as f


@pytest.fixture
def admin(client, db):
    f.user(db, "cl-admin", Role.admin)
    f.user(db, "cl-sup", Role.supervisor)
    f.user(db, "cl-aud", Role.auditor)
    db.commit()
    return f.login(client, "cl-admin")


def _create(client, headers, code="visit-check", definition=None):
    body = {"code": code} | ({"definition": definition} if definition else {})
    resp = client.post("/api/v1/checklists", json=body, headers=headers)
    assert resp.status_code == 201, resp.text
    return resp.json()


def test_draft_edit_publish_then_immutable(client, admin):
    template = _create(client, admin, definition=f.SIMPLE_CHECKLIST)
    (v1,) = template["versions"]
    assert v1["status"] == "draft" and v1["number"] == 1 and v1["items"] == 7
    changed = copy.deepcopy(f.SIMPLE_CHECKLIST)
    changed["pass_score"] = 90
    resp = client.put(
        f"/api/v1/checklist-versions/{v1['id']}", json={"definition": changed}, headers=admin
    )
    assert resp.status_code == 200 and resp.json()["definition"]["pass_score"] == 90
    published = client.post(f"/api/v1/checklist-versions/{v1['id']}/publish", headers=admin)
    assert published.json()["status"] == "published"
    resp = client.put(
        f"/api/v1/checklist-versions/{v1['id']}",
        json={"definition": f.SIMPLE_CHECKLIST},
        headers=admin,
    )
    assert resp.status_code == 409 and "new version" in resp.json()["detail"]
    v2 = client.post(f"/api/v1/checklists/{template['id']}/versions", json={}, headers=admin)
    assert v2.status_code == 201 and v2.json()["number"] == 2 and v2.json()["status"] == "draft"
    assert v2.json()["definition"]["pass_score"] == 90  # a copy of the latest
    listed = client.get("/api/v1/checklists", headers=admin).json()
    assert listed[0]["latest_published_id"] == v1["id"]
    taken = client.post("/api/v1/checklists", json={"code": "visit-check"}, headers=admin)
    assert taken.status_code == 409


def test_invalid_definitions_are_422_with_paths(client, admin):
    bad = copy.deepcopy(f.SIMPLE_CHECKLIST)
    bad["sections"][0]["items"][0]["name"] = "Bad Name!"
    resp = client.post("/api/v1/checklists", json={"code": "bad", "definition": bad}, headers=admin)
    assert resp.status_code == 422
    assert resp.json()["fields"][0]["field"].startswith("definition.sections.0.items.0")
    dup = copy.deepcopy(f.SIMPLE_CHECKLIST)
    dup["sections"][1]["items"][0]["name"] = "greeted"
    resp = client.post("/api/v1/checklists", json={"code": "dup", "definition": dup}, headers=admin)
    assert resp.status_code == 422 and "greeted" in resp.text


@pytest.mark.parametrize("fmt", ["xlsform", "json"])
def test_export_then_import_round_trips(client, admin, fmt):
    template = _create(client, admin, definition=f.SIMPLE_CHECKLIST)
    version_id = template["versions"][0]["id"]
    original = client.get(f"/api/v1/checklist-versions/{version_id}", headers=admin).json()
    exported = client.get(
        f"/api/v1/checklist-versions/{version_id}/export", params={"format": fmt}, headers=admin
    )
    assert exported.status_code == 200
    assert (
        f"visit-check-v1.{'xlsx' if fmt == 'xlsform' else 'json'}"
        in exported.headers["content-disposition"]
    )
    if fmt == "xlsform":
        book = load_workbook(io.BytesIO(exported.content))
        assert {"survey", "choices"} <= set(book.sheetnames)
        header = [c.value for c in book["survey"][1]]
        assert {"type", "name", "label::zh", "label::en", "required", "relevant"} <= set(header)
        assert {"weight", "critical", "role", "standard"} <= set(header)
    name = "c.xlsx" if fmt == "xlsform" else "c.json"
    imported = client.post(
        "/api/v1/checklists/import",
        files={"file": (name, exported.content, "application/octet-stream")},
        data={"code": "visit-check"},
        headers=admin,
    )
    assert imported.status_code == 201, imported.text
    assert imported.json()["number"] == 2
    assert imported.json()["definition"] == original["definition"]


def test_malformed_imports_name_the_problem(client, admin):
    for content in (b"PK\x03\x04 not really a zip", b"{not json", b'{"name": {"zh": "x"}}'):
        resp = client.post(
            "/api/v1/checklists/import",
            files={"file": ("x.bin", content, "application/octet-stream")},
            data={"code": "broken"},
            headers=admin,
        )
        assert resp.status_code == 422, resp.text
        assert resp.json()["field"] == "file" and resp.json()["detail"].startswith("file: ")
    listed = client.get("/api/v1/checklists", headers=admin).json()
    assert listed == []  # nothing half-imported


def test_ready_templates_install_published_with_critical_items(db, clock):
    from audit_service.checklists.service import definition_of, install_ready_templates
    from audit_service.demo.audits import principal_of

    user = db.query(f.User).filter_by(username="cl-admin").one_or_none() or f.user(
        db, "ready-admin", Role.admin
    )
    added = install_ready_templates(db, principal_of(db, user), now=clock())
    assert {v.template.code for v in added} == {"counter-visit", "camera-spot-check"}
    for version in added:
        defn = definition_of(version)
        assert version.status.value == "published"
        assert any(item.critical for _, item in defn.items())
        assert defn.name.zh and defn.name.en
    assert install_ready_templates(db, principal_of(db, user), now=clock()) == []


def test_auditors_read_but_never_write_checklists(client, admin):
    auditor = f.login(client, "cl-aud")
    _create(client, admin)
    assert client.get("/api/v1/checklists", headers=auditor).status_code == 200
    resp = client.post("/api/v1/checklists", json={"code": "mine"}, headers=auditor)
    assert resp.status_code == 403
