"""``python -m dashboard``: serve the dashboard (``streamlit run dashboard/app.py``) on the
configured interface and port, with the options a deployed dashboard wants (no browser opened,
no usage statistics, no developer toolbar, no file watching).

``AUDITLENS_DASHBOARD_HOST`` / ``AUDITLENS_DASHBOARD_PORT`` (or ``--host`` / ``--port``) pick
where; ``AUDITLENS_API_URL`` where the API is. ``make demo`` starts it this way.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from dashboard import settings

APP = Path(__file__).resolve().parent / "app.py"


def streamlit_args(host: str, port: int) -> list[str]:
    """The ``streamlit`` command line (after the program name) that serves the dashboard."""
    return [
        "run",
        str(APP),
        "--server.address",
        host,
        "--server.port",
        str(port),
        "--server.headless",
        "true",
        "--server.fileWatcherType",
        "none",
        "--browser.gatherUsageStats",
        "false",
        "--client.toolbarMode",
        "viewer",
    ]


def main(argv: list[str] | None = None) -> None:
    current = settings.current()
    parser = argparse.ArgumentParser(prog="python -m dashboard", description=__doc__)
    parser.add_argument("--host", default=current.dashboard_host)
    parser.add_argument("--port", type=int, default=current.dashboard_port)
    options = parser.parse_args(argv)

    from streamlit.web import cli

    cli.main(streamlit_args(options.host, options.port), prog_name="streamlit")


if __name__ == "__main__":
    main()
