"""Every dashboard page in AppTest against the real API (SQLite and PostgreSQL), seeded like
the demo: no exceptions, the expected content, the pages each role gets, both languages, and
the writes (review, verify, cross-check verdict, logged evidence views) reaching the API."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from streamlit.testing.v1 import AppTest

from dashboard.navigation import PAGES
from tests.dashboard.conftest import Session
from tests.dashboard.world import PASSWORDS, World

ALL_PAGES = [p.script for p in PAGES]
ROLE_PAGES = {
    "admin": [
        "overview",
        "outlet",
        "audits",
        "actions",
        "performance",
        "cross_check",
        "cameras",
    ],
    "supervisor": [
        "overview",
        "outlet",
        "audits",
        "actions",
        "performance",
        "cross_check",
        "cameras",
    ],
    "hr": ["audits", "actions", "performance", "cross_check"],
    "auditor": ["audits"],
    "staff": ["my_performance"],
}


def ok(at: AppTest) -> AppTest:
    """The run finished without an exception block or an error message."""
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    return at


def texts(at: AppTest) -> str:
    """Every text the page shows (titles, markdown, captions, messages, labels), joined."""
    parts: list[str] = []
    for kind in (
        "title",
        "header",
        "subheader",
        "markdown",
        "caption",
        "info",
        "warning",
        "success",
    ):
        parts += [str(e.value) for e in getattr(at, kind)]
    parts += [m.label for m in at.metric] + [str(m.value) for m in at.metric]
    parts += [w.label for w in at.selectbox] + [w.label for w in at.text_input]
    parts += [b.label for b in at.button]
    return "\n".join(parts)


def frames(at: AppTest) -> str:
    return "\n".join(d.value.to_string() for d in at.dataframe)


def open_page(at: AppTest, key: str) -> AppTest:
    return ok(at.switch_page(f"screens/{key}.py").run())


def registered(at: AppTest) -> list[str]:
    """The pages the account got: those AppTest can switch to."""
    keys = []
    for spec in PAGES:
        try:
            at.switch_page(spec.script)
        except ValueError:
            continue
        keys.append(spec.key)
    return keys


# ---------------------------------------------------------------- login, expiry, roles


def test_login_form_then_pages_of_the_role(session: Session) -> None:
    at = ok(session(None).run())
    assert "Log in" in texts(at)
    at.text_input(key="login_username").input("supervisor")
    at.text_input(key="login_password").input(PASSWORDS["supervisor"])
    ok(at.button[0].click().run())
    assert at.title[0].value == "Live overview"
    assert "auth" in at.session_state
    assert "Demo supervisor" in texts(at)
    assert registered(at) == ROLE_PAGES["supervisor"]


def test_wrong_password_says_so(session: Session) -> None:
    at = ok(session(None, lang="zh-CN").run())
    at.text_input(key="login_username").input("hr")
    at.text_input(key="login_password").input("not-the-password")
    at.button[0].click().run()
    assert not at.exception
    assert [e.value for e in at.error] == ["用户名或密码错误。"]
    assert "auth" not in at.session_state


def test_expired_login_returns_to_the_login_page_with_a_message(session: Session) -> None:
    at = session("supervisor")
    at.session_state["auth"] = {"access_token": "expired", "refresh_token": "also-expired-1"}
    ok(at.run())
    assert "auth" not in at.session_state
    assert at.title[0].value == "AuditLens"
    assert "Your session has expired. Please log in again." in [w.value for w in at.warning]
    assert at.text_input(key="login_username").value == ""


def test_an_expired_access_token_is_refreshed_silently(session: Session, world: World) -> None:
    fresh = _fresh_tokens(world, "hr")
    at = session("hr")
    at.session_state["auth"] = {"access_token": "expired", "refresh_token": fresh["refresh_token"]}
    ok(at.run())
    assert at.title[0].value == "Audits"
    assert at.session_state["auth"]["access_token"] not in ("expired", fresh["access_token"])


def test_logout_forgets_the_login_but_not_the_language(session: Session, world: World) -> None:
    fresh = _fresh_tokens(world, "auditor")
    at = session("auditor", lang="zh-CN")
    at.session_state["auth"] = {
        "access_token": fresh["access_token"],
        "refresh_token": fresh["refresh_token"],
    }
    ok(at.run())
    at.button(key="logout").click()
    ok(at.run())
    assert "auth" not in at.session_state
    assert at.session_state["lang"] == "zh-CN"
    assert at.title[0].value == "AuditLens 稽核看板"


@pytest.mark.parametrize("role", sorted(ROLE_PAGES))
def test_each_role_gets_its_pages(session: Session, role: str) -> None:
    at = ok(session(role).run())
    assert registered(at) == ROLE_PAGES[role]


def test_a_supervisor_cannot_open_pages_of_other_roles(session: Session) -> None:
    at = ok(session("supervisor").run())
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("screens/my_performance.py")
    staff = ok(session("staff").run())
    for page in ("screens/performance.py", "screens/overview.py", "screens/audits.py"):
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            staff.switch_page(page)


# ---------------------------------------------------------------- live overview


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_overview_worst_outlet_first(session: Session, world: World, lang: str) -> None:
    world.report_live()
    at = open_page(ok(session("supervisor", lang=lang).run()), "overview")
    table = at.dataframe[0].value
    assert list(table["outlet"])[0].startswith("sh-pudong")  # one counter unattended now
    assert len(table) == 3  # region sh only
    pudong = table.iloc[0]
    assert pudong["unattended"] == 1 and pudong["alerts"] == 2
    assert pudong["unattended_now"].startswith("C1 ")
    shown = texts(at)
    if lang == "en":
        assert "Live overview" in shown and "Counters unattended" in shown
        assert "min" in pudong["unattended_now"]
    else:
        assert "实时总览" in shown and "无人柜台" in shown
        assert "分钟" in pudong["unattended_now"]
    counters = at.dataframe[1].value
    assert counters.iloc[0]["counter"].startswith("C1")
    assert "unattended" in counters.iloc[0]["state"] or "无人值守" in counters.iloc[0]["state"]


def test_overview_search_and_open_outlet_detail(session: Session, world: World) -> None:
    world.report_live()
    at = open_page(ok(session("admin").run()), "overview")
    assert len(at.dataframe[0].value) == 6  # admin: every outlet
    at.text_input(key="overview_search").input("xuhui")
    ok(at.run())
    assert list(at.dataframe[0].value["outlet"]) == [
        o for o in at.dataframe[0].value["outlet"] if o.startswith("sh-xuhui")
    ]
    at.text_input(key="overview_search").input("")
    at.toggle(key="overview_problems").set_value(True)
    ok(at.run())
    assert all(s != "ok" for s in at.dataframe[0].value["status"])
    at.button(key="overview_go").click()
    ok(at.run())
    assert at.title[0].value == "Outlet detail"


# ---------------------------------------------------------------- outlet detail


def _outlet_day(session: Session, world: World, lang: str = "en") -> AppTest:
    at = open_page(ok(session("supervisor", lang=lang).run()), "outlet")
    at.selectbox(key="outlet_pick").select(world.outlets["sh-pudong"]["id"])
    at.date_input(key="outlet_day").set_value(world.facts["day"])
    return ok(at.run())


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_outlet_detail_timelines_events_audits(session: Session, world: World, lang: str) -> None:
    at = _outlet_day(session, world, lang)
    charts = at.get("vega_lite_chart")
    assert len(charts) >= 3  # queue length, wait, attendance
    events = at.dataframe[1].value
    assert len(events) >= 3
    assert events["snapshot"].any()
    summary = at.dataframe[0].value
    c1 = summary[summary["counter"].str.startswith("C1")].iloc[0]
    assert c1["spells"] == 1
    shown = texts(at)
    assert ("Opening hours" in shown) if lang == "en" else ("营业时间" in shown)
    assert "Asia/Shanghai" in shown
    assert "sh-pudong" in frames(at) or len(at.dataframe) >= 3  # latest audits table


def test_snapshot_opens_only_with_a_purpose_and_is_logged(session: Session, world: World) -> None:
    at = _outlet_day(session, world)
    assert not at.image
    key = next(w.key for w in at.text_input if w.key and w.key.endswith("_purpose"))
    at.text_input(key=key).input("hmm")
    _submit_button(at, "Open 1 item(s)").click()
    at.run()
    assert [e.value for e in at.error] == ["Say why in at least 5 characters."]
    assert not at.image

    purpose = "checking the unattended alert at C1"
    at.text_input(key=key).input(purpose)
    _submit_button(at, "Open 1 item(s)").click()
    ok(at.run())
    [url] = at.image[0].value  # the browser loads it straight from the API's signed URL
    assert url.startswith(f"{world.url}/api/v1/evidence/blobs/")
    assert httpx.get(url, timeout=30).headers["content-type"] == "image/jpeg"
    log = world.get("admin", "/evidence/access-log", evidence_id=world.facts["snapshot_id"])
    assert [(x["username"], x["purpose"]) for x in log["items"]] == [("supervisor", purpose)]


# ---------------------------------------------------------------- audits


def _submit_button(at: AppTest, label: str) -> Any:
    return next(b for b in at.button if b.label == label)


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_audits_filter_and_detail(session: Session, world: World, lang: str) -> None:
    at = open_page(ok(session("supervisor", lang=lang).run()), "audits")
    listed = at.dataframe[0].value
    assert len(listed) == 5  # region sh: three past audits, the spot-check, today's
    at.selectbox(key="audits_status").select("approved")
    ok(at.run())
    assert len(at.dataframe[0].value) == 3
    at.selectbox(key="audits_status").select(None)
    at.selectbox(key="audits_template").select("camera-spot-check")
    ok(at.run())
    assert len(at.dataframe[0].value) == 1
    at.selectbox(key="audits_template").select(None)
    ok(at.run())
    at.selectbox(key="audits_pick").select(world.facts["contradicted_audit"])
    ok(at.run())
    sections, items = at.dataframe[1].value, at.dataframe[2].value
    assert len(sections) == 4 and len(items) == 20
    assert sections["percent"].notna().all()
    comments = frames(at)
    assert "nobody at C2" in comments
    shown = texts(at)
    assert (
        ("Review" in shown or "Record the step" in shown) if lang == "en" else "提交审核" in shown
    )


def test_review_needs_a_comment_to_return_then_starts_review(
    session: Session, world: World
) -> None:
    audit_id = world.facts["contradicted_audit"]
    at = open_page(ok(session("supervisor").run()), "audits")
    at.selectbox(key="audits_pick").select(audit_id)
    ok(at.run())
    at.radio(key=f"review_{audit_id}_action").set_value("return")
    _submit_button(at, "Record the step").click()
    at.run()
    assert [e.value for e in at.error] == ["Say why: returning or rejecting needs a comment."]
    assert world.get("supervisor", f"/audits/{audit_id}")["status"] == "submitted"

    at.radio(key=f"review_{audit_id}_action").set_value("start_review")
    _submit_button(at, "Record the step").click()
    ok(at.run())
    assert world.get("supervisor", f"/audits/{audit_id}")["status"] == "in_review"
    assert any("Start review recorded" in s.value for s in at.success)


def test_own_audit_cannot_be_reviewed_and_says_why(session: Session, world: World) -> None:
    mine = next(
        a
        for a in world.get("supervisor", "/audits")["items"]
        if a["template_code"] == "camera-spot-check"
    )
    at = open_page(ok(session("supervisor").run()), "audits")
    at.selectbox(key="audits_pick").select(mine["id"])
    ok(at.run())
    at.radio(key=f"review_{mine['id']}_action").set_value("start_review")
    _submit_button(at, "Record the step").click()
    at.run()
    assert not at.exception
    assert at.error or at.warning  # the API's refusal, in words
    assert world.get("supervisor", f"/audits/{mine['id']}")["status"] == "submitted"


def test_auditor_sees_own_audits_without_review(session: Session) -> None:
    at = ok(session("auditor").run())
    assert at.title[0].value == "Audits"
    assert "Your role does not review audits." in texts(at)


# ---------------------------------------------------------------- corrective actions


def test_actions_by_outlet_and_verify(session: Session, world: World) -> None:
    at = open_page(ok(session("supervisor").run()), "actions")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics == {"Open": "2", "Overdue": "2", "Fixed, to verify": "1"}
    by_outlet = at.dataframe[0].value
    assert by_outlet.iloc[0]["Outlet"].startswith("sh-xuhui")  # the overdue ones first
    fixed = next(
        a for a in world.get("supervisor", "/corrective-actions") if a["status"] == "fixed"
    )
    at.text_area(key=f"verify_{fixed['id']}_comment").input("Checked on site.")
    _submit_button(at, "Record").click()
    ok(at.run())
    assert world.get("supervisor", f"/corrective-actions/{fixed['id']}")["status"] == "verified"
    assert any(f"Action #{fixed['id']} verified." in s.value for s in at.success)


def test_hr_reads_actions_without_verifying(session: Session) -> None:
    at = open_page(ok(session("hr", lang="zh-CN").run()), "actions")
    assert "整改事项" in texts(at)
    assert not any(b.label == "提交" for b in at.button)


# ---------------------------------------------------------------- performance, cross-check


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_performance_ranking_exports_and_person(session: Session, lang: str) -> None:
    at = open_page(ok(session("hr", lang=lang).run()), "performance")
    ranking = at.dataframe[0].value
    assert len(ranking) > 0
    assert {"score", "interval", "provisional_text"} <= set(ranking.columns)
    assert ranking["score"].dropna().between(0, 100).all()
    labels = [b.label for b in at.download_button]
    assert labels == (["Export CSV", "Export XLSX"] if lang == "en" else ["导出 CSV", "导出 XLSX"])
    assert len(at.get("vega_lite_chart")) >= 2  # distribution, intervals
    shown = texts(at)
    assert ("What the score is made of" in shown) if lang == "en" else ("得分构成" in shown)
    components = at.dataframe[1].value
    assert len(components) == 3


def test_performance_levels(session: Session) -> None:
    at = open_page(ok(session("supervisor").run()), "performance")
    for level in ("team", "outlet"):
        at.selectbox(key="perf_level").select(level)
        ok(at.run())
        assert len(at.dataframe[0].value) > 0


def test_staff_sees_only_their_own_performance(session: Session, world: World) -> None:
    at = ok(session("staff", lang="zh-CN").run())
    assert at.title[0].value == "我的绩效"
    assert "Wang Fang" in "\n".join(s.value for s in at.subheader)
    assert registered(at) == ["my_performance"]
    assert not at.download_button
    at.toggle(key="mine_findings").set_value(False)  # every record, not only the findings
    ok(at.run())
    records = at.dataframe[-1].value
    assert len(records) > 0 and set(records["source"]) <= {"班次", "稽核项", "视频事件", "客户等候"}


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_cross_check_shows_both_sides(session: Session, world: World, lang: str) -> None:
    at = open_page(ok(session("supervisor", lang=lang).run()), "cross_check")
    at.selectbox(key="cross_status").select(None)  # the verdict test may have decided it
    ok(at.run())
    check = next(
        c
        for c in world.get("supervisor", "/performance/cross-checks")["items"]
        if c["audit_id"] == world.facts["contradicted_audit"]
    )
    at.selectbox(key="cross_pick").select(check["id"])
    ok(at.run())
    sides = at.dataframe[1].value
    if lang == "en":
        assert list(sides["field"]) == ["Wait", "Counter staffed", "Queue length"]
        assert list(sides["reported"]) == ["2 min", "No", "0"]
        assert list(sides["measured"]) == ["10 min", "Yes", "3"]
    else:
        assert list(sides["field"]) == ["等候时间", "柜台有人", "排队人数"]
        assert list(sides["reported"]) == ["2 分钟", "否", "0"]
        assert list(sides["measured"]) == ["10 分钟", "是", "3"]
    assert list(sides["agrees"]) == [False, False, False]
    assert len(at.dataframe[2].value) >= 1  # shoppers' reliability


def test_cross_check_opens_its_audit(session: Session, world: World) -> None:
    at = open_page(ok(session("hr").run()), "cross_check")
    at.selectbox(key="cross_status").select(None)
    ok(at.run())
    audit_id = world.facts["contradicted_audit"]
    check = next(
        c
        for c in world.get("hr", "/performance/cross-checks")["items"]
        if c["audit_id"] == audit_id
    )
    at.selectbox(key="cross_pick").select(check["id"])
    ok(at.run())
    assert "Your role does not decide cross-checks." in texts(at)  # HR reads, supervisors decide
    at.button(key=f"cross_{check['id']}_audit").click()
    ok(at.run())
    assert at.title[0].value == "Audits"
    assert at.selectbox(key="audits_pick").value == audit_id


def test_cross_check_verdict(session: Session, world: World) -> None:
    at = open_page(ok(session("supervisor").run()), "cross_check")
    flagged = world.get("supervisor", "/performance/cross-checks", status="flagged")["items"]
    assert len(at.dataframe[0].value) == len(flagged) == 1
    check = flagged[0]
    at.radio(key=f"cross_{check['id']}_verdict").set_value("camera")
    _submit_button(at, "Record the verdict").click()
    ok(at.run())
    assert (
        world.get("supervisor", f"/performance/cross-checks/{check['id']}")["verdict"] == "camera"
    )
    assert any("Verdict recorded" in m.value for m in at.success)


# ---------------------------------------------------------------- cameras


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_cameras_health_and_zones(session: Session, world: World, lang: str) -> None:
    world.report_live()
    at = open_page(ok(session("supervisor", lang=lang).run()), "cameras")
    health = at.dataframe[0].value
    by_camera = {row["camera"]: row for _, row in health.iterrows()}
    assert by_camera["sh-pudong-cam-1"]["achieved"] == pytest.approx(1.9)
    assert by_camera["sh-pudong-cam-1"]["configured"] == pytest.approx(2.0)
    assert (
        "offline" in by_camera["sh-chongming-cam-1"]["status"]
        or "离线" in by_camera["sh-chongming-cam-1"]["status"]
    )
    assert len(at.image) == 1  # zones over a blank frame
    at.selectbox(key="cameras_pick").select(world.cameras["sh-pudong-cam-1"]["id"])
    ok(at.run())
    zones = at.dataframe[1].value
    assert len(zones) == 6  # three counters: staff side and queue each
    [caption] = at.image[0].captions
    assert ("blank 640×360 frame" in caption) if lang == "en" else ("640×360" in caption)


def test_camera_snapshot_with_zones_after_a_purpose(session: Session, world: World) -> None:
    at = open_page(ok(session("admin").run()), "cameras")
    camera = world.cameras["sh-pudong-cam-1"]
    at.selectbox(key="cameras_pick").select(camera["id"])
    ok(at.run())
    at.text_input(key=f"camera_{camera['id']}_purpose").input("zone layout check after refit")
    _submit_button(at, "Open 1 item(s)").click()
    ok(at.run())
    [caption] = at.image[0].captions
    assert caption.startswith("Latest snapshot")
    assert at.image[0].value[0].startswith("/mock/media/")  # drawn here, served by Streamlit
    sample = world.cameras["sh-pudong-cam-sample"]
    at.selectbox(key="cameras_pick").select(sample["id"])
    ok(at.run())
    [caption] = at.image[0].captions
    assert "No snapshot from this camera yet" in caption and "1280×720" in caption


def _fresh_tokens(world: World, username: str) -> dict[str, Any]:
    """A login of its own (not the world's shared one), for tests that end or rotate it."""
    response = httpx.post(
        f"{world.url}/api/v1/auth/token",
        data={"username": username, "password": PASSWORDS[username]},
        timeout=30,
    )
    response.raise_for_status()
    return response.json()
