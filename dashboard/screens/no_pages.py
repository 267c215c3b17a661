"""For an account whose role has no page here (e.g. a vision worker)."""

from __future__ import annotations

import streamlit as st

from dashboard.i18n import t

if __name__ == "__main__":
    st.title(t("page.no_pages"))
    st.info(t("no_pages.body"))
