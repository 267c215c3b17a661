"""Choosing a scoring period (week, month or quarter), from the API's own list."""

from __future__ import annotations

from typing import Any

import streamlit as st

from dashboard import data
from dashboard.i18n import t
from dashboard.views.choices import pick

KINDS = ("week", "month", "quarter")


def period_picker(key: str) -> dict[str, Any] | None:
    """The chosen period ``{kind, key, label, start, end}`` (this month by default)."""
    kind_col, period_col = st.columns([1, 2])
    kind = pick(
        kind_col,
        t("perf.period_kind"),
        {k: t("period." + k) for k in KINDS},
        widget="segmented_control",
        default="month",
        required=True,
        key=f"{key}_kind",
    )
    periods = data.read("/performance/periods", kind=kind or "month", count=12)
    if not periods:
        st.info(t("perf.no_periods"))
        return None
    by_key = {p["key"]: p for p in periods}
    chosen = pick(
        period_col,
        t("col.period"),
        {k: f"{p['label']} ({k})" if p["label"] != k else k for k, p in by_key.items()},
        key=f"{key}_period",
    )
    return by_key[chosen]
