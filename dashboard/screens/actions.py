"""Corrective actions: open and overdue ones by outlet; verify (or reopen) fixed ones.

``overdue`` and every status come from the API; this page groups and lays them out.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from dashboard import data
from dashboard.api import ApiError
from dashboard.formatting import local_text
from dashboard.i18n import t
from dashboard.views import evidence
from dashboard.views.audit_list import AUDIT_KEY
from dashboard.views.choices import outlet_labels, pick
from dashboard.views.errors import show

DONE_KEY = "actions_done"


def render() -> None:
    st.title(t("page.actions"))
    outlets = data.outlets_by_id()
    outlet_id = pick(
        st,
        t("col.outlet"),
        outlet_labels(outlets, everything=t("common.all")),
        key="actions_outlet",
    )
    actions = data.read("/corrective-actions", outlet_id=outlet_id, limit=1000)
    done = st.session_state.pop(DONE_KEY, None)
    if done:
        st.success(done, icon=":material/check_circle:")
    if not actions:
        st.info(t("actions.none"))
        return

    open_ = [a for a in actions if a["status"] == "open"]
    overdue = [a for a in open_ if a["overdue"]]
    fixed = [a for a in actions if a["status"] == "fixed"]
    cols = st.columns(3)
    cols[0].metric(t("actions.open"), len(open_))
    cols[1].metric(t("actions.overdue"), len(overdue))
    cols[2].metric(t("actions.awaiting"), len(fixed))

    st.subheader(t("actions.by_outlet"))
    st.dataframe(_by_outlet(actions, outlets), hide_index=True, placeholder="—", width="stretch")

    tab_open, tab_fixed, tab_all = st.tabs(
        [
            t("actions.tab_open", n=len(open_)),
            t("actions.tab_fixed", n=len(fixed)),
            t("actions.tab_all", n=len(actions)),
        ]
    )
    with tab_open:
        _table(sorted(open_, key=lambda a: (not a["overdue"], a["due_on"])), outlets)
    with tab_fixed:
        _table(fixed, outlets)
        _verify(fixed, outlets)
    with tab_all:
        _table(actions, outlets)


def _by_outlet(actions: list[dict[str, Any]], outlets: dict[int, dict[str, Any]]) -> pd.DataFrame:
    """Per outlet: open, overdue, waiting for verification, verified."""
    rows: dict[int, dict[str, Any]] = {}
    for a in actions:
        outlet = outlets.get(a["outlet_id"])
        row = rows.setdefault(
            a["outlet_id"],
            {
                t("col.outlet"): f"{outlet['code']} · {outlet['name']}"
                if outlet
                else str(a["outlet_id"]),
                t("actions.open"): 0,
                t("actions.overdue"): 0,
                t("actions.awaiting"): 0,
                t("actions.verified"): 0,
            },
        )
        if a["status"] == "open":
            row[t("actions.open")] += 1
            row[t("actions.overdue")] += int(a["overdue"])
        elif a["status"] == "fixed":
            row[t("actions.awaiting")] += 1
        else:
            row[t("actions.verified")] += 1
    table = pd.DataFrame(list(rows.values()))
    return table.sort_values(
        [t("actions.overdue"), t("actions.open")], ascending=False, kind="stable"
    )


def _table(actions: list[dict[str, Any]], outlets: dict[int, dict[str, Any]]) -> None:
    if not actions:
        st.caption(t("actions.none_here"))
        return
    rows = [
        {
            "id": a["id"],
            "outlet": outlets[a["outlet_id"]]["code"] if a["outlet_id"] in outlets else "",
            "title": a["title"],
            "critical": bool(a["critical"]),
            "assignee": a["assignee"] or "",
            "due": a["due_on"],
            "overdue": bool(a["overdue"]),
            "status": t("action_status." + a["status"]),
            "audit": a["audit_id"],
            "fixed_at": local_text(a["fixed_at"], data.outlet_timezone(a["outlet_id"])),
        }
        for a in actions
    ]
    st.dataframe(
        pd.DataFrame(rows),
        hide_index=True,
        placeholder="—",
        width="stretch",
        column_config={
            "id": st.column_config.NumberColumn(t("col.action"), format="#%d"),
            "outlet": t("col.outlet"),
            "title": st.column_config.TextColumn(t("col.title"), width="large"),
            "critical": t("col.critical"),
            "assignee": t("col.assignee"),
            "due": t("col.due"),
            "overdue": t("col.overdue"),
            "status": t("col.status"),
            "audit": st.column_config.NumberColumn(t("col.audit"), format="#%d"),
            "fixed_at": t("col.fixed_at"),
        },
    )


def _verify(fixed: list[dict[str, Any]], outlets: dict[int, dict[str, Any]]) -> None:
    if not fixed:
        return
    if not data.can("action:verify"):
        st.caption(t("actions.no_verify_permission"))
        return
    st.subheader(t("actions.verify_title"))
    by_id = {a["id"]: a for a in fixed}
    chosen = pick(
        st,
        t("col.action"),
        {i: f"#{i} · {a['title']}" for i, a in by_id.items()},
        key="actions_verify_pick",
    )
    action = by_id[chosen]
    tz = data.outlet_timezone(action["outlet_id"])
    st.markdown(
        t(
            "actions.fixed_note",
            when=local_text(action["fixed_at"], tz),
            note=action["fix_note"] or "—",
        )
    )
    if action["fix_evidence_ids"]:
        evidence.gallery(action["fix_evidence_ids"], key=f"action_{chosen}_fix")
    if st.button(t("audits.open"), key=f"action_{chosen}_audit", icon=":material/fact_check:"):
        st.session_state[AUDIT_KEY] = action["audit_id"]
        st.switch_page("screens/audits.py")
    with st.form(f"verify_{chosen}", border=True):
        accept = pick(
            st,
            t("actions.decision"),
            {True: t("actions.accept"), False: t("actions.reopen")},
            widget="radio",
            horizontal=True,
            key=f"verify_{chosen}_accept",
        )
        comment = st.text_area(t("review.comment"), key=f"verify_{chosen}_comment", max_chars=2000)
        submitted = st.form_submit_button(t("actions.verify_submit"), type="primary")
    if not submitted:
        return
    try:
        data.change(
            "POST",
            f"/corrective-actions/{chosen}/verify",
            {"accept": accept, "comment": comment.strip()},
        )
    except ApiError as exc:
        show(exc)
        return
    st.session_state[DONE_KEY] = t(
        "actions.verified_done" if accept else "actions.reopened_done", id=chosen
    )
    st.rerun()


if __name__ == "__main__":
    render()
