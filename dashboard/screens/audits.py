"""Audits: filter by outlet, checklist, status and date; one audit's score breakdown, answers,
photos, comments and history; review steps (start, approve, return, reject) for reviewers.

The score and its breakdown are the API's (only the server scores); this page lays them out.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import altair as alt
import pandas as pd
import streamlit as st

from dashboard import data, settings
from dashboard.api import ApiError
from dashboard.formatting import answer_text, label, local_text, share, today_in
from dashboard.i18n import lang, t
from dashboard.views import charts, evidence
from dashboard.views.audit_list import (
    AUDIT_KEY,
    audits_table,
    passed_text,
    status_text,
    template_names,
)
from dashboard.views.choices import outlet_labels, pick
from dashboard.views.errors import show

STATUSES = ("submitted", "in_review", "approved", "returned", "rejected")
REVIEWABLE = ("submitted", "in_review")
PICK_KEY = "audits_pick"
DONE_KEY = "audits_done"  # a review step just taken, shown once after the rerun
LIST_LIMIT = 1000


def render() -> None:
    st.title(t("page.audits"))
    outlets = data.outlets_by_id()
    names = template_names()
    outlet_id, template, status, since, until = _filters(outlets, names)

    items = data.read_all("/audits", outlet_id=outlet_id, status=status, since=since, until=until)[
        :LIST_LIMIT
    ]
    if template:
        # The API filters by outlet, status and dates; the checklist filter is applied here.
        items = [a for a in items if a["template_code"] == template]
    done = st.session_state.pop(DONE_KEY, None)
    if done:
        st.success(done, icon=":material/check_circle:")
    if not items:
        st.info(t("audits.none"))
        return
    st.caption(t("audits.count", n=len(items)) + " · " + t("common.outlet_local_times"))
    st.dataframe(audits_table(items), hide_index=True, placeholder="—", width="stretch")

    ids = [a["id"] for a in items]
    wanted = st.session_state.pop(AUDIT_KEY, None)
    if wanted is not None:
        if wanted not in ids:
            ids.insert(0, wanted)  # opened from another page: show it even if filtered out
        st.session_state[PICK_KEY] = wanted
    if st.session_state.get(PICK_KEY) not in ids:
        st.session_state.pop(PICK_KEY, None)
    chosen = pick(st, t("audits.choose"), {i: f"#{i}" for i in ids}, key=PICK_KEY)
    detail(chosen)


def _filters(
    outlets: dict[int, dict[str, Any]], names: dict[str, str]
) -> tuple[int | None, str | None, str | None, str | None, str | None]:
    c1, c2, c3, c4 = st.columns(4)
    outlet_id = pick(
        c1,
        t("col.outlet"),
        outlet_labels(outlets, everything=t("common.all")),
        key="audits_outlet",
    )
    checklists: dict[str | None, str] = {None: t("common.all")}
    checklists.update(names)
    template = pick(c2, t("col.checklist"), checklists, key="audits_template")
    statuses: dict[str | None, str] = {None: t("common.all")}
    statuses.update({s: status_text(s) for s in STATUSES})
    status = pick(
        c3,
        t("col.status"),
        statuses,
        key="audits_status",
    )
    tz = data.outlet_timezone(outlet_id) if outlet_id else settings.current().dashboard_timezone
    today = today_in(tz)
    picked = c4.date_input(
        t("audits.dates"), value=(today - timedelta(days=90), today), key="audits_dates"
    )
    since, until = _window(picked, tz)
    return outlet_id, template, status, since, until


def _window(picked: Any, tz: str) -> tuple[str | None, str | None]:
    """A picked date range as [first day 00:00, day after the last 00:00) in ``tz``."""
    days = list(picked) if isinstance(picked, tuple | list) else [picked]
    days = [d for d in days if isinstance(d, date)]
    if not days:
        return None, None
    zone = ZoneInfo(tz)
    first, last = min(days), max(days)
    since = datetime.combine(first, time(0), tzinfo=zone)
    until = datetime.combine(last + timedelta(days=1), time(0), tzinfo=zone)
    return since.isoformat(), until.isoformat()


def detail(audit_id: int) -> None:
    """One audit: figures, breakdown, answers, photos, comments, history, review."""
    audit = data.read(f"/audits/{audit_id}")
    tz = data.outlet_timezone(audit["outlet"]["id"])
    st.subheader(
        f"#{audit['id']} · {label(audit['template_name'], lang())} · "
        f"{audit['outlet']['code']} {audit['outlet']['name']}"
    )
    cols = st.columns(5)
    cols[0].metric(t("col.score"), "—" if audit["score"] is None else f"{audit['score']:.1f}")
    cols[1].metric(t("col.result"), passed_text(audit["passed"]))
    cols[2].metric(t("col.status"), status_text(audit["status"]))
    cols[3].metric(t("col.auditor"), audit["auditor"])
    cols[4].metric(t("col.visited"), local_text(audit["started_at"], tz))
    if audit["critical_failed"]:
        st.error(t("audits.critical_failed"), icon=":material/warning:")
    if audit["capped"]:
        st.warning(t("audits.capped"), icon=":material/vertical_align_top:")
    st.caption(t("common.local_time", tz=tz))

    tabs = st.tabs(
        [
            t("audits.tab_breakdown"),
            t("audits.tab_items"),
            t("audits.tab_photos"),
            t("audits.tab_history"),
            t("audits.tab_review"),
        ]
    )
    with tabs[0]:
        _breakdown(audit)
    with tabs[1]:
        _items(audit)
    with tabs[2]:
        _photos_and_comments(audit)
    with tabs[3]:
        _history(audit, tz)
    with tabs[4]:
        _review(audit)


def _breakdown(audit: dict[str, Any]) -> None:
    rows = pd.DataFrame(
        [
            {
                "section": label(s["label"], lang()),
                "weight": s["weight"],
                "points": s["points"],
                "possible": s["possible"],
                "percent": s["percent"],
            }
            for s in audit["sections"]
        ],
        columns=["section", "weight", "points", "possible", "percent"],
    )
    if rows.empty:
        st.info(t("audits.no_sections"))
        return
    chart = (
        alt.Chart(rows.dropna(subset=["percent"]))
        .mark_bar()
        .encode(
            x=alt.X("percent:Q", scale=alt.Scale(domain=[0, 100]), title=t("col.percent")),
            y=alt.Y("section:N", sort=None, title=""),
            tooltip=["section:N", alt.Tooltip("percent:Q", format=".1f")],
        )
        .properties(height=alt.Step(30))
    )
    charts.show(chart)
    st.dataframe(
        rows,
        hide_index=True,
        placeholder="—",
        width="stretch",
        column_config={
            "section": t("col.section"),
            "weight": st.column_config.NumberColumn(t("col.weight")),
            "points": st.column_config.NumberColumn(t("col.points"), format="%.2f"),
            "possible": st.column_config.NumberColumn(t("col.possible"), format="%.2f"),
            "percent": st.column_config.NumberColumn(t("col.percent"), format="%.1f"),
        },
    )


def _items(audit: dict[str, Any]) -> None:
    sections = {s["name"]: label(s["label"], lang()) for s in audit["sections"]}
    rows = [
        {
            "section": sections.get(i["section"], i["section"]),
            "item": label(i["label"], lang()),
            "answer": t("answer.hidden") if i["hidden"] else answer_text(i["answer"], i["type"]),
            "points": f"{i['points']:g} / {i['possible']:g}" if i["possible"] else "",
            "fraction": share(i["fraction"]),
            "failed": bool(i["failed"]),
            "critical": bool(i["critical"]),
            "staff": f"{i['staff']['name']} ({i['staff']['employee_no']})" if i["staff"] else "",
            "attribution": t("attribution." + i["attribution"]),
            "standard": i["standard"] or "",
        }
        for i in audit["items"]
    ]
    st.dataframe(
        pd.DataFrame(rows),
        hide_index=True,
        placeholder="—",
        width="stretch",
        column_config={
            "section": t("col.section"),
            "item": t("col.item"),
            "answer": t("col.answer"),
            "points": t("col.points"),
            "fraction": t("col.percent"),
            "failed": t("col.failed"),
            "critical": t("col.critical"),
            "staff": t("col.staff"),
            "attribution": t("col.attribution"),
            "standard": t("col.standard"),
        },
    )


def _photos_and_comments(audit: dict[str, Any]) -> None:
    photos: list[str] = []
    captions: list[str] = []
    comments = []
    for item in audit["items"]:
        answer = item["answer"] or {}
        for photo in answer.get("photos") or []:
            photos.append(str(photo))
            captions.append(label(item["label"], lang()))
        if answer.get("comment"):
            comments.append({"item": label(item["label"], lang()), "comment": answer["comment"]})
    st.markdown(f"**{t('audits.photos')}**")
    if photos:
        evidence.gallery(photos, key=f"audit_{audit['id']}_photos", captions=captions)
    else:
        st.caption(t("audits.no_photos"))
    st.markdown(f"**{t('audits.comments')}**")
    if comments:
        st.dataframe(
            pd.DataFrame(comments),
            hide_index=True,
            placeholder="—",
            width="stretch",
            column_config={"item": t("col.item"), "comment": t("col.comment")},
        )
    else:
        st.caption(t("audits.no_comments"))
    if audit["corrective_action_ids"]:
        st.caption(
            t("audits.actions", ids=", ".join(f"#{i}" for i in audit["corrective_action_ids"]))
        )


def _history(audit: dict[str, Any], tz: str) -> None:
    rows = []
    for h in audit["history"]:
        change = ""
        if h["from_status"] or h["to_status"]:
            change = " → ".join(status_text(s) for s in (h["from_status"], h["to_status"]) if s)
        elif h["item"]:
            change = (
                f"{h['item']}: {answer_text(h['old_answer'], '')} → "
                f"{answer_text(h['new_answer'], '')}"
            )
        rows.append(
            {
                "at": local_text(h["at"], tz),
                "kind": t("history." + h["kind"]),
                "by": h["by"] or "",
                "change": change,
                "comment": h["comment"],
            }
        )
    st.dataframe(
        pd.DataFrame(rows, columns=["at", "kind", "by", "change", "comment"]),
        hide_index=True,
        placeholder="—",
        width="stretch",
        column_config={
            "at": t("col.when"),
            "kind": t("col.kind"),
            "by": t("col.by"),
            "change": t("col.change"),
            "comment": t("col.comment"),
        },
    )


def _review(audit: dict[str, Any]) -> None:
    if not data.can("audit:review"):
        st.caption(t("review.no_permission"))
        return
    if audit["status"] not in REVIEWABLE:
        st.caption(t("review.over", status=status_text(audit["status"])))
        return
    actions = (["start_review"] if audit["status"] == "submitted" else []) + [
        "approve",
        "return",
        "reject",
    ]
    with st.form(f"review_{audit['id']}", border=True):
        action = pick(
            st,
            t("review.action"),
            {a: t("review." + a) for a in actions},
            widget="radio",
            horizontal=True,
            key=f"review_{audit['id']}_action",
        )
        comment = st.text_area(
            t("review.comment"), key=f"review_{audit['id']}_comment", max_chars=2000
        )
        submitted = st.form_submit_button(t("review.submit"), type="primary")
    if not submitted:
        return
    if action in ("return", "reject") and not comment.strip():
        st.error(t("review.comment_needed"))
        return
    try:
        data.change(
            "POST", f"/audits/{audit['id']}/review", {"action": action, "comment": comment.strip()}
        )
    except ApiError as exc:
        show(exc)
        return
    st.session_state[DONE_KEY] = t("review.done", id=audit["id"], action=t("review." + action))
    st.session_state[AUDIT_KEY] = audit["id"]
    st.rerun()


if __name__ == "__main__":
    render()
