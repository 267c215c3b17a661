"""Opening evidence (snapshots, audit photos): always with a purpose, always through the API.

The API logs every view (who, when, why) before it mints a short-lived URL
(``POST /api/v1/evidence/{id}/view-url``), so the dashboard asks for the purpose first and
mints only when the user confirms. The browser then loads the image from that URL directly.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import streamlit as st

from dashboard import data
from dashboard.formatting import instant
from dashboard.i18n import t

URLS_KEY = "evidence_urls"  # evidence id -> {"url", "expires_at"} minted in this session
MIN_PURPOSE = 5  # the API's minimum
MARGIN = timedelta(seconds=20)  # re-mint a URL about to expire rather than show a dead image


def can_view() -> bool:
    return data.can("evidence:view")


def minted(evidence_id: str) -> str | None:
    """A still-valid URL minted earlier in this session for this evidence, if any."""
    entry = st.session_state.get(URLS_KEY, {}).get(str(evidence_id))
    if not entry:
        return None
    expires = instant(entry["expires_at"])
    if expires is None or expires - MARGIN <= datetime.now(UTC):
        return None
    return str(entry["url"])


def mint(evidence_id: str, purpose: str) -> str:
    """Mint (and log) a view URL for one evidence item."""
    answer: dict[str, Any] = data.change(
        "POST", f"/evidence/{evidence_id}/view-url", {"purpose": purpose}, forget=False
    )
    st.session_state.setdefault(URLS_KEY, {})[str(evidence_id)] = {
        "url": answer["url"],
        "expires_at": answer["expires_at"],
    }
    return str(answer["url"])


def purpose_prompt(key: str, count: int) -> str | None:
    """Ask why the evidence is being opened; the purpose once confirmed, else None."""
    with st.form(f"{key}_purpose_form", border=True):
        purpose = st.text_input(
            t("evidence.purpose"),
            key=f"{key}_purpose",
            placeholder=t("evidence.purpose_hint"),
            help=t("evidence.purpose_help"),
        )
        confirmed = st.form_submit_button(t("evidence.open", n=count), icon=":material/visibility:")
    if not confirmed:
        return None
    purpose = purpose.strip()
    if len(purpose) < MIN_PURPOSE:
        st.error(t("evidence.purpose_short", n=MIN_PURPOSE))
        return None
    return purpose


def gallery(evidence_ids: list[str], *, key: str, captions: list[str] | None = None) -> None:
    """The images of these evidence items, after the purpose prompt for any not yet open."""
    ids = [str(i) for i in evidence_ids]
    if not ids:
        return
    if not can_view():
        st.caption(t("evidence.no_permission"))
        return
    closed = [i for i in ids if minted(i) is None]
    if closed:
        purpose = purpose_prompt(key, len(closed))
        if purpose is not None:
            for evidence_id in closed:
                mint(evidence_id, purpose)
    urls = [minted(i) for i in ids]
    shown = [(u, (captions or ids)[n]) for n, u in enumerate(urls) if u]
    if shown:
        st.image([u for u, _ in shown], caption=[c for _, c in shown], width=360)
        st.caption(t("evidence.logged"))
