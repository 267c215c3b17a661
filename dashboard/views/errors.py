"""One guard for API failures, around every page and every self-refreshing fragment."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st

from dashboard import data
from dashboard.api import ApiError, ApiUnavailable, Forbidden, NotFound, RateLimited
from dashboard.i18n import t


@contextmanager
def shown_errors() -> Iterator[None]:
    """Turn API failures into messages. An expired login returns to the login page (the
    whole app reruns, also from inside a fragment)."""
    try:
        yield
    except data.SessionExpired:
        data.expire(t("login.expired"))
        st.rerun(scope="app")
    except ApiError as exc:
        show(exc)


def show(exc: ApiError) -> None:
    """An API failure in words, with what the API said."""
    if isinstance(exc, ApiUnavailable):
        st.error(t("error.unavailable", detail=exc.detail), icon=":material/cloud_off:")
    elif isinstance(exc, Forbidden):
        st.warning(t("error.forbidden", detail=exc.detail), icon=":material/lock:")
    elif isinstance(exc, NotFound):
        st.warning(t("error.not_found", detail=exc.detail), icon=":material/search_off:")
    elif isinstance(exc, RateLimited):
        st.warning(t("error.rate_limited", detail=exc.detail), icon=":material/timer:")
    else:
        st.error(t("error.api", status=exc.status, detail=exc.detail), icon=":material/error:")
