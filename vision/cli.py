"""``python -m vision``: ``run`` (the worker) and ``analyze`` (a video to JSON lines).

    python -m vision run --config CAMERA.yaml [--config more.yaml ...] --api URL --token TOKEN
                         [--outbox PATH] [--loop]
    python -m vision run --api URL --token TOKEN          # configs from the API, refetched
    python -m vision analyze VIDEO --config CAMERA.yaml --output OUT.jsonl

Options override the ``AUDITLENS_VISION_*`` environment (see ``vision.settings``).
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from vision.config import CameraConfig, ConfigError, load_camera_configs
from vision.settings import WorkerSettings

log = logging.getLogger("vision")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m vision", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="Run the worker: cameras → analytics → outbox → API")
    run.add_argument(
        "--config",
        action="append",
        type=Path,
        metavar="CAMERA.yaml",
        help="Camera config file (repeatable); without it the configs come from the API",
    )
    run.add_argument("--api", help="API base URL (env AUDITLENS_VISION_API_URL)")
    run.add_argument("--token", help="Worker token alw_... (env AUDITLENS_VISION_TOKEN)")
    run.add_argument("--outbox", type=Path, help="Outbox SQLite path (env ..._OUTBOX_PATH)")
    run.add_argument("--loop", action="store_true", help="Replay file sources forever")
    run.add_argument("--log-level", help="DEBUG, INFO, WARNING... (env ..._LOG_LEVEL)")

    # The analyze command parses its own arguments (vision/analyze.py); listed here for --help.
    sub.add_parser(
        "analyze",
        help="Analyse a video file into JSON lines (see: python -m vision analyze --help)",
        add_help=False,
    )
    return parser


def _analyze(argv: Sequence[str]) -> int:
    # HOOK: ``vision/analyze.py`` (written separately) provides ``main(argv) -> int``.
    try:
        from vision.analyze import main as analyze_main  # type: ignore[import-not-found,unused-ignore]
    except ImportError as exc:
        if exc.name not in ("vision.analyze", None):
            raise
        print(
            "error: the analyze command is not available in this install "
            "(vision/analyze.py is missing)",
            file=sys.stderr,
        )
        return 2
    result = analyze_main(list(argv))
    return int(result or 0)


def _settings(args: argparse.Namespace) -> WorkerSettings:
    overrides: dict[str, Any] = {}
    if args.api:
        overrides["api_url"] = args.api
    if args.token:
        overrides["token"] = args.token
    if args.outbox:
        overrides["outbox_path"] = args.outbox
    if args.log_level:
        overrides["log_level"] = args.log_level
    return WorkerSettings(**overrides)


def cmd_run(args: argparse.Namespace) -> int:
    settings = _settings(args)
    logging.basicConfig(
        level=settings.log_level.upper(),
        format="%(asctime)s %(levelname)s %(threadName)s %(name)s: %(message)s",
    )
    if logging.getLogger().level > logging.DEBUG:
        logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request otherwise
    configs: list[CameraConfig] | None = None
    if args.config:
        try:
            configs = [c for path in args.config for c in load_camera_configs(path)]
        except ConfigError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    if not settings.token.get_secret_value():
        print(
            "error: no worker token; pass --token alw_... or set AUDITLENS_VISION_TOKEN "
            "(an admin creates one with POST /api/v1/vision/workers)",
            file=sys.stderr,
        )
        return 2

    from vision.client import AuditLensClient
    from vision.outbox import Outbox
    from vision.worker import PipelineUnavailable, Worker, default_pipeline_factory

    try:
        factory = default_pipeline_factory()
    except PipelineUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    stop = threading.Event()

    def _stop(signum: int, _frame: object) -> None:
        log.info("signal %s: stopping (flushing the outbox)", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)

    client = AuditLensClient(
        settings.api_url, settings.token.get_secret_value(), timeout=settings.http_timeout_s
    )
    outbox = Outbox(settings.outbox_path)
    try:
        worker = Worker(
            client=client,
            outbox=outbox,
            settings=settings,
            pipeline_factory=factory,
            configs=configs,
            loop=args.loop,
        )
        worker.run(stop)
    finally:
        outbox.close()
        client.close()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list and args_list[0] == "analyze":
        return _analyze(args_list[1:])
    args = _parser().parse_args(args_list)
    if args.command == "run":
        return cmd_run(args)
    return 2  # argparse already refused anything else
