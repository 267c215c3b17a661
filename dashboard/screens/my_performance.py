"""My performance (staff role): one's own score, trend, decomposition and findings
(``GET /api/v1/performance/me``), with a way to dispute a finding."""

from __future__ import annotations

import streamlit as st

from dashboard import data
from dashboard.i18n import t
from dashboard.views.periods import period_picker
from dashboard.views.person import show_person


def render() -> None:
    st.title(t("page.my_performance"))
    period = period_picker("mine")
    if period is None:
        return
    detail = data.read("/performance/me", period=period["key"])
    show_person(detail, key="mine", can_dispute=data.can("dispute:raise"))


if __name__ == "__main__":
    render()
