"""A list of audits (``AuditSummary`` rows) and the way from it to one audit's detail."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from dashboard import data
from dashboard.formatting import label, local_text
from dashboard.i18n import lang, t
from dashboard.views.choices import pick as choose

AUDIT_KEY = "audit_id"  # the audit the Audits page opens with


def template_names() -> dict[str, str]:
    """Checklist template code → its name in the chosen language."""
    if not data.can("checklist:read"):
        return {}
    return {c["code"]: label(c["name"], lang()) for c in data.read("/checklists")}


def status_text(status: str) -> str:
    return t("audit_status." + status)


def passed_text(passed: bool | None) -> str:
    if passed is None:
        return "—"
    return t("audits.pass") if passed else t("audits.fail")


def audits_table(items: list[dict[str, Any]]) -> pd.DataFrame:
    """Audits as rows with translated headers, times on each outlet's clock."""
    outlets = data.outlets_by_id()
    names = template_names()
    rows = []
    for a in items:
        outlet = outlets.get(a["outlet_id"])
        tz = data.outlet_timezone(a["outlet_id"])
        rows.append(
            {
                t("col.audit"): a["id"],
                t("col.outlet"): outlet["code"] if outlet else str(a["outlet_id"]),
                t("col.checklist"): names.get(a["template_code"], a["template_code"]),
                t("col.visited"): local_text(a["started_at"], tz),
                t("col.status"): status_text(a["status"]),
                t("col.score"): a["score"],
                t("col.result"): passed_text(a["passed"]),
                t("col.critical_failed"): bool(a["critical_failed"]),
            }
        )
    columns = [
        t("col.audit"),
        t("col.outlet"),
        t("col.checklist"),
        t("col.visited"),
        t("col.status"),
        t("col.score"),
        t("col.result"),
        t("col.critical_failed"),
    ]
    return pd.DataFrame(rows, columns=columns)


def open_audit_button(items: list[dict[str, Any]], *, key: str) -> None:
    """Pick one of these audits and open it on the Audits page."""
    if not items:
        return
    where, go = st.columns([3, 1], vertical_alignment="bottom")
    chosen = choose(
        where, t("audits.choose"), {a["id"]: f"#{a['id']}" for a in items}, key=f"{key}_pick"
    )
    if go.button(t("audits.open"), icon=":material/open_in_new:", key=f"{key}_go"):
        st.session_state[AUDIT_KEY] = chosen
        st.switch_page("screens/audits.py")
