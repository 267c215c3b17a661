"""Live overview (supervisor): every outlet in scope, worst first, refreshing itself.

Only the fragment re-runs every few seconds (``st.fragment(run_every=...)``): the page around
it, and the other pages, stay as they are. One table holds every outlet, so 500 outlets cost
one dataframe, not 500 blocks of widgets; the selected outlet gets the per-counter detail.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from dashboard import data, live, settings
from dashboard.formatting import duration, local_text
from dashboard.i18n import t
from dashboard.views.choices import pick
from dashboard.views.errors import shown_errors

OUTLET_KEY = "outlet_id"  # the outlet the Outlet detail page opens with


def render() -> None:
    st.title(t("page.overview"))
    refresh_s = settings.current().dashboard_live_refresh_s
    st.caption(t("overview.caption", seconds=int(refresh_s)))
    st.fragment(live_tiles, run_every=refresh_s)()


def live_tiles() -> None:
    with shown_errors():
        view = data.read("/vision/live", live=True)
        outlet_info = data.outlets_by_id()
        region_codes = {r["id"]: r["code"] for r in data.regions()}
        show_live(view, outlet_info, region_codes)


def show_live(
    view: dict[str, Any], outlet_info: dict[int, dict[str, Any]], region_codes: dict[int, str]
) -> None:
    """The whole overview from a live payload; also what ``python -m dashboard.bench`` times."""
    outlets = view["outlets"]
    if not outlets:
        st.info(t("overview.empty"))
        return
    _totals(outlets)

    left, right = st.columns([3, 1], vertical_alignment="bottom")
    search = left.text_input(
        t("overview.search"), key="overview_search", placeholder=t("overview.search_hint")
    )
    problems_only = right.toggle(t("overview.problems_only"), key="overview_problems")
    shown = [o for o in outlets if _matches(o, search, problems_only)]

    table = live.overview_table(shown, outlet_info, region_codes)
    st.dataframe(
        table,
        hide_index=True,
        placeholder="—",
        width="stretch",
        height=min(38 + 35 * len(table), 520),
        column_config={
            "outlet": st.column_config.TextColumn(t("col.outlet"), width="medium"),
            "region": st.column_config.TextColumn(t("col.region"), width="small"),
            "status": st.column_config.TextColumn(t("col.status")),
            "unattended": st.column_config.NumberColumn(
                t("col.unattended"), help=t("overview.unattended_help")
            ),
            "attended": st.column_config.NumberColumn(t("col.attended")),
            "counters": st.column_config.NumberColumn(t("col.counters")),
            "unattended_now": st.column_config.TextColumn(t("col.unattended_for"), width="medium"),
            "queue": st.column_config.NumberColumn(t("col.queue"), format="%.1f"),
            "wait_min": st.column_config.NumberColumn(t("col.wait_min"), format="%.1f"),
            "alerts": st.column_config.NumberColumn(t("col.open_alerts")),
            "cameras": st.column_config.TextColumn(t("col.cameras")),
        },
    )
    st.caption(
        t("overview.generated", count=len(shown), total=len(outlets))
        + " · "
        + t("overview.updated", time=local_text(view["generated_at"], _any_tz(outlet_info)))
    )
    if shown:
        _outlet_detail(shown, outlet_info)


def _totals(outlets: list[dict[str, Any]]) -> None:
    figures = live.totals(outlets)
    cols = st.columns(5)
    cols[0].metric(t("kpi.outlets"), figures["outlets"])
    cols[1].metric(
        t("kpi.counters_unattended"),
        f"{figures['counters_unattended']} / {figures['counters']}",
        help=t("kpi.outlets_unattended", n=figures["outlets_unattended"]),
    )
    cols[2].metric(t("kpi.open_alerts"), figures["alerts"])
    cols[3].metric(t("kpi.camera_problems"), figures["camera_problems"])
    cols[4].metric(t("kpi.longest_wait"), duration(figures["longest_wait_s"]) or "—")


def _matches(outlet: dict[str, Any], search: str, problems_only: bool) -> bool:
    if problems_only and not (
        outlet["unattended"] or outlet["open_alerts"] or outlet["camera_problems"]
    ):
        return False
    needle = search.strip().lower()
    return not needle or needle in outlet["code"].lower() or needle in outlet["name"].lower()


def _any_tz(outlet_info: dict[int, dict[str, Any]]) -> str:
    zones = {o["timezone"] for o in outlet_info.values()}
    return zones.pop() if len(zones) == 1 else settings.current().dashboard_timezone


def _outlet_detail(shown: list[dict[str, Any]], outlet_info: dict[int, dict[str, Any]]) -> None:
    by_id = {o["outlet_id"]: o for o in shown}
    st.subheader(t("overview.detail"))
    where, go = st.columns([3, 1], vertical_alignment="bottom")
    chosen = pick(
        where,
        t("col.outlet"),
        {i: f"{o['code']} · {o['name']}" for i, o in by_id.items()},
        key="overview_outlet",
    )
    outlet = by_id[chosen]
    if go.button(t("overview.open_outlet"), icon=":material/open_in_new:", key="overview_go"):
        st.session_state[OUTLET_KEY] = chosen
        st.switch_page("screens/outlet.py")

    tz = outlet_info.get(chosen, {}).get("timezone") or settings.current().dashboard_timezone
    st.caption(t("common.local_time", tz=tz))
    st.dataframe(
        live.counters_table(outlet, tz),
        hide_index=True,
        placeholder="—",
        width="stretch",
        column_config={
            "counter": t("col.counter"),
            "state": t("col.state"),
            "since": t("col.since"),
            "for": t("col.for"),
            "staff": st.column_config.NumberColumn(t("col.staff_seen")),
            "queue": st.column_config.NumberColumn(t("col.queue"), format="%.1f"),
            "wait": t("col.wait"),
            "alerts": st.column_config.NumberColumn(t("col.open_alerts")),
        },
    )
    alerts, cameras = st.columns(2)
    with alerts:
        st.markdown(f"**{t('overview.alerts')}**")
        table = live.alerts_table(outlet, tz)
        if table.empty:
            st.caption(t("overview.no_alerts"))
        else:
            st.dataframe(
                table,
                hide_index=True,
                placeholder="—",
                width="stretch",
                column_config={
                    "kind": t("col.kind"),
                    "counter": t("col.counter"),
                    "camera": t("col.camera"),
                    "started": t("col.started"),
                },
            )
    with cameras:
        st.markdown(f"**{t('overview.camera_health')}**")
        rows = [
            {
                "camera": c["camera_code"],
                "status": live.camera_status(c),
                "fps": _fps_text(c),
                "seen": local_text(c["last_seen_at"], tz),
            }
            for c in outlet["cameras"]
        ]
        st.dataframe(
            pd.DataFrame(rows, columns=["camera", "status", "fps", "seen"]),
            hide_index=True,
            placeholder="—",
            width="stretch",
            column_config={
                "camera": t("col.camera"),
                "status": t("col.status"),
                "fps": t("col.fps"),
                "seen": t("col.last_seen"),
            },
        )


def _fps_text(camera: dict[str, Any]) -> str:
    achieved, configured = camera.get("achieved_fps"), camera.get("configured_fps")
    if achieved is None or configured is None:
        return ""
    return f"{achieved:.1f} / {configured:.1f}"


if __name__ == "__main__":
    render()
