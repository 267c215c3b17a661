"""The sidebar: language switch, who is logged in and what they see, log out."""

from __future__ import annotations

from typing import Any

import streamlit as st

from dashboard import data
from dashboard.i18n import LANG_KEY, LANGUAGES, default_language, t


def language_switch() -> None:
    """zh-CN / en for every label; the choice survives logging out."""
    st.session_state.setdefault(LANG_KEY, default_language())
    st.sidebar.segmented_control(
        t("sidebar.language"),
        options=list(LANGUAGES),
        format_func=LANGUAGES.__getitem__,
        key=LANG_KEY,
        required=True,
    )


def account(me: dict[str, Any]) -> None:
    with st.sidebar:
        st.divider()
        st.markdown(f"**{me.get('display_name') or me['username']}**")
        st.caption(f"{t('role.' + me['role'])} · {scope_text(me)}")
        if st.button(t("sidebar.logout"), icon=":material/logout:", key="logout"):
            data.logout()
            st.rerun()


def scope_text(me: dict[str, Any]) -> str:
    kind = me.get("scope_kind")
    if me.get("role") == "staff":
        return t("scope.own")
    if kind == "regions":
        names = {r["id"]: r["code"] for r in data.regions()}
        return t("scope.regions", names=", ".join(names.get(i, str(i)) for i in me["region_ids"]))
    if kind == "outlets":
        return t("scope.outlets", n=len(me.get("outlet_ids") or []))
    return t("scope.all")
