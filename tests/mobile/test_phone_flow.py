"""The phone app in a real (headless) Chromium against the real app on a live server.

1. an auditor signs in, opens an assigned visit, fills every item type, attaches a photo;
2. goes offline and submits: the submission is queued, visibly;
3. reloads while offline: the app shell comes from the service worker, the queue is still there;
4. goes online: the audit arrives exactly once, scored by the server as the scoring engine says.
And: a response lost after the server handled the submission; the retry makes no second audit;
a reviewer returns an audit, and the auditor corrects it offline (previous answers, the
counter that served them) and resubmits it through the outbox.
Screenshots go to tests/artifacts/mobile/.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from audit_service.models import Role
from tests import factories as f
from tests.mobile.browser import PHONE, artifact, clean_artifacts, small_jpeg

try:
    from playwright.sync_api import expect

    expect.set_options(timeout=15000)
except ImportError:  # the `chromium` fixture says what is missing (fails in CI, skips elsewhere)
    expect = None  # type: ignore[assignment]

# One worker runs all browser tests (scripts/test.sh uses --dist loadgroup): two Chromiums at
# once on a small CI machine only make each slower.
pytestmark = pytest.mark.xdist_group("mobile-browser")

LOCATION = {"latitude": 31.2304, "longitude": 121.4737, "accuracy": 25}


def _t(zh: str, en: str) -> dict[str, str]:
    return {"zh": zh, "en": en}


# Every item type of docs/audits-api.md, with show_if, N/A, roles, a critical item.
DEFINITION: dict[str, Any] = {
    "name": _t("网点柜面暗访", "Outlet counter visit (mystery shopper)"),
    "description": _t("手机端测试", "Phone app test"),
    "critical_rule": "fail",
    "critical_cap": 60,
    "pass_score": 80,
    "action_below": 0.5,
    "action_due_days": 7,
    "sections": [
        {
            "name": "reception",
            "label": _t("接待", "Reception"),
            "weight": 1,
            "items": [
                {
                    "name": "greeted",
                    "type": "yes_no",
                    "label": _t("是否主动问候", "Greeted on arrival"),
                    "help": _t("进门 10 秒内", "Within 10 s of entering"),
                    "required": True,
                    "weight": 2,
                    "role": "lobby_manager",
                    "standard": "SV-RECEPTION-01",
                },
                {
                    "name": "greet_style",
                    "type": "single_choice",
                    "label": _t("问候方式", "Greeting style"),
                    "required": True,
                    "choices": [
                        {"name": "warm", "label": _t("热情", "Warm"), "points": 2},
                        {"name": "neutral", "label": _t("一般", "Neutral"), "points": 1},
                        {"name": "cold", "label": _t("冷淡", "Cold"), "points": 0},
                    ],
                    "show_if": {"item": "greeted", "equals": True},
                },
                {
                    "name": "why_not",
                    "type": "text",
                    "label": _t("未问候的情况", "What happened instead"),
                    "required": True,
                    "show_if": {"item": "greeted", "equals": False},
                },
                {
                    "name": "wait",
                    "type": "duration",
                    "label": _t("等候时间", "Time waited"),
                    "required": True,
                    "max_s": 3600,
                    "target_s": 300,
                },
                {
                    "name": "arrival",
                    "type": "time_of_day",
                    "label": _t("到达时间", "Arrival time"),
                    "required": True,
                },
            ],
        },
        {
            "name": "counter",
            "label": _t("柜面服务", "At the counter"),
            "weight": 2,
            "items": [
                {
                    "name": "courtesy",
                    "type": "scale",
                    "label": _t("礼貌程度", "Courtesy"),
                    "required": True,
                    "scale_min": 1,
                    "scale_max": 5,
                    "role": "counter_clerk",
                },
                {
                    "name": "explained",
                    "type": "multi_choice",
                    "label": _t("讲解了哪些内容", "What was explained"),
                    "required": True,
                    "choices": [
                        {"name": "fees", "label": _t("费用", "Fees"), "points": 1},
                        {"name": "risks", "label": _t("风险", "Risks"), "points": 2},
                        {"name": "cooling_off", "label": _t("冷静期", "Cooling-off"), "points": 1},
                    ],
                },
                {
                    "name": "queue_len",
                    "type": "number",
                    "label": _t("排队人数", "People in the queue"),
                    "required": True,
                    "min": 0,
                    "max": 100,
                    "pass_min": 0,
                    "pass_max": 5,
                },
                {
                    "name": "exemptions",
                    "type": "yes_no",
                    "label": _t("是否告知免责条款", "Exemptions explained"),
                    "required": True,
                    "critical": True,
                    "role": "counter_clerk",
                    "standard": "SV-COUNTER-07",
                },
                {
                    "name": "vip_help",
                    "type": "yes_no",
                    "label": _t("协助贵宾客户", "Helped a VIP customer"),
                    "required": True,
                    "allow_na": True,
                },
            ],
        },
        {
            "name": "environment",
            "label": _t("环境", "Environment"),
            "weight": 1,
            "items": [
                {
                    "name": "docs_photo",
                    "type": "photo",
                    "label": _t("宣传资料照片", "Photo of the leaflet rack"),
                    "required": True,
                    "min_photos": 1,
                    "max_photos": 3,
                },
                {
                    "name": "notes",
                    "type": "text",
                    "label": _t("其他备注", "Other notes"),
                    "required": False,
                    "max_length": 500,
                },
            ],
        },
    ],
}

# What the test fills in (and so what the server must have stored).
EXPECTED_ANSWERS: dict[str, dict[str, Any]] = {
    "greeted": {"value": True, "badge": "SH-0107"},
    "greet_style": {"value": "warm"},
    "wait": {"value": 135},
    "arrival": {"value": "10:05"},
    "courtesy": {"value": 4},
    "explained": {"value": ["fees", "risks"]},
    "queue_len": {"value": 3},
    "exemptions": {"value": True, "comment": "mentioned at once", "badge": "C-2231"},
    "vip_help": {"na": True},
    "notes": {"value": "Clean and quiet."},
}


# ---------------------------------------------------------------- the world, through the API


def _api(base: str, token: str | None = None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=base + "/api/v1", headers=headers, timeout=30)


def _token(base: str, username: str) -> str:
    with _api(base) as c:
        resp = c.post("/auth/token", data={"username": username, "password": f.PASSWORD})
        assert resp.status_code == 200, resp.text
        return resp.json()["access_token"]


def build_world(app: Any, base: str, visits: int = 1) -> dict[str, Any]:
    """An outlet, an admin, an auditor scoped to the outlet; a published checklist; visits."""
    session = app.state.sessionmaker()
    try:
        region = f.region(session)
        outlet = f.outlet(session, region, "SH01")
        f.user(session, "boss", Role.admin)
        auditor = f.user(session, "shopper", Role.auditor, outlets=[outlet])
        session.commit()
        ids = {"outlet_id": outlet.id, "auditor_id": auditor.id}
    finally:
        session.close()
    admin = _token(base, "boss")
    with _api(base, admin) as c:
        resp = c.post(
            "/checklists",
            json={"code": "counter-visit", "definition": DEFINITION},
        )
        assert resp.status_code == 201, resp.text
        template = resp.json()
        version_id = _first_version_id(template)
        resp = c.post(f"/checklist-versions/{version_id}/publish")
        assert resp.status_code == 200, resp.text
        now = datetime.now(UTC)
        visit_ids = []
        for n in range(visits):
            resp = c.post(
                "/visits",
                json={
                    "outlet_id": ids["outlet_id"],
                    "version_id": version_id,
                    "auditor_id": ids["auditor_id"],
                    "window_start": (now - timedelta(hours=1) + timedelta(minutes=n)).isoformat(),
                    "window_end": (now + timedelta(hours=3)).isoformat(),
                    "notes": "phone app test",
                },
            )
            assert resp.status_code == 201, resp.text
            visit_ids.append(resp.json()["id"])
    return {**ids, "admin_token": admin, "version_id": version_id, "visit_ids": visit_ids}


def _first_version_id(template: dict[str, Any]) -> int:
    if "versions" in template and template["versions"]:
        return int(template["versions"][0]["id"])
    for key in ("version_id", "latest_version_id"):
        if key in template:
            return int(template[key])
    if "version" in template:
        return int(template["version"]["id"])
    raise AssertionError(f"no version id in the POST /checklists response: {template}")


def audits_for(base: str, token: str) -> list[dict[str, Any]]:
    with _api(base, token) as c:
        resp = c.get("/audits")
        assert resp.status_code == 200, resp.text
        body = resp.json()
        return body if isinstance(body, list) else body["items"]


def audit(base: str, token: str, audit_id: int) -> dict[str, Any]:
    with _api(base, token) as c:
        resp = c.get(f"/audits/{audit_id}")
        assert resp.status_code == 200, resp.text
        return resp.json()


# ---------------------------------------------------------------- driving the phone


def new_phone(browser: Any, **kw: Any) -> Any:
    context = browser.new_context(
        **PHONE,
        locale="en-US",
        timezone_id="Asia/Shanghai",
        geolocation=LOCATION,
        permissions=["geolocation"],
        **kw,
    )
    context.set_default_timeout(15000)
    return context


def sign_in(page: Any, base: str, username: str = "shopper") -> None:
    page.goto(base + "/m/")
    page.locator("#username").fill(username)
    page.locator("#password").fill(f.PASSWORD)
    page.locator("#login-btn").click()
    page.locator("#visit-list").wait_for()


def wait_for_service_worker(page: Any) -> None:
    page.wait_for_function(
        "() => navigator.serviceWorker && navigator.serviceWorker.controller !== null",
        timeout=20000,
    )


def item(page: Any, name: str) -> Any:
    return page.locator(f'[data-item="{name}"]')


def choose(page: Any, name: str, label: str) -> None:
    item(page, name).locator("label.choice").filter(
        has_text=re.compile(rf"^\s*{re.escape(label)}\s*$")
    ).click()


def wait_until_sent(page: Any, visit_id: int, timeout: float = 30000) -> None:
    """The visit's card says the phone sent it (the server answered 201 or replayed it)."""
    card = page.locator(f'[data-visit="{visit_id}"]')
    card.locator(".chip-sent").wait_for(timeout=timeout)
    expect(page.locator("#queue-status")).to_have_attribute("data-pending", "0")


def no_horizontal_scroll(page: Any) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def fill_visit(page: Any, photo: Path, shots: str | None = None) -> None:
    """Fill every item of DEFINITION as EXPECTED_ANSWERS says (the visit form is open)."""

    def shot(name: str) -> None:
        if shots:
            page.screenshot(path=artifact(f"{shots}-{name}.png"), full_page=True)

    progress = page.locator("#progress-text")
    # Section 1: show_if both ways, the stopwatch, a badge, a time of day.
    expect(page.locator("#section-of")).to_have_text("Section 1 of 3")
    expect(item(page, "greet_style")).to_be_hidden()
    expect(item(page, "why_not")).to_be_hidden()
    choose(page, "greeted", "No")
    expect(item(page, "why_not")).to_be_visible()
    expect(item(page, "greet_style")).to_be_hidden()
    item(page, "why_not").locator("textarea").first.fill("Nobody looked up.")
    choose(page, "greeted", "Yes")  # hides and clears why_not
    expect(item(page, "why_not")).to_be_hidden()
    expect(item(page, "greet_style")).to_be_visible()
    item(page, "greeted").locator(".input-badge").fill("SH-0107")
    choose(page, "greet_style", "Warm")
    wait = item(page, "wait")
    wait.locator(".sw-start").click()
    page.wait_for_timeout(1300)
    wait.locator(".sw-stop").click()
    assert re.fullmatch(r"0:0[1-3]", wait.locator(".input-duration").input_value())
    wait.locator(".input-duration").fill("2:15")
    wait.locator(".input-duration").blur()
    item(page, "arrival").locator("input[type=time]").fill("10:05")
    expect(progress).to_have_attribute("data-answered", "4")
    shot("1-section-reception")
    page.locator("#next-btn").click()

    # Section 2: scale, multi choice, number (range check), critical yes/no, N/A.
    expect(page.locator("#section-of")).to_have_text("Section 2 of 3")
    choose(page, "courtesy", "4")
    choose(page, "explained", "Fees")
    choose(page, "explained", "Risks")
    number = item(page, "queue_len").locator("input")
    number.fill("300")
    number.blur()
    expect(item(page, "queue_len").locator(".err")).to_contain_text("at most 100")
    number.fill("3")
    number.blur()
    expect(item(page, "queue_len").locator(".err")).to_have_text("")
    choose(page, "exemptions", "Yes")
    item(page, "exemptions").locator(".input-badge").fill("C-2231")
    item(page, "exemptions").locator("summary").click()
    item(page, "exemptions").locator(".comment-input").fill("mentioned at once")
    item(page, "vip_help").locator("label.na-toggle").click()
    expect(item(page, "vip_help").locator("input[type=radio]").first).to_be_disabled()
    shot("2-section-counter")
    page.locator("#next-btn").click()

    # Section 3: try to submit without the required photo first.
    expect(page.locator("#section-of")).to_have_text("Section 3 of 3")
    item(page, "notes").locator("textarea").first.fill("Clean and quiet.")
    page.locator("#next-btn").click()  # "Finish": the review page
    page.locator("#submit-btn").click()
    expect(page.locator("#submit-msg")).to_contain_text("Fix the marked items")
    expect(page.locator("#missing li")).to_have_count(1)
    page.locator('#missing li[data-item="docs_photo"] a').click()
    expect(page.locator("#section-of")).to_have_text("Section 3 of 3")
    expect(item(page, "docs_photo").locator(".err")).to_contain_text("at least 1 photo")
    item(page, "docs_photo").locator("input[type=file]").set_input_files(str(photo))
    item(page, "docs_photo").locator(".thumb img[src^='blob:']").wait_for()
    expect(item(page, "docs_photo").locator(".err")).to_have_text("")
    expect(progress).to_have_attribute("data-answered", progress.get_attribute("data-required"))
    shot("3-section-environment")
    page.locator("#next-btn").click()
    expect(page.locator("#missing")).to_contain_text("All required items are answered")


def consent_to_location(page: Any) -> None:
    page.locator("label[for=location-consent]").click()
    status = "document.querySelector('#location-status').textContent"
    page.wait_for_function(f"() => {status}.includes('Location recorded')")


def stored_photo_is_downscaled(page: Any) -> dict[str, Any]:
    return page.evaluate(
        """() => new Promise((resolve, reject) => {
            const req = indexedDB.open("auditlens-m");
            req.onsuccess = () => {
              const all = req.result.transaction("photos").objectStore("photos").getAll();
              all.onsuccess = () => resolve(all.result.map((p) => ({
                type: p.blob.type, size: p.blob.size, width: p.width, height: p.height})));
              all.onerror = () => reject(all.error);
            };
            req.onerror = () => reject(req.error);
        })"""
    )


def stored_answers(audit_body: dict[str, Any]) -> dict[str, Any]:
    """{item: answer} from an AuditRead (answers live in its ``items``)."""
    return {row["item"]: row["answer"] for row in audit_body["items"] if row["answer"]}


def check_answers(stored: dict[str, Any]) -> None:
    for name, expected in EXPECTED_ANSWERS.items():
        got = stored[name]
        for key, value in expected.items():
            assert got.get(key) == value, (name, key, got)
    assert "why_not" not in stored or not stored["why_not"].get("value"), "hidden: cleared"
    assert len(stored["docs_photo"]["photos"]) == 1


def expected_score(definition: dict[str, Any], answers: dict[str, Any]) -> Any:
    """What the scoring engine makes of these answers (validated and normalised first)."""
    from audit_service.checklists.definition import ChecklistDefinition
    from audit_service.checklists.scoring import score_audit
    from audit_service.checklists.validation import validate_answers

    defn = ChecklistDefinition.model_validate(definition)
    normalised, problems = validate_answers(defn, answers)
    assert problems == []
    return score_audit(defn, normalised)


# ---------------------------------------------------------------- the tests


@pytest.mark.slow
def test_offline_submission_is_queued_survives_reload_and_arrives_once(
    chromium, live_app, live_server, tmp_path
):
    clean_artifacts("flow-")
    base = live_server.url
    world = build_world(live_app, base, visits=2)
    photo = tmp_path / "rack.jpg"
    photo.write_bytes(small_jpeg(2400, 1800))  # larger than 1600 px: the phone downscales it

    context = new_phone(chromium)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    # The page's CSP allows nothing from elsewhere; a violation would show up here.
    page.on(
        "console",
        lambda m: errors.append(m.text) if "Content Security Policy" in m.text else None,
    )
    try:
        # 1. sign in, open the visit, fill in everything
        sign_in(page, base)
        wait_for_service_worker(page)
        page.screenshot(path=artifact("flow-0-visits.png"), full_page=True)
        page.locator(f'[data-visit="{world["visit_ids"][0]}"] a').click()
        fill_visit(page, photo, shots="flow")
        consent_to_location(page)
        [stored] = stored_photo_is_downscaled(page)
        assert stored["type"] == "image/jpeg" and max(stored["width"], stored["height"]) == 1600
        estimate = page.locator(".estimate-value").inner_text()
        page.screenshot(path=artifact("flow-4-review.png"), full_page=True)

        # 2. offline: submit, and it is queued, visibly
        context.set_offline(True)
        page.locator("#submit-btn").click()
        status = page.locator("#queue-status")
        status.wait_for()
        expect(status).to_contain_text("1 submission waiting for connection")
        card = page.locator(f'[data-visit="{world["visit_ids"][0]}"]')
        expect(card).to_contain_text("Queued")
        page.screenshot(path=artifact("flow-5-queued-offline.png"), full_page=True)
        assert audits_for(base, world["admin_token"]) == []

        # 3. reload while offline: the shell comes from the service worker, the queue stays
        page.reload()
        page.wait_for_function("() => document.documentElement.dataset.app === 'ready'")
        assert page.evaluate("navigator.serviceWorker.controller !== null")
        expect(status).to_contain_text("1 submission waiting for connection")
        expect(page.locator("#offline-note")).to_be_visible()
        page.screenshot(path=artifact("flow-6-reloaded-offline.png"), full_page=True)
        # 360 px wide (a small phone), in Chinese: readable, no horizontal scroll. The other
        # visit opens offline too (its checklist is in IndexedDB).
        page.set_viewport_size({"width": 360, "height": 740})
        assert no_horizontal_scroll(page)
        page.locator("#lang-btn").click()
        expect(status).to_contain_text("份提交已排队")
        assert no_horizontal_scroll(page)
        page.screenshot(path=artifact("flow-7-360px-zh-visits.png"), full_page=True)
        page.locator(f'[data-visit="{world["visit_ids"][1]}"] a').click()
        expect(page.locator("#section-of")).to_have_text("第 1 部分，共 3 部分")
        expect(item(page, "greeted")).to_be_visible()
        item(page, "wait").locator(".sw-start").click()  # a running stopwatch, for the picture
        assert no_horizontal_scroll(page)
        page.screenshot(path=artifact("flow-7-360px-zh-section-1.png"), full_page=True)
        page.locator("#next-btn").click()
        expect(page.locator("#section-of")).to_have_text("第 2 部分，共 3 部分")
        assert no_horizontal_scroll(page)
        page.screenshot(path=artifact("flow-7-360px-zh-section-2.png"), full_page=True)
        page.locator(".back").click()
        page.locator("#visit-list").wait_for()
        page.locator("#lang-btn").click()
        expect(status).to_contain_text("1 submission waiting for connection")
        page.set_viewport_size(PHONE["viewport"])

        # 4. online again: sent once, scored by the server
        context.set_offline(False)
        wait_until_sent(page, world["visit_ids"][0])
        page.screenshot(path=artifact("flow-8-sent.png"), full_page=True)
        audits = audits_for(base, world["admin_token"])
        assert len(audits) == 1
        full = audit(base, world["admin_token"], audits[0]["id"])
        answers = stored_answers(full)
        check_answers(answers)
        assert full["location"] == {"lat": 31.2304, "lon": 121.4737, "accuracy_m": 25.0}
        expected = expected_score(DEFINITION, answers)
        assert expected.score is not None and expected.score > 0
        assert full["score"] == pytest.approx(expected.score)
        assert full["passed"] == expected.passed
        assert estimate == f"≈ {expected.score:g}"  # the phone's estimate agreed
        assert errors == []
    finally:
        context.close()


@pytest.mark.slow
def test_a_lost_response_is_retried_with_the_same_key_and_makes_one_audit(
    chromium, live_app, live_server, tmp_path
):
    clean_artifacts("retry-")
    base = live_server.url
    world = build_world(live_app, base)
    photo = tmp_path / "rack.jpg"
    photo.write_bytes(small_jpeg())
    context = new_phone(chromium)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    posts: list[dict[str, Any]] = []

    def drop_first_response(route: Any) -> None:
        request = route.request
        posts.append(
            {"key": request.headers.get("idempotency-key"), "body": request.post_data_json}
        )
        if len(posts) == 1:
            response = route.fetch()  # the server handles it ...
            posts[-1]["status"] = response.status
            route.abort("connectionreset")  # ... and the phone never hears back
        else:
            route.continue_()

    try:
        sign_in(page, base)
        page.route("**/api/v1/visits/*/audit", drop_first_response)
        page.locator(f'[data-visit="{world["visit_ids"][0]}"] a').click()
        fill_visit(page, photo)
        page.locator("#submit-btn").click()
        wait_until_sent(page, world["visit_ids"][0], timeout=60000)
        page.screenshot(path=artifact("retry-done.png"), full_page=True)
        assert len(posts) == 2, posts
        assert posts[0]["status"] == 201
        assert posts[0]["key"] == posts[1]["key"]
        assert posts[0]["body"] == posts[1]["body"]
        audits = audits_for(base, world["admin_token"])
        assert len(audits) == 1
        text = page.locator(f'[data-visit="{world["visit_ids"][0]}"]').inner_text()
        assert "Sent" in text or "Submitted" in text
        assert errors == []
    finally:
        context.close()


@pytest.mark.slow
def test_a_dead_session_and_a_server_rejection_lose_no_work(
    chromium, live_app, live_server, tmp_path
):
    """The session dies while a submission is queued: sign-in again, nothing lost. The server
    then rejects the answers (422): the submission is a draft again, the error is shown next to
    its item, and after the fix it goes through once, without uploading the photo again."""
    clean_artifacts("rejected-")
    base = live_server.url
    world = build_world(live_app, base, visits=2)
    photo = tmp_path / "rack.jpg"
    photo.write_bytes(small_jpeg())
    context = new_phone(chromium)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    posts: list[int] = []

    def tamper_first_submission(route: Any) -> None:
        posts.append(1)
        if len(posts) > 1:
            route.continue_()
            return
        body = route.request.post_data_json
        body["answers"]["queue_len"]["value"] = 300  # outside the item's 0-100
        route.continue_(post_data=json.dumps(body))

    try:
        sign_in(page, base)
        # A half-filled draft of the second visit, which must survive all of this.
        page.locator(f'[data-visit="{world["visit_ids"][1]}"] a').click()
        choose(page, "greeted", "No")
        item(page, "why_not").locator("textarea").first.fill("Nobody looked up.")
        page.locator(".back").click()
        page.locator(f'[data-visit="{world["visit_ids"][0]}"] a').click()
        fill_visit(page, photo)
        context.set_offline(True)
        page.locator("#submit-btn").click()
        page.locator("#queue-status").wait_for()

        # Both tokens stop working (as after a password reset elsewhere).
        page.evaluate(
            """() => localStorage.setItem("al.tokens", JSON.stringify(
                {access_token: "revoked", refresh_token: "revoked", expires_at: 0}))"""
        )
        page.route("**/api/v1/visits/*/audit", tamper_first_submission)
        context.set_offline(False)
        page.locator("#login-note").wait_for()
        expect(page.locator("#login-note")).to_contain_text("queued submissions are kept")
        expect(page.locator("#queue-status")).to_contain_text("Sign in to send 1 queued submission")
        page.screenshot(path=artifact("rejected-1-sign-in-again.png"), full_page=True)

        page.locator("#username").fill("shopper")
        page.locator("#password").fill(f.PASSWORD)
        page.locator("#login-btn").click()
        card = page.locator(f'[data-visit="{world["visit_ids"][0]}"]')
        card.filter(has_text="Draft on this phone").wait_for(timeout=30000)
        assert posts == [1]
        assert audits_for(base, world["admin_token"]) == []

        card.locator("a").click()
        page.locator("#server-errors").wait_for()  # opens where the first complaint is
        error = item(page, "queue_len").locator(".err")
        expect(error).to_contain_text("got 300")
        page.screenshot(path=artifact("rejected-2-server-error-shown.png"), full_page=True)
        number = item(page, "queue_len").locator("input")
        number.fill("4")
        number.blur()
        expect(error).to_have_text("")
        page.goto(page.url.split("#")[0] + f"#/visit/{world['visit_ids'][0]}/review")
        page.locator("#submit-btn").click()
        wait_until_sent(page, world["visit_ids"][0])
        [summary] = audits_for(base, world["admin_token"])
        answers = stored_answers(audit(base, world["admin_token"], summary["id"]))
        assert answers["queue_len"]["value"] == 4
        with _api(base, world["admin_token"]) as c:
            assert c.get("/evidence").json()["total"] == 1  # uploaded once

        # The other visit's draft is intact.
        page.locator(f'[data-visit="{world["visit_ids"][1]}"] a').click()
        expect(item(page, "why_not").locator("textarea").first).to_have_value("Nobody looked up.")
        page.screenshot(path=artifact("rejected-3-other-draft-intact.png"), full_page=True)
        assert errors == []
    finally:
        context.close()


def add_counters_and_supervisor(app: Any, outlet_id: int) -> dict[str, int]:
    """Counters C1 and C2, each with a clerk on shift now, and a supervisor of the outlet."""
    from audit_service.models import Outlet
    from audit_service.models.organisation import CounterKind
    from audit_service.models.staff import Shift, ShiftRole

    session = app.state.sessionmaker()
    try:
        outlet = session.get(Outlet, outlet_id)
        start = datetime.now(UTC) - timedelta(hours=4)
        ids: dict[str, int] = {}
        for code, employee_no, kind in (
            ("C1", "E101", CounterKind.issuance),
            ("C2", "E102", CounterKind.claims),
        ):
            counter = f.counter(session, outlet, code, kind=kind)
            clerk = f.staff(session, outlet, employee_no)
            session.add(
                Shift(
                    staff_id=clerk.id,
                    outlet_id=outlet.id,
                    counter_id=counter.id,
                    role=ShiftRole.counter,
                    starts_at=start,
                    ends_at=start + timedelta(hours=10),
                )
            )
            ids[code] = counter.id
            ids[f"{code}_clerk"] = clerk.id
        f.user(session, "super", Role.supervisor, outlets=[outlet])
        session.commit()
        return ids
    finally:
        session.close()


def stored_breakdown(app: Any, audit_id: int) -> dict[str, Any]:
    from audit_service.models import Audit

    session = app.state.sessionmaker()
    try:
        return dict(session.get(Audit, audit_id).breakdown)
    finally:
        session.close()


@pytest.mark.slow
def test_a_returned_audit_is_corrected_offline_and_resubmitted_once(
    chromium, live_app, live_server, tmp_path
):
    """A reviewer returns an audit with a comment. The phone shows it first, with the comment;
    opened offline it holds the previous answers (the photo kept by evidence id); the auditor
    changes one answer, says which counter served them, adds a photo and resubmits: queued while
    offline, sent once online with a new key. One audit, submitted again, as corrected."""
    clean_artifacts("returned-")
    base = live_server.url
    world = build_world(live_app, base, visits=2)
    visit_id = world["visit_ids"][1]  # the later window: only being returned puts it first
    counters = add_counters_and_supervisor(live_app, world["outlet_id"])
    photo = tmp_path / "rack.jpg"
    photo.write_bytes(small_jpeg())
    photo2 = tmp_path / "rack-2.jpg"
    photo2.write_bytes(small_jpeg(800, 600))
    comment = "Count the queue again: it was longer. 请重新核对排队人数。"

    context = new_phone(chromium)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    sends: list[dict[str, Any]] = []
    sending = re.compile(r"/api/v1/(visits/\d+/audit|audits/\d+/resubmit)$")

    def on_response(response: Any) -> None:
        request = response.request
        if request.method == "POST" and sending.search(request.url):
            sends.append(
                {
                    "path": sending.search(request.url).group(1),
                    "key": request.headers.get("idempotency-key"),
                    "status": response.status,
                }
            )

    page.on("response", on_response)
    try:
        # 1. the first submission, online
        sign_in(page, base)
        page.locator(f'[data-visit="{visit_id}"] a').click()
        fill_visit(page, photo)
        page.locator("#submit-btn").click()
        wait_until_sent(page, visit_id)
        [summary] = audits_for(base, world["admin_token"])
        audit_id = summary["id"]
        first = audit(base, world["admin_token"], audit_id)
        [original_photo] = stored_answers(first)["docs_photo"]["photos"]
        courtesy = next(row for row in first["items"] if row["item"] == "courtesy")
        assert courtesy["staff"] is None  # two clerks on shift: no counter, no attribution

        # 2. a supervisor returns it
        with _api(base, _token(base, "super")) as c:
            resp = c.post(
                f"/audits/{audit_id}/review", json={"action": "return", "comment": comment}
            )
            assert resp.status_code == 200, resp.text
            assert resp.json()["status"] == "returned"

        # 3. the phone shows it first, prominently, with the reviewer's comment
        page.locator("#refresh-btn").click()
        card = page.locator(f'[data-visit="{visit_id}"][data-returned="1"]')
        card.wait_for()
        expect(card.locator(".returned-title")).to_have_text("Returned for correction")
        expect(card.locator(".returned-comment")).to_contain_text(comment)
        expect(card).to_contain_text("Returned by super")
        expect(page.locator(".visit-card").first).to_have_attribute("data-visit", str(visit_id))
        page.screenshot(path=artifact("returned-1-visits.png"), full_page=True)
        page.set_viewport_size({"width": 360, "height": 740})
        page.locator("#lang-btn").click()
        expect(card.locator(".returned-title")).to_have_text("已退回修改")
        assert no_horizontal_scroll(page)
        page.screenshot(path=artifact("returned-2-360px-zh-visits.png"), full_page=True)
        page.locator("#lang-btn").click()
        expect(card.locator(".returned-title")).to_have_text("Returned for correction")

        # 4. offline from here: the returned audit and the counters are on the phone
        context.set_offline(True)
        card.locator("a").click()
        expect(page.locator("#section-of")).to_have_text("Section 1 of 3")
        expect(page.locator("#returned-note")).to_contain_text(comment)
        expect(item(page, "greeted").locator("input[value=true]")).to_be_checked()
        expect(item(page, "greeted").locator(".input-badge")).to_have_value("SH-0107")
        expect(item(page, "greet_style").locator("input[value=warm]")).to_be_checked()
        expect(item(page, "wait").locator(".input-duration")).to_have_value("2:15")
        expect(item(page, "arrival").locator("input[type=time]")).to_have_value("10:05")
        select = page.locator("#counter-select")
        expect(page.locator("#counter-field label")).to_have_text("Which counter served you?")
        expect(select.locator("option")).to_have_count(3)  # not specified, C1, C2
        select.select_option(str(counters["C2"]))
        assert no_horizontal_scroll(page)
        page.screenshot(path=artifact("returned-3-360px-section-1-counter.png"), full_page=True)
        page.set_viewport_size(PHONE["viewport"])
        page.locator("#next-btn").click()

        expect(page.locator("#section-of")).to_have_text("Section 2 of 3")
        expect(item(page, "courtesy").locator("input[value='4']")).to_be_checked()
        expect(item(page, "explained").locator("input[value=risks]")).to_be_checked()
        expect(item(page, "exemptions").locator(".comment-input")).to_have_value(
            "mentioned at once"
        )
        expect(item(page, "vip_help").locator("input.na")).to_be_checked()
        number = item(page, "queue_len").locator("input")
        expect(number).to_have_value("3")
        number.fill("8")  # the correction
        number.blur()
        page.locator("#next-btn").click()

        expect(page.locator("#section-of")).to_have_text("Section 3 of 3")
        photos = item(page, "docs_photo")
        expect(photos.locator(".thumb-remote")).to_have_count(1)
        expect(photos.locator(".thumb-remote")).to_contain_text("Already uploaded")
        photos.locator("input[type=file]").set_input_files(str(photo2))
        photos.locator(".thumb img[src^='blob:']").wait_for()
        expect(item(page, "notes").locator("textarea").first).to_have_value("Clean and quiet.")
        page.screenshot(path=artifact("returned-4-section-3-photos.png"), full_page=True)
        page.locator("#next-btn").click()
        expect(page.locator("#missing")).to_contain_text("All required items are answered")
        expect(page.locator("#submit-btn")).to_have_text("Resubmit")
        page.locator("#submit-btn").click()

        status = page.locator("#queue-status")
        expect(status).to_contain_text("1 submission waiting for connection")
        queued = page.locator(f'[data-visit="{visit_id}"]')
        expect(queued).to_contain_text("Queued")
        expect(queued.locator(".returned-note")).to_have_count(0)
        page.screenshot(path=artifact("returned-5-queued-offline.png"), full_page=True)
        assert audit(base, world["admin_token"], audit_id)["status"] == "returned"

        # 5. online: sent once, through the resubmit route, with a new key
        context.set_offline(False)
        wait_until_sent(page, visit_id)
        page.screenshot(path=artifact("returned-6-sent.png"), full_page=True)
        assert [s["path"] for s in sends] == [
            f"visits/{visit_id}/audit",
            f"audits/{audit_id}/resubmit",
        ], sends
        assert [s["status"] for s in sends] == [201, 200]
        assert sends[0]["key"] != sends[1]["key"]
        assert re.fullmatch(
            r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}", sends[1]["key"]
        )

        [again] = audits_for(base, world["admin_token"])
        assert again["id"] == audit_id
        full = audit(base, world["admin_token"], audit_id)
        assert full["status"] == "submitted"
        answers = stored_answers(full)
        assert answers["queue_len"]["value"] == 8
        expected = dict(EXPECTED_ANSWERS, queue_len={"value": 8})
        for name, want in expected.items():
            for key, value in want.items():
                assert answers[name].get(key) == value, (name, key, answers[name])
        assert answers["docs_photo"]["photos"][0] == original_photo
        assert len(answers["docs_photo"]["photos"]) == 2
        with _api(base, world["admin_token"]) as c:
            assert c.get("/evidence").json()["total"] == 2  # the kept photo was not re-sent
        kinds = [(e["kind"], e["to_status"]) for e in full["history"]]
        assert kinds[-2:] == [("status", "returned"), ("resubmitted", "submitted")], kinds
        assert full["history"][-2]["comment"] == comment
        assert full["started_at"] == first["started_at"]  # the visit's own time is kept
        # The chosen counter is stored and attributes the counter items to its clerk.
        assert stored_breakdown(live_app, audit_id)["counter_id"] == counters["C2"]
        courtesy = next(row for row in full["items"] if row["item"] == "courtesy")
        assert courtesy["staff"]["id"] == counters["C2_clerk"]
        assert courtesy["attribution"] == "roster"
        assert errors == []
    finally:
        context.close()


def test_a_returned_audit_becomes_a_draft_of_its_previous_answers(chromium, live_server):
    """returned.js: the last return's comment, answers, N/A, photos kept by evidence id."""
    evidence = "2f1c0d52-0d1a-4c2e-9d55-0a4f1c1c2b11"
    audit_read = {
        "id": 7,
        "visit_id": 3,
        "version_id": 5,
        "status": "returned",
        "started_at": "2026-11-22T02:10:00Z",
        "ended_at": "2026-11-22T02:31:00Z",
        "location": {"lat": 31.2, "lon": 121.4, "accuracy_m": 25},
        "items": [
            {
                "item": "greeted",
                "type": "yes_no",
                "hidden": False,
                "answer": {"value": True, "badge": "SH-0107", "photos": []},
            },
            {"item": "why_not", "type": "text", "hidden": True, "answer": None},
            {
                "item": "vip_help",
                "type": "yes_no",
                "hidden": False,
                "answer": {"value": None, "na": True},
            },
            {
                "item": "docs_photo",
                "type": "photo",
                "hidden": False,
                "answer": {"value": None, "na": False, "photos": [evidence], "comment": "rack"},
            },
            {"item": "notes", "type": "text", "hidden": False, "answer": None},
        ],
        "history": [
            {
                "kind": "submitted",
                "to_status": "submitted",
                "comment": "",
                "by": "shopper",
                "at": "2026-11-22T02:32:00Z",
            },
            {
                "kind": "status",
                "to_status": "returned",
                "comment": "first",
                "by": "sup",
                "at": "2026-11-22T03:00:00Z",
            },
            {
                "kind": "resubmitted",
                "to_status": "submitted",
                "comment": "",
                "by": "shopper",
                "at": "2026-11-22T04:00:00Z",
            },
            {
                "kind": "status",
                "to_status": "returned",
                "comment": "again",
                "by": "sup2",
                "at": "2026-11-22T05:00:00Z",
            },
        ],
    }
    page = chromium.new_page()
    try:
        page.goto(live_server.url + "/m/")
        draft = page.evaluate(
            """async (audit) => {
                const m = await import("./returned.js");
                const visit = {id: 3, version_id: 5};
                return m.returnedDraft(visit, m.compact(audit));
            }""",
            audit_read,
        )
    finally:
        page.close()
    assert draft["visit_id"] == 3 and draft["audit_id"] == 7
    assert draft["returned"] == {"comment": "again", "by": "sup2", "at": "2026-11-22T05:00:00Z"}
    assert draft["started_at"] == "2026-11-22T02:10:00Z"
    assert draft["ended_at"] == "2026-11-22T02:31:00Z"
    assert draft["location_consent"] is True
    assert draft["answers"] == {
        "greeted": {"value": True, "badge": "SH-0107"},
        "vip_help": {"na": True},
        "docs_photo": {"comment": "rack"},
    }
    assert draft["photos"] == {"docs_photo": [evidence]}
    assert draft["remote_photos"] == [evidence]


ESTIMATE_CASES: list[dict[str, Any]] = [
    {k: v for k, v in EXPECTED_ANSWERS.items()},
    {**EXPECTED_ANSWERS, "exemptions": {"value": False}},  # a failed critical item
    {**EXPECTED_ANSWERS, "greeted": {"value": False}, "why_not": {"value": "ignored"}},
    {**EXPECTED_ANSWERS, "courtesy": {"value": 1}, "explained": {"value": ["cooling_off"]}},
    {**EXPECTED_ANSWERS, "queue_len": {"value": 9}, "wait": {"value": 301}},
    {"vip_help": {"na": True}, "greet_style": {"value": "neutral"}},  # greeted unanswered
    {},
]


def test_the_phones_estimate_and_visibility_match_the_scoring_engine(chromium, live_server):
    """checklist.js (run in the browser) against audit_service.checklists.scoring."""
    from audit_service.checklists.answers import Answer
    from audit_service.checklists.definition import ChecklistDefinition
    from audit_service.checklists.scoring import score_audit

    page = chromium.new_page()
    try:
        page.goto(live_server.url + "/m/")
        for rule in ("fail", "cap"):
            defn = ChecklistDefinition.model_validate({**DEFINITION, "critical_rule": rule})
            as_served = defn.model_dump(mode="json", exclude_none=True)
            results = page.evaluate(
                """async ([def, cases]) => {
                    const m = await import("./checklist.js");
                    return cases.map((answers) => {
                      const draft = {answers: structuredClone(answers), photos: {}};
                      const est = m.estimateScore(def, draft);
                      const {visible} = m.applyVisibility(def, draft);
                      return {score: est.score, passed: est.passed, visible: [...visible]};
                    });
                }""",
                [as_served, ESTIMATE_CASES],
            )
            for answers, got in zip(ESTIMATE_CASES, results, strict=True):
                engine = score_audit(
                    defn,
                    {
                        k: Answer(value=v.get("value"), na=bool(v.get("na")))
                        for k, v in answers.items()
                    },
                )
                assert got["score"] == pytest.approx(engine.score), (rule, answers)
                assert got["passed"] == engine.passed, (rule, answers)
                hidden = {i.name for i in engine.items if i.hidden}
                assert set(got["visible"]) == {i.name for i in engine.items} - hidden, answers
    finally:
        page.close()
