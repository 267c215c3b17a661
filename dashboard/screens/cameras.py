"""Cameras: online or not, achieved against configured analysis fps, and a camera's zones
drawn over its latest snapshot (or over a blank frame when there is none, which it says).

Health is ``GET /vision/cameras/health`` (worst first); zones ``GET /cameras/{id}/zones``.
The latest snapshot is the newest evidence item whose source is ``camera:<code>``; opening
it mints a logged view URL, so the purpose is asked first.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from dashboard import data, frames, live
from dashboard.api import ApiError
from dashboard.formatting import duration, local_text
from dashboard.i18n import t
from dashboard.views import charts, evidence
from dashboard.views.choices import pick
from dashboard.views.errors import show

SNAPSHOTS_KEY = "camera_snapshots"  # evidence id -> bytes fetched in this session
EVIDENCE_SCAN = 200  # newest evidence items of the outlet searched for the camera's snapshot


def render() -> None:
    st.title(t("page.cameras"))
    outlets = data.outlets_by_id()
    health = data.read("/vision/cameras/health", live=True)
    if health:
        _health(health, outlets)
    else:
        st.info(t("cameras.none_active"))
    cameras = data.read("/cameras")
    if not cameras:
        return
    st.divider()
    _zones(cameras, outlets, health)


def _health(health: list[dict[str, Any]], outlets: dict[int, dict[str, Any]]) -> None:
    online = sum(1 for c in health if c["online"] and not c["stale"])
    cols = st.columns(4)
    cols[0].metric(t("cameras.active"), len(health))
    cols[1].metric(t("camera.online"), online)
    cols[2].metric(t("cameras.problems"), len(health) - online)
    cols[3].metric(t("camera.behind"), sum(1 for c in health if c["behind"]))
    rows = []
    for c in health:
        tz = data.outlet_timezone(c["outlet_id"])
        outlet = outlets.get(c["outlet_id"])
        rows.append(
            {
                "outlet": outlet["code"] if outlet else str(c["outlet_id"]),
                "camera": c["camera_code"],
                "name": c["camera_name"],
                "status": live.camera_status(c),
                "achieved": c["achieved_fps"],
                "configured": c["configured_fps"],
                "seen": local_text(c["last_seen_at"], tz),
                "ago": duration(c["seconds_since_seen"]),
                "read": c["frames_read"],
                "analysed": c["frames_analysed"],
            }
        )
    table = pd.DataFrame(rows)
    st.caption(t("common.outlet_local_times"))
    st.dataframe(
        table,
        hide_index=True,
        placeholder="—",
        width="stretch",
        column_config={
            "outlet": t("col.outlet"),
            "camera": t("col.camera"),
            "name": t("col.name"),
            "status": t("col.status"),
            "achieved": st.column_config.NumberColumn(t("cameras.achieved"), format="%.2f"),
            "configured": st.column_config.NumberColumn(t("cameras.configured"), format="%.2f"),
            "seen": t("col.last_seen"),
            "ago": t("col.ago"),
            "read": st.column_config.NumberColumn(t("col.frames_read")),
            "analysed": st.column_config.NumberColumn(t("col.frames_analysed")),
        },
    )
    reported = table.dropna(subset=["achieved", "configured"])
    if not reported.empty:
        st.markdown(f"**{t('cameras.fps_chart')}**")
        charts.show(charts.fps(reported))


def _zones(
    cameras: list[dict[str, Any]],
    outlets: dict[int, dict[str, Any]],
    health: list[dict[str, Any]],
) -> None:
    st.subheader(t("cameras.zones_title"))
    by_id = {c["id"]: c for c in cameras}
    # Worst first, as the health list orders them; cameras without health (inactive) last.
    order = [h["camera_id"] for h in health if h["camera_id"] in by_id]
    order += [i for i in by_id if i not in order]
    chosen = pick(
        st,
        t("col.camera"),
        {i: f"{by_id[i]['code']} · {by_id[i]['name']}" for i in order},
        key="cameras_pick",
    )
    camera = by_id[chosen]
    zones = data.read(f"/cameras/{chosen}/zones")
    counters = {c["id"]: c["code"] for c in data.read(f"/outlets/{camera['outlet_id']}/counters")}
    tz = data.outlet_timezone(camera["outlet_id"])
    snapshot = _latest_snapshot(camera)

    picture, legend = st.columns([3, 2])
    with picture:
        image, caption = _frame(camera, snapshot, tz)
        st.image(frames.draw_zones(image, zones, counters), caption=caption, width="stretch")
        if snapshot is not None and evidence.minted(snapshot["id"]) is None:
            if not evidence.can_view():
                st.caption(t("evidence.no_permission"))
            else:
                purpose = evidence.purpose_prompt(f"camera_{chosen}", 1)
                if purpose is not None:
                    try:
                        evidence.mint(snapshot["id"], purpose)
                    except ApiError as exc:
                        show(exc)
                    else:
                        st.rerun()
    with legend:
        st.markdown(
            t(
                "cameras.settings",
                fps=camera["analysis_fps"],
                active=t("common.yes") if camera["active"] else t("common.no"),
                blur=t("common.yes") if camera["blur_faces"] else t("common.no"),
            )
        )
        st.dataframe(_zone_rows(zones, counters), hide_index=True, placeholder="—", width="stretch")


def _latest_snapshot(camera: dict[str, Any]) -> dict[str, Any] | None:
    page = data.read("/evidence", outlet_id=camera["outlet_id"], limit=EVIDENCE_SCAN)
    source = f"camera:{camera['code']}"
    return next((e for e in page["items"] if e["source"] == source), None)


def _frame(camera: dict[str, Any], snapshot: dict[str, Any] | None, tz: str) -> tuple[Any, str]:
    """The picture to draw on and what to say about it."""
    if snapshot is None:
        width, height = frames.DEFAULT_SIZE
        return frames.blank_frame(), t("cameras.no_snapshot", width=width, height=height)
    size = (
        snapshot["width"] or frames.DEFAULT_SIZE[0],
        snapshot["height"] or frames.DEFAULT_SIZE[1],
    )
    taken = local_text(snapshot["created_at"], tz)
    url = evidence.minted(snapshot["id"])
    if url is None:
        return frames.blank_frame(size), t(
            "cameras.snapshot_closed", width=size[0], height=size[1], when=taken
        )
    store = st.session_state.setdefault(SNAPSHOTS_KEY, {})
    if snapshot["id"] not in store:
        store[snapshot["id"]] = data.fetch_url(url)
    return frames.open_image(store[snapshot["id"]]), t(
        "cameras.snapshot", when=taken, caption=snapshot["caption"] or camera["code"]
    )


def _zone_rows(zones: list[dict[str, Any]], counters: dict[int, str]) -> pd.DataFrame:
    rows = [
        {
            t("col.zone"): z["code"],
            t("col.kind"): t("zone." + z["kind"]),
            t("col.counter"): counters.get(z["counter_id"], str(z["counter_id"])),
            t("col.threshold"): t("cameras.counter_rule", s=z["unattended_after_s"])
            if z["kind"] == "counter"
            else t("cameras.queue_rule", n=z["max_queue"], s=z["wait_sla_s"]),
        }
        for z in zones
    ]
    return pd.DataFrame(rows)


if __name__ == "__main__":
    render()
