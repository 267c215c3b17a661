"""``python -m dashboard.bench``: how long the live overview takes for 500 outlets.

It starts a throwaway API (``python -m audit_service``: migrate, an admin account, serve) on
a temporary SQLite database, builds N outlets with 4 counters and a camera each through the
HTTP API, posts live camera data as a worker would (counter states, queue samples, health,
open findings), and then times:

- ``GET /api/v1/vision/live`` itself (the API's share);
- the overview page in AppTest, logged in as an admin: a cold run (cached reads dropped: the
  API call, the JSON, the render) and warm reruns (what each self-refresh costs within the
  cache TTL);
- the render alone, the page's ``show_live`` fed the same payload (the dashboard's own share).

Like the dashboard, the bench talks to the API only over HTTP. Figures are wall-clock seconds
on this machine (medians); the overview shows every outlet in one table, so the render grows
with rows, not with widgets.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

APP = Path(__file__).resolve().parent / "app.py"
ADMIN = "bench-admin"
PASSWORD = "bench-admin-password-1"  # noqa: S105 - a throwaway local account
COUNTERS = 4


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def api_server(folder: Path) -> Iterator[str]:
    """A fresh API on ``folder``/bench.db (migrated, one admin), until the block ends."""
    port = _free_port()
    env = {
        **os.environ,
        "AUDITLENS_ENVIRONMENT": "development",
        "AUDITLENS_DATABASE_URL": f"sqlite:///{folder / 'bench.db'}",
        "AUDITLENS_EVIDENCE_DIR": str(folder / "evidence"),
        "AUDITLENS_LOG_LEVEL": "WARNING",
        "AUDITLENS_LOG_JSON": "false",
    }
    service = [sys.executable, "-m", "audit_service"]
    subprocess.run([*service, "db", "upgrade"], env=env, check=True, capture_output=True)  # noqa: S603
    subprocess.run(  # noqa: S603
        [*service, "user", "create", "--username", ADMIN, "--role", "admin", "--password-stdin"],
        env=env,
        input=PASSWORD.encode(),
        check=True,
        capture_output=True,
    )
    log = (folder / "api.log").open("wb")
    proc = subprocess.Popen(  # noqa: S603
        [*service, "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the API did not start; see {folder / 'api.log'}")
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=15)
        log.close()


class Api:
    """The admin's HTTP session to the bench API."""

    def __init__(self, url: str) -> None:
        self.http = httpx.Client(base_url=f"{url}/api/v1", timeout=120)
        pair = self.http.post("/auth/token", data={"username": ADMIN, "password": PASSWORD})
        pair.raise_for_status()
        self.pair = pair.json()
        self.http.headers["Authorization"] = f"Bearer {self.pair['access_token']}"

    def send(self, method: str, path: str, body: Any = None) -> Any:
        for attempt in range(5):
            response = self.http.request(method, path, json=body)
            if response.status_code not in (409, 503) or attempt == 4:
                break
            time.sleep(0.2 * (attempt + 1))  # SQLite serialises writers: try again
        if response.is_error:
            raise RuntimeError(f"{method} {path}: {response.status_code} {response.text[:300]}")
        return response.json() if response.content else None


def _rect(x0: float, y0: float, x1: float, y1: float) -> list[list[float]]:
    return [[x0, y0], [x1, y0], [x1, y1], [x0, y1]]


def build_outlets(api: Api, count: int, progress: Callable[[str], None]) -> list[str]:
    """``count`` outlets in 10 regions, each with 4 counters and one camera watching them;
    returns the camera codes."""
    regions = [
        api.send("POST", "/regions", {"code": f"r{n:02d}", "name": f"Region {n:02d}"})["id"]
        for n in range(10)
    ]
    hours = [{"opens": "00:00", "closes": "23:59"}]
    week = {d: hours for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}

    def one(n: int) -> str:
        outlet = api.send(
            "POST",
            "/outlets",
            {
                "region_id": regions[n % len(regions)],
                "code": f"o{n:04d}",
                "name": f"Outlet {n:04d}",
                "timezone": "Asia/Shanghai",
                "opening_hours": week,
            },
        )
        counters = [
            api.send(
                "POST",
                f"/outlets/{outlet['id']}/counters",
                {"code": f"C{k}", "name": f"Counter {k}", "kind": "issuance"},
            )
            for k in range(1, COUNTERS + 1)
        ]
        code = f"o{n:04d}-cam"
        camera = api.send(
            "POST", "/cameras", {"outlet_id": outlet["id"], "code": code, "name": "Hall"}
        )
        width = 1 / COUNTERS
        zones = []
        for k, counter in enumerate(counters):
            x0, x1 = k * width + 0.01, (k + 1) * width - 0.01
            zones.append(
                {
                    "code": f"c{k + 1}-staff",
                    "kind": "counter",
                    "counter_id": counter["id"],
                    "polygon": _rect(x0, 0.1, x1, 0.45),
                }
            )
            zones.append(
                {
                    "code": f"c{k + 1}-queue",
                    "kind": "queue",
                    "counter_id": counter["id"],
                    "polygon": _rect(x0, 0.55, x1, 0.95),
                }
            )
        api.send("PUT", f"/cameras/{camera['id']}/zones", zones)
        return code

    codes: list[str] = []
    with ThreadPoolExecutor(max_workers=4) as pool:
        for n, code in enumerate(pool.map(one, range(count)), start=1):
            codes.append(code)
            if n % 100 == 0 or n == count:
                progress(f"  {n}/{count} outlets")
    return codes


def post_live(api: Api, cameras: list[str]) -> None:
    """What running workers would have sent in the last minutes: every counter's state, a
    queue sample per queue zone, camera health, and a long queue at every 10th outlet."""
    now = datetime.now(UTC)
    states: list[dict[str, Any]] = []
    samples: list[dict[str, Any]] = []
    health: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    for n, camera in enumerate(cameras):
        for k in range(1, COUNTERS + 1):
            unattended = (n + k) % 7 == 0
            states.append(
                {
                    "camera_id": camera,
                    "zone": f"c{k}-staff",
                    "state": "unattended" if unattended else "attended",
                    "since": (now - timedelta(minutes=3 + (n % 40))).isoformat(),
                    "count": 0 if unattended else 1,
                    "t": now.isoformat(),
                }
            )
            samples.append(
                {
                    "camera_id": camera,
                    "zone": f"c{k}-queue",
                    "t": (now - timedelta(seconds=30)).isoformat(),
                    "count": (n * k) % 6,
                    "smoothed": float((n * k) % 6),
                    "wait_s": 45.0 * ((n * k) % 6),
                }
            )
        health.append(
            {
                "camera_id": camera,
                "t": now.isoformat(),
                "online": n % 50 != 0,
                "achieved_fps": 1.9 if n % 13 else 1.2,
                "configured_fps": 2.0,
                "frames_read": 10_000,
                "frames_analysed": 4_000,
            }
        )
        if n % 10 == 0:
            events.append(
                {
                    "id": str(uuid.uuid4()),
                    "phase": "start",
                    "kind": "queue_over_threshold",
                    "camera_id": camera,
                    "zone": "c1-queue",
                    "start": (now - timedelta(minutes=4)).isoformat(),
                    "end": None,
                    "data": {},
                }
            )
    for name, items in (("states", states), ("samples", samples), ("health", health)):
        for i in range(0, len(items), 1000):
            api.send("POST", "/vision/batches", {name: items[i : i + 1000]})
    for i in range(0, len(events), 1000):
        api.send("POST", "/vision/batches", {"events": events[i : i + 1000]})


def _timed(call: Callable[[], Any], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return times


def measure(url: str, api: Api, runs: int) -> dict[str, list[float]]:
    """Seconds per run of: the live read, the overview page cold and warm, the render alone."""
    os.environ["AUDITLENS_API_URL"] = url
    _quiet_streamlit()
    from streamlit.testing.v1 import AppTest

    from dashboard import data

    results: dict[str, list[float]] = {}
    results["api"] = _timed(lambda: api.send("GET", "/vision/live"), runs)

    at = AppTest.from_file(str(APP), default_timeout=600)
    at.session_state["auth"] = {
        "access_token": api.pair["access_token"],
        "refresh_token": api.pair["refresh_token"],
    }
    at.session_state["lang"] = "en"
    at.run()  # imports, component scan, first reads: not what a user waits for each time
    _check(at)

    def cold() -> None:
        data.forget_reads()
        at.run()

    results["cold"] = _timed(cold, runs)
    _check(at)
    results["warm"] = _timed(at.run, runs)
    _check(at)

    view = api.send("GET", "/vision/live")
    outlets = {o["id"]: o for o in api.send("GET", "/outlets")}
    regions = {r["id"]: r["code"] for r in api.send("GET", "/regions")}
    render = AppTest.from_function(_render_only, args=(view, outlets, regions), default_timeout=600)
    render.run()
    results["render"] = _timed(render.run, runs)
    _check(render)
    return results


def _quiet_streamlit() -> None:
    # Outside `streamlit run`, Streamlit warns on every cached call that there is no runtime;
    # the bench reports through print, so warnings and below are switched off.
    import logging

    logging.disable(logging.WARNING)


def _render_only(view, outlets, regions):  # type: ignore[no-untyped-def]
    # AppTest runs this function's source as a script: no annotations it cannot resolve.
    from dashboard.screens.overview import show_live

    show_live(view, outlets, regions)


def _check(at: Any) -> None:
    if at.exception:
        raise RuntimeError(f"the overview failed: {at.exception[0].value}")
    rows = len(at.dataframe[0].value) if at.dataframe else 0
    if rows == 0:
        raise RuntimeError("the overview showed no outlets")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dashboard.bench", description=__doc__)
    parser.add_argument("--outlets", type=int, default=500)
    parser.add_argument("--runs", type=int, default=5, help="timed runs per figure")
    options = parser.parse_args(argv)

    def say(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    with (
        tempfile.TemporaryDirectory(prefix="auditlens-bench-") as tmp,
        api_server(Path(tmp)) as url,
    ):
        api = Api(url)
        say(f"building {options.outlets} outlets through the API at {url} ...")
        start = time.perf_counter()
        cameras = build_outlets(api, options.outlets, say)
        post_live(api, cameras)
        say(f"  built in {time.perf_counter() - start:.0f} s; timing {options.runs} runs each")
        results = measure(url, api, options.runs)

    n = options.outlets
    rows = [
        ("GET /api/v1/vision/live (API only)", results["api"]),
        ("overview page, cold (API + render)", results["cold"]),
        ("overview page, warm (cached reads)", results["warm"]),
        ("overview render alone (payload given)", results["render"]),
    ]
    print(f"Live overview for {n} outlets ({n * COUNTERS} counters), median of {options.runs}:")
    for name, times in rows:
        print(f"  {name:<40} {statistics.median(times):6.3f} s  (min {min(times):.3f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
