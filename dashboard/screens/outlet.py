"""Outlet detail: one outlet's chosen day against its opening hours and roster.

Queue length and wait over the day (``/vision/queue-samples``), attendance per counter (the
cameras' ``counter_unattended`` findings beside the roster's shifts), the findings with their
snapshots (opened with a logged purpose), and the latest audits.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pandas as pd
import streamlit as st

from dashboard import data, outlet_day
from dashboard.formatting import day_bounds, duration, local_text, today_in
from dashboard.i18n import t
from dashboard.views import charts, evidence
from dashboard.views.audit_list import audits_table, open_audit_button
from dashboard.views.choices import outlet_labels
from dashboard.views.choices import pick as choose

OUTLET_KEY = "outlet_id"  # set by the overview's "open outlet" button
PICK_KEY = "outlet_pick"


def render() -> None:
    st.title(t("page.outlet"))
    outlets = {o["id"]: o for o in data.outlets()}
    if not outlets:
        st.info(t("outlet.none"))
        return
    if OUTLET_KEY in st.session_state:
        st.session_state[PICK_KEY] = st.session_state.pop(OUTLET_KEY)
    if st.session_state.get(PICK_KEY) not in outlets:
        # First visit: open on the outlet the live view ranks worst.
        st.session_state.pop(PICK_KEY, None)
        worst = [o["outlet_id"] for o in data.read("/vision/live", live=True)["outlets"]]
        first = next((i for i in worst if i in outlets), None)
        if first is not None:
            st.session_state[PICK_KEY] = first

    where, when = st.columns([3, 1])
    outlet_id = choose(where, t("col.outlet"), outlet_labels(outlets), key=PICK_KEY)
    outlet = outlets[outlet_id]
    tz = outlet["timezone"]
    day = when.date_input(t("outlet.day"), value=today_in(tz), key="outlet_day")

    exceptions = data.read(
        f"/outlets/{outlet_id}/hours-exceptions", start=day.isoformat(), end=day.isoformat()
    )
    intervals, exception = outlet_day.day_hours(outlet, exceptions, day)
    note = f" · {exception['note']}" if exception and exception.get("note") else ""
    st.caption(t("outlet.hours_line", hours=outlet_day.hours_text(intervals), tz=tz) + note)

    counters = data.read(f"/outlets/{outlet_id}/counters")
    codes = {c["id"]: c["code"] for c in counters}
    window = day_bounds(day, tz)
    hours = outlet_day.hours_rows(intervals, day)
    events = data.read_all(
        "/vision/events",
        outlet_id=outlet_id,
        start=window[0].isoformat(),
        end=window[1].isoformat(),
    )

    queue_tab, attendance_tab, events_tab, audits_tab = st.tabs(
        [
            t("outlet.tab_queue"),
            t("outlet.tab_attendance"),
            t("outlet.tab_events"),
            t("outlet.tab_audits"),
        ]
    )
    with queue_tab:
        _queue(outlet_id, codes, tz, day, window, hours)
    with attendance_tab:
        _attendance(outlet_id, counters, codes, events, tz, day, window, hours)
    with events_tab:
        _events(events, codes, tz)
    with audits_tab:
        _audits(outlet_id, tz)


def _queue(
    outlet_id: int,
    codes: dict[int, str],
    tz: str,
    day: date,
    window: tuple[datetime, datetime],
    hours: pd.DataFrame,
) -> None:
    samples = data.read_all(
        "/vision/queue-samples",
        page_size=10_000,
        outlet_id=outlet_id,
        start=window[0].isoformat(),
        end=window[1].isoformat(),
    )
    if not samples:
        st.info(t("outlet.no_samples"))
        return
    rows = outlet_day.queue_rows(samples, codes, tz)
    span = outlet_day.view_span(day, hours["start"], hours["end"], rows["at"])
    st.markdown(f"**{t('outlet.queue_length')}**")
    charts.show(charts.queue_timeline(rows, hours, span, "queue", t("col.queue")))
    st.markdown(f"**{t('outlet.wait')}**")
    waits = rows.dropna(subset=["wait_min"])
    if waits.empty:
        st.caption(t("outlet.no_wait"))
    else:
        charts.show(charts.queue_timeline(waits, hours, span, "wait_min", t("col.wait_min")))
    st.caption(t("outlet.samples", n=len(rows)))


def _attendance(
    outlet_id: int,
    counters: list[dict[str, Any]],
    codes: dict[int, str],
    events: list[dict[str, Any]],
    tz: str,
    day: date,
    window: tuple[datetime, datetime],
    hours: pd.DataFrame,
) -> None:
    shifts: list[dict[str, Any]] = []
    names: dict[int, str] = {}
    if data.can("roster:read"):
        shifts = data.read(
            "/shifts",
            outlet_id=outlet_id,
            start=window[0].isoformat(),
            end=window[1].isoformat(),
            limit=5000,
        )
    else:
        st.caption(t("outlet.no_roster_permission"))
    if data.can("staff:read"):
        names = {s["id"]: s["name"] for s in data.read("/staff", outlet_id=outlet_id)}
    now = datetime.now(UTC)
    bars = outlet_day.attendance_rows(events, shifts, codes, names, tz, window, now)
    if bars.empty:
        st.info(t("outlet.no_attendance"))
    else:
        span = outlet_day.view_span(day, hours["start"], hours["end"], bars["start"], bars["end"])
        charts.show(charts.attendance_timeline(bars, hours, span))
    st.dataframe(
        outlet_day.attendance_summary(events, counters, window, now),
        hide_index=True,
        placeholder="—",
        width="stretch",
        column_config={
            "counter": t("col.counter"),
            "spells": st.column_config.NumberColumn(t("col.unattended_spells")),
            "unattended": t("col.unattended_total"),
        },
    )


def _events(events: list[dict[str, Any]], codes: dict[int, str], tz: str) -> None:
    if not events:
        st.info(t("outlet.no_events"))
        return
    st.caption(t("common.local_time", tz=tz))
    st.dataframe(
        outlet_day.events_table(events, codes, tz),
        hide_index=True,
        placeholder="—",
        width="stretch",
        column_config={
            "kind": t("col.kind"),
            "counter": t("col.counter"),
            "camera": t("col.camera"),
            "started": t("col.started"),
            "ended": t("col.ended"),
            "duration": t("col.duration"),
            "snapshot": t("col.snapshot"),
        },
    )
    with_snapshot = [e for e in events if e["evidence_id"]]
    if not with_snapshot:
        st.caption(t("outlet.no_snapshots"))
        return
    by_id = {e["id"]: e for e in with_snapshot}
    chosen = choose(
        st,
        t("outlet.snapshot_of"),
        {i: _event_label(e, codes, tz) for i, e in by_id.items()},
        key="outlet_event",
    )
    event = by_id[chosen]
    evidence.gallery(
        [event["evidence_id"]], key=f"event_{chosen}", captions=[_event_label(event, codes, tz)]
    )


def _event_label(event: dict[str, Any], codes: dict[int, str], tz: str) -> str:
    counter = codes.get(event["counter_id"], "") if event["counter_id"] else event["camera_code"]
    length = (
        duration(event["duration_s"]) if event["duration_s"] is not None else t("outlet.ongoing")
    )
    return (
        f"{local_text(event['started_at'], tz, with_date=False)} · {t('event.' + event['kind'])}"
        f" · {counter} · {length}"
    )


def _audits(outlet_id: int, tz: str) -> None:
    if not data.can("audit:read"):
        st.caption(t("outlet.no_audit_permission"))
        return
    page = data.read("/audits", outlet_id=outlet_id, limit=10)
    if not page["items"]:
        st.info(t("audits.none"))
        return
    st.dataframe(audits_table(page["items"]), hide_index=True, placeholder="—", width="stretch")
    open_audit_button(page["items"], key="outlet_audit")


if __name__ == "__main__":
    render()
