"""The dashboard's plain modules without a server: labels in both languages, pages per role,
times on each outlet's clock, zone drawing, the shaping of live and day data, API errors."""

from __future__ import annotations

import ast
import re
import string
from datetime import UTC, date, datetime
from pathlib import Path

import httpx
import pytest
from PIL import Image

import dashboard
from dashboard import api, formatting, frames, live, outlet_day
from dashboard.i18n import LABELS, t
from dashboard.navigation import PAGES, pages_for

DASHBOARD = Path(dashboard.__file__).resolve().parent
# Keys built at run time from an API value: "state." + "attended", ...
DYNAMIC = {
    "page.": [p.key for p in PAGES] + ["login", "no_pages"],
    "role.": ["admin", "supervisor", "auditor", "hr", "staff", "worker"],
    "state.": ["attended", "unattended", "closed", "unknown"],
    "event.": ["counter_unattended", "queue_over_threshold", "camera_offline", "camera_online"],
    "audit_status.": ["submitted", "in_review", "approved", "returned", "rejected"],
    "action_status.": ["open", "fixed", "verified"],
    "attribution.": ["badge", "roster", "outlet_manager", "unresolved"],
    "history.": ["submitted", "resubmitted", "status", "answer_edit"],
    "review.": ["start_review", "approve", "return", "reject"],
    "zone.": ["counter", "queue"],
    "component.": ["audit", "attendance", "queue"],
    "source.": ["audit_item", "shift", "vision_event", "queue_wait"],
    "dispute.": ["open", "upheld", "rejected"],
    "period.": ["week", "month", "quarter"],
    "level.": ["staff", "team", "outlet"],
    "cross_status.": ["flagged", "agreed", "reviewed", "no_data"],
    "cross_field.": ["wait_s", "counter_staffed", "queue_length"],
    "verdict.": ["shopper", "camera", "unclear"],
}


def _keys_used() -> tuple[set[str], set[str]]:
    """Literal keys passed to t(...) anywhere in the dashboard, and the prefixes of keys built
    at run time (``t("state." + value)``, ``t(f"page.{key}")``)."""
    literal: set[str] = set()
    prefixes: set[str] = set()
    for path in DASHBOARD.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "t"):
                continue
            first = node.args[0]
            candidates = [first.body, first.orelse] if isinstance(first, ast.IfExp) else [first]
            for arg in candidates:
                if isinstance(arg, ast.Constant):
                    literal.add(arg.value)
                elif isinstance(arg, ast.BinOp) and isinstance(arg.left, ast.Constant):
                    prefixes.add(arg.left.value)
                elif isinstance(arg, ast.JoinedStr) and isinstance(arg.values[0], ast.Constant):
                    prefixes.add(arg.values[0].value)
                else:
                    raise AssertionError(f"{path.name}:{node.lineno}: t() with a computed key")
    return literal, prefixes


def test_every_label_used_exists_in_both_languages() -> None:
    literal, prefixes = _keys_used()
    assert prefixes <= set(DYNAMIC), f"add the values of {prefixes - set(DYNAMIC)} to DYNAMIC"
    wanted = literal | {p + v for p, vs in DYNAMIC.items() for v in vs}
    assert sorted(wanted - set(LABELS)) == []
    for key, (en, zh) in LABELS.items():
        assert en.strip() and zh.strip(), key


def test_both_languages_take_the_same_placeholders() -> None:
    fields = string.Formatter()
    for key, (en, zh) in LABELS.items():
        names = [{f for _, f, _, _ in fields.parse(text) if f} for text in (en, zh)]
        assert names[0] == names[1], key


def test_chinese_labels_are_chinese() -> None:
    # Words that stay the same in both (codes, units) are short; everything else is translated.
    same = [k for k, (en, zh) in LABELS.items() if en == zh and len(en) > 12]
    assert same == []
    assert all(re.search(r"[\u4e00-\u9fff]", zh) for k, (en, zh) in LABELS.items() if len(en) > 12)


def test_unknown_label_shows_its_key() -> None:
    assert t("no.such.label") == "no.such.label"


@pytest.mark.parametrize(
    ("role", "permissions", "pages"),
    [
        ("supervisor", {"vision:read", "org:read", "camera:read", "audit:read", "action:read",
                        "score:read"},
         ["overview", "outlet", "audits", "actions", "performance", "cross_check", "cameras"]),
        ("hr", {"vision:read", "org:read", "audit:read", "action:read", "score:read"},
         ["audits", "actions", "performance", "cross_check"]),
        ("staff", {"org:read", "action:read", "score:own"}, ["my_performance"]),
        ("auditor", {"org:read", "audit:read"}, ["audits"]),
        # A supervisor whose role lost the score permissions gets no HR pages.
        ("supervisor", {"vision:read", "org:read", "camera:read", "audit:read"},
         ["overview", "outlet", "audits", "cameras"]),
        ("worker", {"camera:read", "vision:ingest"}, []),
    ],
)  # fmt: skip
def test_pages_follow_role_and_permissions(
    role: str, permissions: set[str], pages: list[str]
) -> None:
    assert [p.key for p in pages_for(role, permissions)] == pages


def test_page_scripts_exist_and_no_pages_folder() -> None:
    for spec in PAGES:
        assert (DASHBOARD / spec.script).is_file(), spec.script
    # A pages/ folder beside app.py would switch Streamlit to its legacy multipage mode.
    assert not (DASHBOARD / "pages").exists()


def test_times_are_shown_on_each_outlets_clock() -> None:
    instant = "2026-11-20T01:30:00Z"
    assert formatting.local_text(instant, "Asia/Shanghai") == "2026-11-20 09:30"
    assert formatting.local_text(instant, "Asia/Urumqi") == "2026-11-20 07:30"
    assert formatting.local_text(instant, "Europe/London", with_date=False) == "01:30"
    assert formatting.local_text(None, "Asia/Shanghai") == ""
    # Charts get the outlet's wall-clock reading tagged UTC (drawn on a UTC scale).
    assert formatting.wall_clock(instant, "Asia/Shanghai") == datetime(
        2026, 11, 20, 9, 30, tzinfo=UTC
    )


def test_a_local_day_in_utc_even_across_dst() -> None:
    start, end = formatting.day_bounds(date(2026, 3, 29), "Europe/London")  # 23 h long
    assert (start, end) == (
        datetime(2026, 3, 29, 0, 0, tzinfo=UTC),
        datetime(2026, 3, 29, 23, 0, tzinfo=UTC),
    )
    start, _ = formatting.day_bounds(date(2026, 11, 20), "Asia/Shanghai")
    assert start == datetime(2026, 11, 19, 16, 0, tzinfo=UTC)


def test_durations_and_answers_read_well() -> None:
    assert [formatting.duration(s) for s in (None, 42, 600, 3900, 200_000)] == [
        "",
        "42 s",
        "10 min",
        "1 h 05 min",
        "2 d 7 h",
    ]
    assert formatting.answer_text({"value": 135}, "duration") == "2:15"
    assert formatting.answer_text({"na": True}, "scale") == "N/A"
    assert formatting.answer_text({"value": None, "photos": ["a", "b"]}, "photo") == "2 photo(s)"
    assert formatting.label({"zh": "接待", "en": "Reception"}, "zh-CN") == "接待"
    assert formatting.label({"zh": "接待", "en": ""}, "en") == "接待"


def test_day_hours_take_the_exception_for_that_date() -> None:
    outlet = {
        "opening_hours": {
            "fri": [
                {"opens": "09:00", "closes": "17:00", "extended": False},
                {"opens": "17:00", "closes": "18:00", "extended": True},
            ]
        }
    }
    friday = date(2026, 11, 20)
    hours, exception = outlet_day.day_hours(outlet, [], friday)
    assert [h["closes"] for h in hours] == ["17:00", "18:00"] and exception is None
    assert outlet_day.hours_text(hours) == "09:00-17:00, 17:00-18:00 (extended)"
    refit = {"day": "2026-11-20", "closed": True, "intervals": [], "note": "refit"}
    assert outlet_day.day_hours(outlet, [refit], friday) == ([], refit)
    assert outlet_day.day_hours(outlet, [], date(2026, 11, 21)) == ([], None)


def test_attendance_spells_are_cut_to_the_day() -> None:
    window = formatting.day_bounds(date(2026, 11, 20), "Asia/Shanghai")
    now = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)  # 11:00 local
    events = [
        {  # began the evening before: counts from midnight
            "kind": "counter_unattended",
            "counter_id": 1,
            "started_at": "2026-11-19T15:00:00Z",
            "ended_at": "2026-11-19T16:30:00Z",
        },
        {  # still open: runs until now
            "kind": "counter_unattended",
            "counter_id": 1,
            "started_at": "2026-11-20T02:50:00Z",
            "ended_at": None,
        },
        {"kind": "queue_over_threshold", "counter_id": 1, "started_at": "2026-11-20T01:00:00Z",
         "ended_at": None},
    ]  # fmt: skip
    counters = [{"id": 1, "code": "C1", "name": "Issuance"}]
    summary = outlet_day.attendance_summary(events, counters, window, now)
    assert summary.iloc[0]["spells"] == 2
    assert summary.iloc[0]["unattended"] == "40 min"
    bars = outlet_day.attendance_rows(events, [], {1: "C1"}, {}, "Asia/Shanghai", window, now)
    wall = [
        datetime(2026, 11, 20, h, m, tzinfo=UTC) for h, m in ((0, 0), (10, 50), (0, 30), (11, 0))
    ]
    assert list(bars["start"]) == wall[:2]
    assert list(bars["end"]) == wall[2:]
    span = outlet_day.view_span(date(2026, 11, 20), bars["start"], bars["end"])
    assert span == (
        datetime(2026, 11, 20, 0, 0, tzinfo=UTC),
        datetime(2026, 11, 20, 12, 0, tzinfo=UTC),
    )


def _live_outlet(outlet_id: int, code: str, *, unattended: bool) -> dict[str, object]:
    counters = [
        {
            "counter_id": outlet_id * 10 + k,
            "code": f"C{k}",
            "name": f"Counter {k}",
            "state": "unattended" if unattended and k == 1 else "attended",
            "since": "2026-11-20T01:00:00Z",
            "for_s": 720.0,
            "staff_count": 0 if unattended and k == 1 else 1,
            "reported_at": "2026-11-20T01:12:00Z",
            "stale": False,
            "queue_length": 2.5 * k,
            "queue_count": k,
            "wait_s": 90.0 * k,
            "queue_at": "2026-11-20T01:12:00Z",
            "open_alerts": 0,
        }
        for k in (1, 2)
    ]
    return {
        "outlet_id": outlet_id,
        "code": code,
        "name": code.upper(),
        "unattended": int(unattended),
        "open_alerts": 0,
        "camera_problems": 0,
        "counters": counters,
        "alerts": [],
        "cameras": [],
    }


def test_live_table_keeps_the_apis_order_and_figures() -> None:
    outlets = [_live_outlet(2, "o-2", unattended=True), _live_outlet(1, "o-1", unattended=False)]
    info = {1: {"region_id": 7, "timezone": "Asia/Shanghai"}, 2: {"region_id": 7}}
    table = live.overview_table(outlets, info, {7: "sh"})
    assert list(table.index) == [2, 1]
    assert table.loc[2, "unattended_now"] == "C1 12 min"
    assert table.loc[2, "status"] == "unattended" and table.loc[1, "status"] == "ok"
    assert table.loc[1, "queue"] == 5.0 and table.loc[1, "wait_min"] == 3.0
    figures = live.totals(outlets)
    assert figures["counters_unattended"] == 1 and figures["longest_wait_s"] == 180.0


def test_zones_are_drawn_on_the_frame_at_its_size() -> None:
    zones = [
        {"code": "c1-staff", "kind": "counter", "counter_id": 1,
         "polygon": [[0.1, 0.1], [0.4, 0.1], [0.4, 0.45], [0.1, 0.45]]},
        {"code": "c1-queue", "kind": "queue", "counter_id": 1,
         "polygon": [[0.1, 0.55], [0.4, 0.55], [0.4, 0.95], [0.1, 0.95]]},
    ]  # fmt: skip
    blank = frames.blank_frame((640, 360))
    drawn = frames.draw_zones(blank, zones, {1: "C1"})
    assert drawn.size == (640, 360)
    inside_counter = drawn.getpixel((160, 100))
    inside_queue = drawn.getpixel((160, 280))
    outside = drawn.getpixel((600, 20))
    assert outside == frames.BLANK
    assert inside_counter[2] > inside_counter[0]  # blue-ish: the staff side
    assert inside_queue[0] > inside_queue[2]  # orange-ish: the customers' queue
    assert isinstance(frames.blank_frame(), Image.Image)
    assert frames.blank_frame().size == frames.DEFAULT_SIZE


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (401, api.Unauthorized),
        (403, api.Forbidden),
        (404, api.NotFound),
        (409, api.Conflict),
        (422, api.InvalidInput),
        (429, api.RateLimited),
        (503, api.ApiUnavailable),
        (400, api.ApiError),
    ],
)
def test_api_errors_become_typed_exceptions(status: int, kind: type[api.ApiError]) -> None:
    body = {"error": "x", "detail": "audit 7 is approved", "fields": [{"field": "comment"}]}
    error = api.error_of(httpx.Response(status, json=body))
    assert type(error) is kind
    assert (error.status, error.detail, error.fields) == (status, body["detail"], body["fields"])


def test_an_unreachable_api_is_a_typed_error() -> None:
    from tests.conftest import free_port

    client = api.ApiClient(f"http://127.0.0.1:{free_port()}", timeout_s=2)
    with pytest.raises(api.ApiUnavailable, match="did not answer"):
        client.get_json("token", "/auth/me")


def test_every_dashboard_setting_is_in_the_readme() -> None:
    from dashboard.settings import DashboardSettings

    readme = (DASHBOARD.parent / "README.md").read_text(encoding="utf-8")
    for name, field in DashboardSettings.model_fields.items():
        row = f"| `AUDITLENS_{name.upper()}` | `{field.default}` |"
        assert row in readme, f"README.md's dashboard settings table lacks {row}"
