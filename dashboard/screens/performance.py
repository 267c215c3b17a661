"""Staff performance (HR, supervisors): a period's ranking with intervals and provisional
flags, the spread of scores, one person's explanation, and the API's CSV/XLSX exports.

Scores, intervals, ranks and the provisional flag are the API's (docs/performance.md);
nothing is recomputed here.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from dashboard import data
from dashboard.api import ApiError
from dashboard.formatting import local_text
from dashboard.i18n import t
from dashboard.views import charts
from dashboard.views.choices import outlet_labels, pick
from dashboard.views.errors import show
from dashboard.views.periods import period_picker
from dashboard.views.person import interval_text, pct, show_person

LEVELS = ("staff", "team", "outlet")


def render() -> None:
    st.title(t("page.performance"))
    period = period_picker("perf")
    if period is None:
        return
    level, outlet_id, region_id = _filters()
    page = data.read(
        "/performance/scores",
        period=period["key"],
        level=level,
        outlet_id=outlet_id,
        region_id=region_id,
        limit=10_000,
    )
    items = page["items"]
    computed = (page.get("period") or {}).get("computed_at")
    st.caption(
        t("perf.summary", n=page["total"], period=period["label"])
        + (
            " · " + t("perf.computed", when=local_text(computed, data.outlet_timezone(None)))
            if computed
            else ""
        )
    )
    _exports(period["key"])
    if not items:
        st.info(t("perf.no_scores"))
        return
    table = ranking(items, level)
    st.dataframe(
        table,
        hide_index=True,
        placeholder="—",
        width="stretch",
        column_config={
            "rank": st.column_config.NumberColumn(t("col.rank")),
            "name": t("col.name"),
            "outlet": t("col.outlet"),
            "team": t("col.team"),
            "score": st.column_config.ProgressColumn(
                t("col.score"), min_value=0, max_value=100, format="%.1f"
            ),
            "interval": t("col.interval"),
            "audit": st.column_config.NumberColumn(t("component.audit"), format="%.1f"),
            "attendance": st.column_config.NumberColumn(t("component.attendance"), format="%.1f"),
            "queue": st.column_config.NumberColumn(t("component.queue"), format="%.1f"),
            "n": st.column_config.NumberColumn(t("col.observations")),
            "provisional_text": t("col.provisional"),
            "percentile": st.column_config.NumberColumn(t("col.percentile"), format="%.0f"),
        },
        column_order=[
            c
            for c in (
                "rank",
                "name",
                "outlet",
                "team",
                "score",
                "interval",
                "audit",
                "attendance",
                "queue",
                "n",
                "provisional_text",
                "percentile",
            )
            if c in table.columns
        ],
    )
    scored = table.dropna(subset=["score"])
    if not scored.empty:
        spread, intervals = st.columns(2)
        with spread:
            st.markdown(f"**{t('perf.distribution')}**")
            charts.show(charts.score_distribution(scored))
        with intervals:
            st.markdown(f"**{t('perf.intervals')}**")
            charts.show(charts.score_intervals(scored.head(40)))
    if level == "staff":
        _person(items, period["key"])


def _filters() -> tuple[str, int | None, int | None]:
    level_col, outlet_col, region_col = st.columns(3)
    level = pick(level_col, t("perf.level"), {v: t("level." + v) for v in LEVELS}, key="perf_level")
    everything = t("common.all")
    outlet_id = pick(
        outlet_col,
        t("col.outlet"),
        outlet_labels(data.outlets_by_id(), everything=everything),
        key="perf_outlet",
    )
    region_id = pick(
        region_col,
        t("col.region"),
        outlet_labels({r["id"]: r for r in data.regions()}, everything=everything),
        key="perf_region",
    )
    return level, outlet_id, region_id


def ranking(items: list[dict[str, Any]], level: str) -> pd.DataFrame:
    """The API's rows, best first as it sends them, with 0-100 scores."""
    rows = []
    for n, row in enumerate(items, start=1):
        components = row.get("components") or {}
        rows.append(
            {
                "staff_id": row.get("staff_id"),
                "rank": row.get("rank_region") or row.get("rank") or n,
                "name": _name(row, level),
                "outlet": row.get("outlet_code") or row.get("outlet") or "",
                "team": row.get("team") or "",
                "score": pct(row.get("score")),
                "low": pct(row.get("low")),
                "high": pct(row.get("high")),
                "interval": interval_text(row),
                "audit": pct((components.get("audit") or {}).get("score")),
                "attendance": pct((components.get("attendance") or {}).get("score")),
                "queue": pct((components.get("queue") or {}).get("score")),
                "n": row.get("n_observations"),
                "provisional": bool(row.get("provisional")),
                "provisional_text": t("perf.provisional")
                if row.get("provisional")
                else t("perf.settled"),
                "percentile": pct(row.get("percentile_region")),
            }
        )
    table = pd.DataFrame(rows)
    if level != "staff":
        table = table.drop(columns=["team", "percentile"])
    return table


def _name(row: dict[str, Any], level: str) -> str:
    if level == "outlet":
        return f"{row.get('outlet_code') or ''} {row.get('outlet') or ''}".strip()
    number = row.get("employee_no")
    return f"{row.get('name') or ''} ({number})" if number else str(row.get("name") or "")


def _exports(period_key: str) -> None:
    if not data.can("score:export"):
        return
    csv_col, xlsx_col, _ = st.columns([1, 1, 4])
    try:
        csv = data.download("/performance/exports/scores.csv", period=period_key)
        xlsx = data.download("/performance/exports/scores.xlsx", period=period_key)
    except ApiError as exc:
        show(exc)
        return
    csv_col.download_button(
        t("perf.export_csv"),
        data=csv,
        file_name=f"scores-{period_key}.csv",
        mime="text/csv",
        icon=":material/download:",
        key="perf_csv",
        on_click="ignore",
    )
    xlsx_col.download_button(
        t("perf.export_xlsx"),
        data=xlsx,
        file_name=f"scores-{period_key}.xlsx",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        icon=":material/download:",
        key="perf_xlsx",
        on_click="ignore",
    )


def _person(items: list[dict[str, Any]], period_key: str) -> None:
    st.divider()
    people = {r["staff_id"]: r for r in items if r.get("staff_id")}
    if not people:
        return
    chosen = pick(
        st,
        t("perf.person"),
        {i: f"{p['name']} ({p['employee_no']})" for i, p in people.items()},
        key="perf_person",
    )
    detail = data.read(f"/performance/staff/{chosen}", period=period_key)
    show_person(detail, key="perf_detail")


if __name__ == "__main__":
    render()
