"""Log in against the API (``POST /api/v1/auth/token``); the tokens stay in this session."""

from __future__ import annotations

import streamlit as st

from dashboard import data
from dashboard.api import ApiError, RateLimited, Unauthorized
from dashboard.i18n import t
from dashboard.views.errors import show


def render() -> None:
    st.title(t("login.title"))
    st.caption(t("login.subtitle"))
    flash = st.session_state.pop(data.FLASH_KEY, None)
    if flash:
        st.warning(flash, icon=":material/schedule:")
    with st.form("login", border=True):
        username = st.text_input(t("login.username"), key="login_username")
        password = st.text_input(t("login.password"), type="password", key="login_password")
        submitted = st.form_submit_button(t("login.submit"), type="primary")
    if not submitted:
        return
    if not username or not password:
        st.error(t("login.missing"))
        return
    try:
        data.login(username.strip(), password)
    except RateLimited as exc:
        st.error(t("login.locked", detail=exc.detail))
        return
    except Unauthorized:
        st.error(t("login.failed"))
        return
    except ApiError as exc:
        show(exc)
        return
    st.rerun()


if __name__ == "__main__":
    render()
