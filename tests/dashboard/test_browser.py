"""The dashboard in a real (headless) Chromium, served by ``python -m dashboard`` (``streamlit
run``) beside the API as ``make demo`` runs them: log in, open every page from the sidebar,
switch language, log out. Each page is checked for Streamlit's exception block; screenshots of
every page at desktop size and of the overview at tablet size go to tests/artifacts/dashboard/
(gitignored).

The browser run uses the demo's database backend (SQLite; the first configured one otherwise):
it checks what the browser renders, while the AppTest suite (test_pages.py) covers every page's
data path on each backend."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import BACKENDS
from tests.dashboard.world import PASSWORDS, World

try:
    from playwright.sync_api import expect

    expect.set_options(timeout=30_000)
except ImportError:  # the `chromium` fixture says what is missing (fails in CI, skips elsewhere)
    expect = None  # type: ignore[assignment]

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts" / "dashboard"
DESKTOP = {"width": 1440, "height": 900}
TABLET = {"width": 820, "height": 1180}
SUPERVISOR_PAGES = [
    ("overview", "Live overview"),
    ("outlet", "Outlet detail"),
    ("audits", "Audits"),
    ("actions", "Corrective actions"),
    ("performance", "Staff performance"),
    ("cross_check", "Cross-check"),
    ("cameras", "Cameras"),
]


def settle(page: Any) -> None:
    """Wait until the script run (and any fragment run) is over, then check for exceptions."""
    app = page.locator('[data-testid="stApp"]')
    expect(app).to_have_attribute("data-test-script-state", "notRunning")
    expect(page.locator('[data-testid="stStatusWidget"]')).to_have_count(0)
    assert page.locator('[data-testid="stException"]').count() == 0, page.locator(
        '[data-testid="stException"]'
    ).first.inner_text()


def shot(page: Any, world: World, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{world.backend}-{name}.png"), full_page=True)


def log_in(page: Any, url: str, username: str, first_title: str) -> None:
    page.goto(url)
    expect(page.get_by_role("textbox", name="Username")).to_be_visible()
    settle(page)
    page.get_by_role("textbox", name="Username").fill(username)
    page.get_by_role("textbox", name="Password").fill(PASSWORDS[username])
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name=first_title, level=1)).to_be_visible()
    settle(page)


def open_from_sidebar(page: Any, title: str) -> None:
    page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name=title).click()
    expect(page.get_by_role("heading", name=title, level=1)).to_be_visible()
    settle(page)


def live_reads(world: World) -> float:
    """How many times the API answered GET /vision/live (its Prometheus counter)."""
    text = httpx.get(f"{world.url}/metrics", timeout=30).text
    pattern = r'auditlens_http_requests_total\{[^}]*route="/api/v1/vision/live"[^}]*\} (\S+)'
    return sum(float(m) for m in re.findall(pattern, text))


DEMO_BACKEND = "sqlite" if "sqlite" in BACKENDS else BACKENDS[0]


@pytest.mark.parametrize("world", [DEMO_BACKEND], indirect=True)
def test_every_page_in_chromium(world: World, dashboard_url: str, chromium: Any) -> None:
    world.report_live()
    for old in ARTIFACTS.glob(f"{world.backend}-*.png"):
        old.unlink()
    # A browser far from the outlets: charts must still show Shanghai wall-clock times.
    context = chromium.new_context(viewport=DESKTOP, locale="en-US", timezone_id="Europe/Berlin")
    page = context.new_page()
    try:
        _desktop(page, world, dashboard_url)
    except BaseException:
        shot(page, world, "failure-desktop")  # what the page showed when the test gave up
        raise
    finally:
        context.close()

    tablet = chromium.new_context(viewport=TABLET, locale="en-US", is_mobile=True, has_touch=True)
    page = tablet.new_page()
    try:
        log_in(page, dashboard_url, "supervisor", "Live overview")
        expect(page.get_by_text("sh-pudong · Pudong Lujiazui Outlet").first).to_be_attached()
        shot(page, world, "overview-tablet")
    except BaseException:
        shot(page, world, "failure-tablet")
        raise
    finally:
        tablet.close()


def _desktop(page: Any, world: World, dashboard_url: str) -> None:
    """Every page as a supervisor, both languages, then a staff member's only page."""
    page.goto(dashboard_url)
    expect(page.get_by_role("textbox", name="Username")).to_be_visible()
    settle(page)
    shot(page, world, "login-desktop")

    log_in(page, dashboard_url, "supervisor", "Live overview")
    pudong = page.get_by_text("sh-pudong · Pudong Lujiazui Outlet").first
    expect(pudong).to_be_attached()  # a cell of the grid (drawn on a canvas: not "visible")
    # The live tiles refresh themselves (st.fragment run_every): the API sees new reads
    # while nobody touches the page.
    before = live_reads(world)
    for _ in range(120):
        page.wait_for_timeout(500)
        if live_reads(world) > before:
            break
    assert live_reads(world) > before, "the overview did not refresh itself"
    settle(page)
    for key, title in SUPERVISOR_PAGES:
        open_from_sidebar(page, title)
        shot(page, world, f"{key}-desktop")
    # From the overview's outlet to its detail, on the day of the camera data.
    open_from_sidebar(page, "Live overview")
    page.get_by_role("button", name="Open outlet detail").click()
    expect(page.get_by_role("heading", name="Outlet detail", level=1)).to_be_visible()
    settle(page)
    page.get_by_role("tab", name="Attendance").click()
    settle(page)
    shot(page, world, "outlet-attendance-desktop")

    open_from_sidebar(page, "Live overview")
    page.locator('[data-testid="stSidebar"]').get_by_text("中文", exact=True).click()
    expect(page.get_by_role("heading", name="实时总览", level=1)).to_be_visible()
    settle(page)
    expect(page.locator('[data-testid="stSidebarNav"]').get_by_text("员工绩效")).to_be_visible()
    shot(page, world, "overview-zh-desktop")
    page.locator('[data-testid="stSidebar"]').get_by_text("English", exact=True).click()
    expect(page.get_by_role("heading", name="Live overview", level=1)).to_be_visible()
    settle(page)

    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("textbox", name="Username")).to_be_visible()
    settle(page)

    log_in(page, dashboard_url, "staff", "My performance")
    nav = page.locator('[data-testid="stSidebarNav"]')
    assert nav.count() == 0 or nav.get_by_role("link").count() == 1
    shot(page, world, "my_performance-desktop")
