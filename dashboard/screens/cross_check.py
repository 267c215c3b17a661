"""Cross-check: shopper reports against what the cameras measured at the same moment.

Each check shows both sides field by field (the shopper's answer, the camera's measurement,
the tolerance, whether they agree), as ``GET /performance/cross-checks`` computed them.
Reviewers decide flagged ones (the shopper was right, the camera was, or unclear); the
shoppers' reliability follows from those decisions on the API side.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from dashboard import data
from dashboard.api import ApiError
from dashboard.formatting import duration, local_text, share
from dashboard.i18n import t
from dashboard.views.audit_list import AUDIT_KEY
from dashboard.views.choices import outlet_labels, pick
from dashboard.views.errors import show

STATUSES = ("flagged", "agreed", "reviewed", "no_data")
VERDICTS = ("shopper", "camera", "unclear")
DONE_KEY = "cross_check_done"


def render() -> None:
    st.title(t("page.cross_check"))
    st.caption(t("cross.caption"))
    outlets = data.outlets_by_id()
    status_col, outlet_col = st.columns(2)
    status = pick(
        status_col,
        t("col.status"),
        {None: t("common.all"), **{s: status_text(s) for s in STATUSES}},
        index=1,  # flagged: the ones that need someone
        key="cross_status",
    )
    outlet_id = pick(
        outlet_col,
        t("col.outlet"),
        outlet_labels(outlets, everything=t("common.all")),
        key="cross_outlet",
    )
    done = st.session_state.pop(DONE_KEY, None)
    if done:
        st.success(done, icon=":material/check_circle:")
    checks = data.read_all("/performance/cross-checks", status=status, outlet_id=outlet_id)
    if not checks:
        st.info(t("cross.none"))
    else:
        st.dataframe(checks_table(checks), hide_index=True, placeholder="—", width="stretch")
        by_id = {c["id"]: c for c in checks}
        chosen = pick(
            st,
            t("cross.choose"),
            {i: _check_label(c) for i, c in by_id.items()},
            key="cross_pick",
        )
        _detail(by_id[chosen])
    st.divider()
    _shoppers()


def status_text(status: str) -> str:
    return t("cross_status." + status)


def value_text(name: str, value: Any) -> str:
    """A reported or measured value in its unit (a wait in minutes, a yes/no, people)."""
    if value is None:
        return "—"
    if name == "counter_staffed" or isinstance(value, bool):
        return t("answer.yes") if value else t("answer.no")
    if name == "wait_s":
        return duration(float(value))
    return f"{float(value):g}"


def checks_table(checks: list[dict[str, Any]]) -> pd.DataFrame:
    rows = []
    for c in checks:
        disagreeing = [f["name"] for f in c["fields"] if f.get("agrees") is False]
        rows.append(
            {
                t("col.audit"): c["audit_id"],
                t("col.when"): local_text(c["at"], data.outlet_timezone(c["outlet_id"])),
                t("col.outlet"): c["outlet"],
                t("col.auditor"): c["auditor"],
                t("col.status"): status_text(c["status"]),
                t("cross.disagree_on"): ", ".join(t("cross_field." + n) for n in disagreeing),
                t("cross.verdict"): t("verdict." + c["verdict"]) if c.get("verdict") else "",
            }
        )
    return pd.DataFrame(rows)


def _check_label(check: dict[str, Any]) -> str:
    at = local_text(check["at"], data.outlet_timezone(check["outlet_id"]))
    return f"#{check['audit_id']} · {at} · {check['outlet']} · {check['auditor']}"


def _detail(check: dict[str, Any]) -> None:
    tz = data.outlet_timezone(check["outlet_id"])
    st.subheader(t("cross.detail", audit=check["audit_id"]))
    st.caption(
        t("cross.arrival", when=local_text(check["at"], tz), tz=tz)
        + " · "
        + status_text(check["status"])
    )
    shopper, camera = st.columns(2)
    shopper.markdown(f":material/person: **{t('cross.shopper_side', name=check['auditor'])}**")
    camera.markdown(f":material/videocam: **{t('cross.camera_side')}**")
    rows = [
        {
            "field": t("cross_field." + f["name"]),
            "reported": value_text(f["name"], f.get("reported")),
            "measured": value_text(f["name"], f.get("measured")),
            "tolerance": _tolerance(f),
            "agrees": f.get("agrees"),
        }
        for f in check["fields"]
    ]
    st.dataframe(
        pd.DataFrame(rows, columns=["field", "reported", "measured", "tolerance", "agrees"]),
        hide_index=True,
        placeholder="—",
        width="stretch",
        column_config={
            "field": t("cross.field"),
            "reported": t("cross.reported"),
            "measured": t("cross.measured"),
            "tolerance": t("cross.tolerance"),
            "agrees": st.column_config.CheckboxColumn(t("cross.agrees")),
        },
    )
    if check.get("verdict"):
        st.info(
            t(
                "cross.reviewed",
                verdict=t("verdict." + check["verdict"]),
                by=check.get("reviewed_by") or "",
                when=local_text(check.get("reviewed_at"), tz),
                comment=check.get("review_comment") or "—",
            )
        )
    if data.can("audit:read") and st.button(
        t("audits.open"), key=f"cross_{check['id']}_audit", icon=":material/fact_check:"
    ):
        st.session_state[AUDIT_KEY] = check["audit_id"]
        st.switch_page("screens/audits.py")
    if check["status"] == "flagged":
        _review(check)


def _tolerance(field: dict[str, Any]) -> str:
    tolerance = field.get("tolerance")
    if tolerance is None:
        return t("cross.must_match")
    if field["name"] == "wait_s":
        return "± " + duration(tolerance)
    return f"± {tolerance:g}"


def _review(check: dict[str, Any]) -> None:
    if not data.can("crosscheck:review"):
        st.caption(t("cross.no_review_permission"))
        return
    with st.form(f"cross_review_{check['id']}", border=True):
        verdict = pick(
            st,
            t("cross.verdict"),
            {v: t("verdict." + v) for v in VERDICTS},
            widget="radio",
            horizontal=True,
            key=f"cross_{check['id']}_verdict",
        )
        comment = st.text_area(t("review.comment"), key=f"cross_{check['id']}_comment")
        sent = st.form_submit_button(t("cross.review_submit"), type="primary")
    if not sent:
        return
    try:
        data.change(
            "POST",
            f"/performance/cross-checks/{check['id']}/review",
            {"verdict": verdict, "comment": comment.strip()},
        )
    except ApiError as exc:
        show(exc)
        return
    st.session_state[DONE_KEY] = t("cross.review_done", audit=check["audit_id"])
    st.rerun()


def _shoppers() -> None:
    st.subheader(t("cross.shoppers"))
    shoppers = data.read("/performance/shoppers")
    if not shoppers:
        st.caption(t("cross.no_shoppers"))
        return
    rows = [
        {
            "auditor": s["auditor"],
            "checks": s["checks"],
            "agreed": s["agreed"],
            "reliability": round(s["reliability"] * 100, 1),
            "interval": f"{share(s['low'])}–{share(s['high'])}",
            "provisional": t("perf.provisional") if s["provisional"] else "",
        }
        for s in shoppers
    ]
    st.dataframe(
        pd.DataFrame(rows),
        hide_index=True,
        placeholder="—",
        width="stretch",
        column_config={
            "auditor": t("col.auditor"),
            "checks": st.column_config.NumberColumn(t("cross.checks")),
            "agreed": st.column_config.NumberColumn(t("cross.agreed")),
            "reliability": st.column_config.ProgressColumn(
                t("cross.reliability"), min_value=0, max_value=100, format="%.0f"
            ),
            "interval": t("col.interval"),
            "provisional": t("col.provisional"),
        },
    )


if __name__ == "__main__":
    render()
