"""One person's performance for a period (``StaffDetail`` of docs/performance.md): score with
its interval, trend over periods, decomposition by component, and the records behind it.

Shared by the Staff performance page (HR, supervisors) and My performance (the staff role).
Scores arrive as 0-1 shares and are shown as 0-100; every figure is the API's.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from dashboard import data
from dashboard.api import ApiError
from dashboard.formatting import local_text
from dashboard.i18n import t
from dashboard.views import charts, evidence
from dashboard.views.audit_list import AUDIT_KEY
from dashboard.views.choices import pick
from dashboard.views.errors import show

COMPONENTS = ("audit", "attendance", "queue")
DISPUTABLE = ("audit_item", "vision_event", "queue_wait")


def pct(value: float | None) -> float | None:
    """A 0-1 share as 0-100 (one decimal), None kept."""
    return None if value is None else round(value * 100, 1)


def score_text(score: dict[str, Any] | None) -> str:
    if not score or score.get("score") is None:
        return "—"
    return f"{pct(score['score']):.1f}"


def interval_text(row: dict[str, Any]) -> str:
    if row.get("low") is None or row.get("high") is None:
        return ""
    return f"{pct(row['low']):.1f}–{pct(row['high']):.1f}"


def component_rows(components: dict[str, Any]) -> pd.DataFrame:
    rows = []
    for name in COMPONENTS:
        c = components.get(name) or {}
        rows.append(
            {
                "component": t("component." + name),
                "score": pct(c.get("score")),
                "low": pct(c.get("low")),
                "high": pct(c.get("high")),
                "raw": pct(c.get("raw")),
                "n": c.get("n"),
                "provisional": t("perf.provisional") if c.get("provisional") else "",
            }
        )
    return pd.DataFrame(rows)


def show_person(detail: dict[str, Any], *, key: str, can_dispute: bool = False) -> None:
    """The whole explanation of one person's score for one period."""
    score = detail.get("score")
    period = detail.get("period") or {}
    if score is None:
        st.info(t("perf.no_score", period=period.get("label") or period.get("key") or ""))
    else:
        st.subheader(f"{score['name']} ({score['employee_no']})")
        cols = st.columns(4)
        cols[0].metric(t("col.score"), score_text(score), help=t("perf.score_help"))
        cols[1].metric(t("col.interval"), interval_text(score) or "—")
        cols[2].metric(t("col.observations"), score.get("n_observations", 0))
        rank = score.get("rank_outlet")
        cols[3].metric(
            t("col.rank_outlet"),
            f"{rank} / {score.get('outlet_size')}" if rank else "—",
        )
        if score.get("provisional"):
            st.warning(t("perf.provisional_note"), icon=":material/hourglass_empty:")

    trend, parts = st.columns(2)
    with trend:
        st.markdown(f"**{t('perf.trend')}**")
        points = pd.DataFrame(
            [
                {
                    "period": p["period"],
                    "score": pct(p["score"]),
                    "low": pct(p["low"]),
                    "high": pct(p["high"]),
                }
                for p in detail.get("trend") or []
            ],
            columns=["period", "score", "low", "high"],
        )
        if points.dropna(subset=["score"]).empty:
            st.caption(t("perf.no_trend"))
        else:
            charts.show(charts.trend(points))
    with parts:
        st.markdown(f"**{t('perf.decomposition')}**")
        if score is not None:
            table = component_rows(score["components"])
            present = table.dropna(subset=["score"])
            if not present.empty:
                charts.show(charts.components(present))
            st.dataframe(
                table,
                hide_index=True,
                placeholder="—",
                width="stretch",
                column_config={
                    "component": t("col.component"),
                    "score": st.column_config.NumberColumn(t("col.score"), format="%.1f"),
                    "low": st.column_config.NumberColumn(t("col.low"), format="%.1f"),
                    "high": st.column_config.NumberColumn(t("col.high"), format="%.1f"),
                    "raw": st.column_config.NumberColumn(t("col.raw"), format="%.1f"),
                    "n": st.column_config.NumberColumn(t("col.observations"), format="%.0f"),
                    "provisional": t("col.provisional"),
                },
            )
    _records(detail.get("records") or [], key=key, can_dispute=can_dispute)


def _records(records: list[dict[str, Any]], *, key: str, can_dispute: bool) -> None:
    st.markdown(f"**{t('perf.records')}**")
    if not records:
        st.caption(t("perf.no_records"))
        return
    findings_only = st.toggle(t("perf.findings_only"), value=True, key=f"{key}_findings")
    shown = [r for r in records if r.get("finding")] if findings_only else records
    rows = [
        {
            "at": local_text(r["at"], data.outlet_timezone(r.get("outlet_id"))),
            "component": t("component." + r["component"]) if r.get("component") else "",
            "source": t("source." + r["source_kind"]),
            "finding": bool(r.get("finding")),
            "observed": r.get("observed"),
            "good": r.get("good"),
            "detail": r.get("detail") or "",
            "excluded": bool(r.get("excluded")),
            "dispute": t("dispute." + r["dispute"]["status"]) if r.get("dispute") else "",
            "link": r.get("link") or "",
        }
        for r in shown
    ]
    st.caption(t("perf.records_count", shown=len(shown), total=len(records)))
    if not rows:
        return
    st.dataframe(
        pd.DataFrame(rows),
        hide_index=True,
        placeholder="—",
        width="stretch",
        column_config={
            "at": t("col.when"),
            "component": t("col.component"),
            "source": t("col.source"),
            "finding": t("col.finding"),
            "observed": st.column_config.NumberColumn(t("col.observed"), format="%.1f"),
            "good": st.column_config.NumberColumn(t("col.good"), format="%.1f"),
            "detail": t("col.detail"),
            "excluded": t("col.excluded"),
            "dispute": t("col.dispute"),
            "link": t("col.link"),
        },
    )
    by_id = {r["id"]: r for r in shown}
    chosen = pick(
        st,
        t("perf.open_record"),
        {i: _record_label(r) for i, r in by_id.items()},
        key=f"{key}_record",
    )
    record = by_id[chosen]
    audit_id = record.get("audit_id") or _audit_from_link(record.get("link"))
    if (
        audit_id
        and data.can("audit:read")
        and st.button(t("audits.open"), key=f"{key}_audit", icon=":material/fact_check:")
    ):
        st.session_state[AUDIT_KEY] = audit_id
        st.switch_page("screens/audits.py")
    if record.get("evidence_id"):
        evidence.gallery([record["evidence_id"]], key=f"{key}_ev_{chosen}")
    if can_dispute and record["source_kind"] in DISPUTABLE and not record.get("dispute"):
        _dispute_form(record, key=key)


def _record_label(record: dict[str, Any]) -> str:
    at = local_text(record["at"], data.outlet_timezone(record.get("outlet_id")))
    return f"{at} · {t('source.' + record['source_kind'])} · {record.get('link') or ''}".strip()


def _audit_from_link(link: str | None) -> int | None:
    # "/api/v1/audits/12" → 12: the record names its audit only through the link.
    if not link or "/audits/" not in link:
        return None
    tail = link.rsplit("/audits/", 1)[1].split("/")[0].split("#")[0]
    return int(tail) if tail.isdigit() else None


def _dispute_form(record: dict[str, Any], *, key: str) -> None:
    with st.form(f"{key}_dispute_{record['id']}", border=True):
        st.markdown(f"**{t('dispute.title')}**")
        comment = st.text_area(t("dispute.comment"), key=f"{key}_dispute_text", max_chars=4000)
        sent = st.form_submit_button(t("dispute.submit"))
    if not sent:
        return
    if not comment.strip():
        st.error(t("dispute.comment_needed"))
        return
    try:
        data.change(
            "POST",
            "/performance/disputes",
            {
                "source_kind": record["source_kind"],
                "source_id": str(record["source_id"]),
                "comment": comment.strip(),
            },
        )
    except ApiError as exc:
        show(exc)
        return
    st.success(t("dispute.sent"))
