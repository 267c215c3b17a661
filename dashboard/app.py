"""The dashboard's entry point: ``streamlit run dashboard/app.py``.

Logged out, the only page is the login. Logged in, ``st.navigation`` gets the pages the
account's role and permissions allow (``dashboard.navigation``), and every page runs inside
one error guard: an expired login goes back to the login page with a message, an API that
cannot be reached or refuses says so in words, never as a traceback.
"""

from __future__ import annotations

import streamlit as st

from dashboard import data
from dashboard.i18n import t
from dashboard.navigation import pages_of
from dashboard.views import sidebar
from dashboard.views.errors import shown_errors

st.set_page_config(page_title="AuditLens", page_icon=":material/visibility:", layout="wide")


def main() -> None:
    sidebar.language_switch()
    if not data.logged_in():
        login = st.Page("screens/login.py", title=t("page.login"), icon=":material/login:")
        st.navigation([login], position="hidden").run()
        return

    me = None
    with shown_errors():
        me = data.me()
    if me is None:
        st.stop()

    specs = pages_of(me)
    pages = [
        st.Page(spec.script, title=t(f"page.{spec.key}"), icon=spec.icon, url_path=spec.key)
        for spec in specs
    ] or [st.Page("screens/no_pages.py", title=t("page.no_pages"), icon=":material/block:")]
    page = st.navigation(pages, position="sidebar")
    sidebar.account(me)
    with shown_errors():
        page.run()


main()
