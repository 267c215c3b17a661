"""The live view (``GET /api/v1/vision/live``) as rows for the screen. Plain functions.

The API decides the order (worst first) and every figure; these functions only pick, join
outlet names and time zones, and format.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from dashboard.formatting import duration, local_text
from dashboard.i18n import t


def outlet_status(outlet: dict[str, Any]) -> str:
    """One word for the outlet's worst problem, in the API's order of badness."""
    if outlet["unattended"]:
        return t("status.unattended")
    if outlet["open_alerts"]:
        return t("status.alerts")
    if outlet["camera_problems"]:
        return t("status.cameras")
    return t("status.ok")


def _max(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return max(present) if present else None


def _cameras_text(cameras: list[dict[str, Any]]) -> str:
    if not cameras:
        return "—"
    online = sum(1 for c in cameras if c.get("online") and not c.get("stale"))
    return t("overview.cameras_online", online=online, total=len(cameras))


def overview_table(
    outlets: list[dict[str, Any]],
    outlet_info: dict[int, dict[str, Any]],
    region_codes: dict[int, str],
) -> pd.DataFrame:
    """One row per outlet of the live view, in the API's order (worst first)."""
    rows = []
    for o in outlets:
        info = outlet_info.get(o["outlet_id"], {})
        counters = o["counters"]
        unattended = [c for c in counters if c["state"] == "unattended"]
        rows.append(
            {
                "outlet_id": o["outlet_id"],
                "outlet": f"{o['code']} · {o['name']}",
                "region": region_codes.get(info.get("region_id", 0), ""),
                "status": outlet_status(o),
                "unattended": len(unattended),
                "attended": sum(1 for c in counters if c["state"] == "attended"),
                "counters": len(counters),
                "unattended_now": ", ".join(
                    f"{c['code']} {duration(c['for_s'])}".strip() for c in unattended
                ),
                "queue": _max([c["queue_length"] for c in counters]),
                "wait_min": _minutes(_max([c["wait_s"] for c in counters])),
                "alerts": o["open_alerts"],
                "cameras": _cameras_text(o["cameras"]),
            }
        )
    columns = [
        "outlet_id",
        "outlet",
        "region",
        "status",
        "unattended",
        "attended",
        "counters",
        "unattended_now",
        "queue",
        "wait_min",
        "alerts",
        "cameras",
    ]
    return pd.DataFrame(rows, columns=columns).set_index("outlet_id")


def _minutes(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 60, 1)


def totals(outlets: list[dict[str, Any]]) -> dict[str, Any]:
    """The figures above the table: what needs attention across every outlet in view."""
    counters = [c for o in outlets for c in o["counters"]]
    return {
        "outlets": len(outlets),
        "outlets_unattended": sum(1 for o in outlets if o["unattended"]),
        "counters_unattended": sum(1 for c in counters if c["state"] == "unattended"),
        "counters": len(counters),
        "alerts": sum(o["open_alerts"] for o in outlets),
        "camera_problems": sum(o["camera_problems"] for o in outlets),
        "longest_wait_s": _max([c["wait_s"] for c in counters]),
    }


def counters_table(outlet: dict[str, Any], tz: str) -> pd.DataFrame:
    """The outlet's counters, worst first: state, since when (outlet time), queue, wait."""
    rows = [
        {
            "counter": f"{c['code']} · {c['name']}",
            "state": t("state." + c["state"]),
            "since": local_text(c["since"], tz, with_date=False),
            "for": duration(c["for_s"]),
            "staff": c["staff_count"],
            "queue": c["queue_length"],
            "wait": duration(c["wait_s"]),
            "alerts": c["open_alerts"],
        }
        for c in outlet["counters"]
    ]
    return pd.DataFrame(
        rows, columns=["counter", "state", "since", "for", "staff", "queue", "wait", "alerts"]
    )


def alerts_table(outlet: dict[str, Any], tz: str) -> pd.DataFrame:
    codes = {c["counter_id"]: c["code"] for c in outlet["counters"]}
    rows = [
        {
            "kind": t("event." + a["kind"]),
            "counter": codes.get(a["counter_id"], "") if a["counter_id"] else "",
            "camera": a["camera_code"],
            "started": local_text(a["started_at"], tz),
        }
        for a in outlet["alerts"]
    ]
    return pd.DataFrame(rows, columns=["kind", "counter", "camera", "started"])


def camera_status(camera: dict[str, Any]) -> str:
    """online / offline / stale / never reported, and behind when it misses its fps."""
    if not camera.get("reported"):
        return t("camera.never")
    if camera.get("stale"):
        return t("camera.stale")
    if not camera.get("online"):
        return t("camera.offline")
    if camera.get("behind"):
        return t("camera.behind")
    return t("camera.online")
