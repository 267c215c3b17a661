"""``auditlens demo`` (``make demo``): migrate, seed, print how to get in, then serve.

The API runs in this process. Other demo parts (a vision worker replaying a clip, the dashboard)
are ``DemoProcess`` entries from ``demo_processes``: started as child processes beside the API
and stopped when it stops (Ctrl-C or SIGTERM).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from audit_service.config import ServiceSettings
from audit_service.core import migrate
from audit_service.core.clock import system_clock
from audit_service.core.db import make_engine, make_sessionmaker, session_scope
from audit_service.demo.audits import seed_audits
from audit_service.demo.performance import seed_performance
from audit_service.demo.seed import (
    DemoCredentials,
    demo_worker_token,
    sample_camera_code,
    seed_demo,
)
from audit_service.evidence.store import make_store
from audit_service.models import (
    Audit,
    Camera,
    ChecklistTemplate,
    CorrectiveAction,
    Counter,
    Dispute,
    Outlet,
    QueueWait,
    Region,
    Shift,
    Staff,
    VisionEvent,
    Visit,
)

RULE = "=" * 88


@dataclass(frozen=True)
class DemoProcess:
    """A process the demo runs beside the API."""

    name: str
    argv: Sequence[str]
    url: str | None = None  # shown in the banner when the process serves something
    description: str | None = None  # shown in the banner when it has no URL
    env: dict[str, str] = field(default_factory=dict)  # added to this process's environment


def demo_processes(
    settings: ServiceSettings, api_url: str, *, worker_token: str | None = None
) -> list[DemoProcess]:
    """The processes started beside the API: the dashboard, and a vision worker replaying the
    bundled sample clip (when there is a token for it)."""
    dashboard = _dashboard_process(settings, api_url)
    processes: list[DemoProcess] = [dashboard] if dashboard else []
    if worker_token:
        outbox = Path(settings.evidence_dir).resolve().parent / "demo-vision-outbox.db"
        processes.append(
            DemoProcess(
                name="Vision worker",
                argv=[sys.executable, "-m", "vision", "run", "--loop", "--api", api_url],
                description=f"replays the sample clip on camera {sample_camera_code()}",
                # The token goes through the environment, not argv, which `ps` shows to everyone.
                env={
                    "AUDITLENS_VISION_TOKEN": worker_token,
                    "AUDITLENS_VISION_OUTBOX_PATH": str(outbox),
                    "YOLO_OFFLINE": "1",
                },
            )
        )
    return processes


def _dashboard_process(settings: ServiceSettings, api_url: str) -> DemoProcess | None:
    """The Streamlit dashboard (``python -m dashboard``) on the API's interface, at
    AUDITLENS_DASHBOARD_PORT (default 8501), reading the demo API. None without Streamlit
    (the API-only install, ``pip install .``)."""
    import importlib.util

    if importlib.util.find_spec("streamlit") is None:
        return None
    from dashboard.settings import DashboardSettings

    port = DashboardSettings().dashboard_port
    host = settings.api_host
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host  # noqa: S104
    return DemoProcess(
        name="Dashboard",
        argv=[sys.executable, "-m", "dashboard", "--host", host, "--port", str(port)],
        url=f"http://{shown}:{port}",
        env={"AUDITLENS_API_URL": api_url, "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false"},
    )


def start_processes(processes: Sequence[DemoProcess]) -> list[subprocess.Popen[bytes]]:
    started: list[subprocess.Popen[bytes]] = []
    try:
        for proc in processes:
            started.append(subprocess.Popen(list(proc.argv), env={**os.environ, **proc.env}))  # noqa: S603
    except BaseException:
        stop_processes(started)
        raise
    return started


def stop_processes(started: Sequence[subprocess.Popen[bytes]], *, timeout_s: float = 10.0) -> None:
    """Ask every child to stop (SIGTERM), then kill any still running after ``timeout_s``."""
    for child in started:
        if child.poll() is None:
            child.terminate()
    for child in started:
        try:
            child.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


class _Stop(Exception):
    """SIGTERM arrived: leave the server loop and clean up like Ctrl-C does."""


def _raise_stop(signum: int, frame: FrameType | None) -> None:
    raise _Stop


def run_demo(
    settings: ServiceSettings,
    *,
    host: str | None = None,
    port: int | None = None,
    serve: bool = True,
) -> int:
    """Migrate, seed the demo organisation, print the banner and (unless ``serve`` is False)
    run the API with the extra demo processes until Ctrl-C or SIGTERM. Returns an exit code."""
    if settings.environment == "production":
        print(
            "auditlens demo: refusing to seed well-known demo passwords with "
            "AUDITLENS_ENVIRONMENT=production; use a development database.",
            file=sys.stderr,
        )
        return 2
    host = host or settings.api_host
    port = port or settings.api_port
    shown_host = "127.0.0.1" if host in ("0.0.0.0", "::") else host  # noqa: S104
    api_url = f"http://{shown_host}:{port}"
    # The local evidence store builds its URLs from these: keep them in step with the server.
    settings = settings.model_copy(
        update={"api_host": host, "api_port": port, "public_url": settings.public_url or api_url}
    )
    migrate.upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    try:
        with session_scope(make_sessionmaker(engine)) as session:
            credentials = seed_demo(
                session, now=system_clock(), secret_key=settings.secret_key.get_secret_value()
            )
            seed_audits(session, make_store(settings), now=system_clock())
            seed_performance(session, now=system_clock())
            counts = _counts(session)
            worker_token = demo_worker_token(session, now=system_clock()) if serve else None
    finally:
        engine.dispose()

    extras = demo_processes(settings, api_url, worker_token=worker_token) if serve else []
    print(banner(settings, api_url, credentials, counts, extras, serving=serve), flush=True)
    if not serve:
        return 0
    return _serve(settings, extras)


def _serve(settings: ServiceSettings, extras: Sequence[DemoProcess]) -> int:
    import uvicorn

    from audit_service.app import create_app

    previous = signal.signal(signal.SIGTERM, _raise_stop)
    started: list[subprocess.Popen[bytes]] = []
    try:
        started = start_processes(extras)
        # uvicorn handles SIGINT/SIGTERM itself and re-raises the signal once it has stopped.
        uvicorn.run(
            create_app(settings), host=settings.api_host, port=settings.api_port, log_config=None
        )
    except (KeyboardInterrupt, _Stop):
        pass
    finally:
        stop_processes(started)
        signal.signal(signal.SIGTERM, previous)
    return 0


def _counts(session: Session) -> dict[str, int]:
    models = {
        "regions": Region,
        "outlets": Outlet,
        "counters": Counter,
        "cameras": Camera,
        "staff": Staff,
        "shifts": Shift,
        "checklists": ChecklistTemplate,
        "visits": Visit,
        "audits": Audit,
        "corrective actions": CorrectiveAction,
        "camera findings": VisionEvent,
        "queue waits": QueueWait,
        "disputes": Dispute,
    }
    return {
        name: int(session.scalar(select(func.count()).select_from(model)) or 0)
        for name, model in models.items()
    }


def _describe_database(url: str) -> str:
    shown = make_url(url).render_as_string(hide_password=True)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        shown += f"  ({Path(str(parsed.database)).resolve()})"
    return shown


def _describe_evidence(settings: ServiceSettings) -> str:
    if settings.evidence_backend == "s3":
        scheme = "https" if settings.s3_secure else "http"
        return f"S3 bucket '{settings.s3_bucket}' at {scheme}://{settings.s3_endpoint}"
    return f"local folder {Path(settings.evidence_dir).resolve()}"


def banner(
    settings: ServiceSettings,
    api_url: str,
    credentials: DemoCredentials,
    counts: dict[str, int],
    extras: Sequence[DemoProcess] = (),
    *,
    serving: bool = True,
) -> str:
    """The text ``auditlens demo`` prints: where everything is and how to log in."""
    org = ", ".join(f"{n} {name}" for name, n in counts.items())
    state = "seeded just now" if credentials.created else "already present; nothing added"
    lines = [
        RULE,
        " AuditLens demo",
        RULE,
        f" API           {api_url}",
        f" OpenAPI docs  {api_url}/docs  (schema: {api_url}/openapi.json)",
        f" Database      {_describe_database(settings.database_url)}",
        f" Evidence      {_describe_evidence(settings)}",
        f" Organisation  {org}",
        f"               ({state})",
    ]
    lines += [
        f" {proc.name:<13} {proc.url or proc.description}"
        for proc in extras
        if proc.url or proc.description
    ]
    width = max(len(x.username) for x in credentials.logins) + 2
    pw_width = max(len(x.password) for x in credentials.logins) + 2
    lines += [
        "",
        " Demo logins (well-known passwords: for this demo only)",
        f"   {'username':<{width}}{'password':<{pw_width}}{'role':<12}scope",
    ]
    lines += [
        f"   {x.username:<{width}}{x.password:<{pw_width}}{x.role.value:<12}{x.scope}"
        for x in credentials.logins
    ]
    first = credentials.logins[0]
    lines += [
        "",
        f" Try:  curl -s -X POST {api_url}/api/v1/auth/token "
        f"-d username={first.username} -d password={first.password}",
    ]
    lines += [
        f" Open:  {proc.url} in a browser and log in as supervisor (or any login above)"
        for proc in extras
        if proc.name == "Dashboard" and proc.url
    ]
    if not credentials.created:
        lines.append(" (Passwords changed since the first seed keep their new value.)")
    lines.append(
        " Stop with Ctrl-C."
        if serving
        else " Not serving (--no-serve). Start the API with: auditlens serve"
    )
    lines.append(RULE)
    return "\n".join(lines)
