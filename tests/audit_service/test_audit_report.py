"""Printable audit reports (HTML and PDF) through the API: content, escaping, scope, and the
evidence access log (one row per photo shown; none when the caller may not view evidence)."""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import cv2
import numpy as np
import pytest
from pypdf import PdfReader
from sqlalchemy import select

from audit_service.models import EvidenceAccess, Role
from tests import factories as f

API = "/api/v1"
NOW = f.NOW  # the FakeClock's start: 2026-11-20 09:00 UTC = 17:00 in Shanghai
COMMENT = '<script>alert("x")</script> 未说明 & more'

DEFINITION: dict[str, Any] = {
    "name": {"zh": "网点柜面暗访", "en": "Outlet counter visit"},
    "critical_rule": "cap",
    "critical_cap": 60,
    "pass_score": 80,
    "sections": [
        {
            "name": "reception",
            "label": {"zh": "接待", "en": "Reception"},
            "weight": 1,
            "items": [
                {
                    "name": "greeted",
                    "type": "yes_no",
                    "label": {"zh": "主动问候", "en": "Greeted promptly"},
                    "standard": "SV-RECEPTION-01",
                },
                {
                    "name": "courtesy",
                    "type": "scale",
                    "label": {"zh": "礼貌程度", "en": "Courtesy"},
                    "scale_min": 1,
                    "scale_max": 5,
                },
                {
                    "name": "wait",
                    "type": "duration",
                    "label": {"zh": "等候时间", "en": "Wait"},
                    "target_s": 300,
                },
                {
                    "name": "vip_help",
                    "type": "yes_no",
                    "label": {"zh": "贵宾协助", "en": "VIP help"},
                    "allow_na": True,
                },
            ],
        },
        {
            "name": "counter",
            "label": {"zh": "柜面", "en": "Counter"},
            "weight": 1,
            "items": [
                {
                    "name": "service_kind",
                    "type": "single_choice",
                    "label": {"zh": "办理业务", "en": "Service used"},
                    "choices": [
                        {"name": "deposit", "label": {"zh": "存款", "en": "Deposit"}, "points": 1},
                        {"name": "loan", "label": {"zh": "贷款", "en": "Loan"}, "points": 1},
                    ],
                },
                {
                    "name": "offers",
                    "type": "multi_choice",
                    "label": {"zh": "推介产品", "en": "Products offered"},
                    "required": False,
                    "choices": [
                        {"name": "wealth", "label": {"zh": "理财", "en": "Wealth"}, "points": 1},
                        {"name": "insure", "label": {"zh": "保险", "en": "Insurance"}, "points": 1},
                    ],
                },
                {
                    "name": "exemptions",
                    "type": "yes_no",
                    "label": {"zh": "说明免责条款", "en": "Exemption clauses explained"},
                    "critical": True,
                    "standard": "SV-COUNTER-02",
                },
                {
                    "name": "front_photo",
                    "type": "photo",
                    "label": {"zh": "网点门头照片", "en": "Photo of the outlet front"},
                    "required": False,
                    "max_photos": 3,
                },
            ],
        },
    ],
}


def jpeg(seed: int) -> bytes:
    pixels = np.random.default_rng(seed).integers(0, 255, (48, 64, 3), dtype=np.uint8)
    ok, buf = cv2.imencode(".jpg", pixels)
    assert ok
    return buf.tobytes()


@dataclass
class World:
    client: Any
    db: Any
    headers: dict[str, dict[str, str]]
    ids: dict[str, int]
    audit: dict[str, Any]
    photos: list[str]

    def get(self, path: str, who: str):  # type: ignore[no-untyped-def]
        return self.client.get(f"{API}{path}", headers=self.headers[who])

    def log_rows(self, who: str | None = None) -> list[EvidenceAccess]:
        self.db.rollback()  # see what the API committed
        query = select(EvidenceAccess).order_by(EvidenceAccess.id)
        if who is not None:
            query = query.where(EvidenceAccess.user_id == self.ids[who])
        return list(self.db.scalars(query))


@pytest.fixture
def world(client, db) -> World:  # type: ignore[no-untyped-def]
    region, far_region = f.region(db), f.region(db, "R2", "Region Two")
    outlet = f.outlet(db, region, "PDX7")
    f.outlet(db, far_region, "O2")
    users = {
        "sup": f.user(db, "sup", Role.supervisor, regions=[region]),
        "far_sup": f.user(db, "sup-far", Role.supervisor, regions=[far_region]),
        "aud": f.user(db, "aud", Role.auditor, outlets=[outlet]),
        "aud2": f.user(db, "aud2", Role.auditor, outlets=[outlet]),
        "hr": f.user(db, "hr", Role.hr, regions=[region]),
        "admin": f.user(db, "adm", Role.admin),
    }
    db.commit()
    ids = {name: u.id for name, u in users.items()} | {"outlet": outlet.id}
    headers = {name: f.login(client, u.username) for name, u in users.items()}

    created = client.post(
        f"{API}/checklists",
        json={"code": "counter-visit", "definition": DEFINITION},
        headers=headers["sup"],
    )
    assert created.status_code == 201, created.text
    version_id = created.json()["versions"][0]["id"]
    published = client.post(
        f"{API}/checklist-versions/{version_id}/publish", headers=headers["sup"]
    )
    assert published.status_code == 200, published.text
    visit = client.post(
        f"{API}/visits",
        json={
            "outlet_id": outlet.id,
            "version_id": version_id,
            "auditor_id": users["aud"].id,
            "window_start": (NOW - timedelta(days=1)).isoformat(),
            "window_end": (NOW + timedelta(days=6)).isoformat(),
        },
        headers=headers["sup"],
    )
    assert visit.status_code == 201, visit.text

    photos = []
    for seed in (1, 2):
        up = client.post(
            f"{API}/evidence",
            headers=headers["aud"],
            files={"file": (f"front{seed}.jpg", jpeg(seed), "image/jpeg")},
            data={"outlet_id": str(outlet.id), "source": "audit", "caption": "front_photo"},
        )
        assert up.status_code == 201, up.text
        photos.append(up.json()["id"])

    body = {
        "started_at": (NOW - timedelta(minutes=80)).isoformat(),  # 15:40 in Shanghai
        "ended_at": (NOW - timedelta(minutes=60)).isoformat(),
        "location": {"lat": 31.2304, "lon": 121.4737, "accuracy_m": 25},
        "answers": {
            "greeted": {"value": True},
            "courtesy": {"value": 4},
            "wait": {"value": 135},
            "vip_help": {"na": True},
            "service_kind": {"value": "deposit"},
            "offers": {"value": ["wealth", "insure"]},
            "exemptions": {"value": False, "comment": COMMENT},
            "front_photo": {"value": None, "photos": photos},
        },
    }
    submitted = client.post(
        f"{API}/visits/{visit.json()['id']}/audit",
        json=body,
        headers=headers["aud"] | {"Idempotency-Key": str(uuid.uuid4())},
    )
    assert submitted.status_code == 201, submitted.text
    audit = submitted.json()
    # The critical item failed under "cap": the score is capped at 60 and the audit fails.
    assert audit["score"] == 60 and audit["passed"] is False and audit["critical_failed"]
    assert audit["capped"] is True
    return World(client, db, headers, ids, audit, photos)


# ---------------------------------------------------------------- HTML


def test_html_report_for_a_supervisor_shows_the_audit_and_logs_each_photo(world: World):
    assert world.log_rows() == []
    resp = world.get(f"/audits/{world.audit['id']}/report", "sup")
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"].startswith("text/html")
    page = resp.text

    # A self-contained, printable page.
    assert page.startswith("<!DOCTYPE html>")
    assert '<html lang="zh-CN">' in page and '<meta charset="utf-8">' in page
    assert "@media print" in page and "size: A4" in page
    assert "<link" not in page and "<script" not in page.lower()
    assert "cdn" not in page.lower()

    # Header: outlet, checklist in both languages, auditor, local times, status, score, result.
    assert "PDX7 Outlet PDX7" in page
    assert "网点柜面暗访 / Outlet counter visit" in page
    assert "aud" in page
    assert "2026-11-20 15:40 – 16:00 (Asia/Shanghai)" in page
    assert "已提交 / Submitted" in page
    assert '<div class="big">60</div>' in page
    assert "不合格 / FAIL" in page
    assert "关键项不合格 / Critical item failed" in page
    assert "Score capped at 60" in page

    # Section breakdown with a bar per section, then the items rendered per type.
    assert page.count('<div class="bar">') == 2
    assert "接待 / Reception" in page and "柜面 / Counter" in page
    assert "主动问候" in page and "Greeted promptly" in page
    assert "是 / Yes" in page and "否 / No" in page
    assert "4（1–5）" in page
    assert "2:15" in page  # 135 s as m:ss
    assert "不适用 / N/A" in page
    assert "存款 / Deposit" in page
    assert "理财 / Wealth；保险 / Insurance" in page
    assert "SV-COUNTER-02" in page
    assert "关键项 / critical" in page and "不合格 / failed" in page

    # The comment is escaped, never markup.
    assert "<script>" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; 未说明 &amp; more" in page

    # Photos: only through short-lived view URLs, each one logged.
    assert page.count("<img ") == 2
    assert "withheld" not in page
    rows = world.log_rows()
    assert len(rows) == 2
    assert {str(r.evidence_id) for r in rows} == set(world.photos)
    assert {(r.user_id, r.purpose) for r in rows} == {(world.ids["sup"], "audit report")}
    assert all(r.expires_at > r.at for r in rows)

    # The URLs in the page really serve the photos.
    src = page.split('<img src="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    photo = world.client.get(src)
    assert photo.status_code == 200 and photo.headers["content-type"] == "image/jpeg"

    # The log is visible through the API too.
    log = world.get(f"/evidence/access-log?user_id={world.ids['sup']}", "admin")
    assert log.status_code == 200, log.text
    assert {i["purpose"] for i in log.json()["items"]} == {"audit report"}
    assert log.json()["total"] == 2

    # Another view is logged again.
    assert world.get(f"/audits/{world.audit['id']}/report", "sup").status_code == 200
    assert len(world.log_rows()) == 4


@pytest.mark.parametrize("who", ["aud", "hr"])
def test_html_report_without_evidence_view_withholds_photos_and_logs_nothing(
    world: World, who: str
):
    resp = world.get(f"/audits/{world.audit['id']}/report", who)
    assert resp.status_code == 200, resp.text
    page = resp.text
    assert "<img " not in page
    assert page.count("photo withheld (no evidence:view permission)") == 2
    assert "主动问候" in page and '<div class="big">60</div>' in page
    assert world.log_rows() == []


@pytest.mark.parametrize("who", ["far_sup", "aud2"])
def test_report_of_an_audit_out_of_scope_is_404(world: World, who: str):
    for path in ("report", "report.pdf"):
        resp = world.get(f"/audits/{world.audit['id']}/{path}", who)
        assert resp.status_code == 404, resp.text
        assert resp.json()["error"] == "not_found"
    assert world.get("/audits/999999/report", "sup").status_code == 404
    assert world.log_rows() == []


# ---------------------------------------------------------------- PDF


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)


def test_pdf_report_embeds_photos_with_chinese_text_and_logs_each(world: World):
    resp = world.get(f"/audits/{world.audit['id']}/report.pdf", "sup")
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"] == "application/pdf"
    assert f'filename="audit-{world.audit["id"]}.pdf"' in resp.headers["content-disposition"]
    data = resp.content
    assert data.startswith(b"%PDF")
    # The CJK font (Debian's fonts-wqy-microhei, installed by scripts/install.sh) is embedded, so
    # the Chinese shows in any viewer, not only where a Chinese font is installed.
    assert b"/FontFile2" in data and b"STSong-Light" not in data

    reader = PdfReader(io.BytesIO(data))
    assert reader.metadata.title == f"Audit report #{world.audit['id']} PDX7"
    text = pdf_text(data)
    assert "PDX7" in text
    assert "主动问候" in text and "网点柜面暗访" in text
    assert "存款 / Deposit" in text and "2:15" in text
    assert '<script>alert("x")</script>' in text  # shown as text, not swallowed as markup
    assert "withheld" not in text
    assert sum(len(page.images) for page in reader.pages) == 2

    rows = world.log_rows()
    assert len(rows) == 2
    assert {str(r.evidence_id) for r in rows} == set(world.photos)
    assert {(r.user_id, r.purpose) for r in rows} == {(world.ids["sup"], "audit report pdf")}


def test_pdf_report_without_evidence_view_has_placeholders_and_logs_nothing(world: World):
    resp = world.get(f"/audits/{world.audit['id']}/report.pdf", "aud")
    assert resp.status_code == 200, resp.text
    reader = PdfReader(io.BytesIO(resp.content))
    assert sum(len(page.images) for page in reader.pages) == 0
    text = pdf_text(resp.content)
    assert "PDX7" in text
    assert text.count("photo withheld") == 2
    assert world.log_rows() == []
