"""``auditlens``: database migrations, accounts, roster import, the API server and the demo."""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from audit_service.config import ServiceSettings, get_settings
from audit_service.core.errors import AuditLensError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


@contextmanager
def _unit_of_work(settings: ServiceSettings) -> Iterator[Session]:
    """One committed-or-rolled-back session; the engine (and its connections) closed after."""
    from audit_service.core.db import make_engine, make_sessionmaker, session_scope

    engine = make_engine(settings.database_url)
    try:
        with session_scope(make_sessionmaker(engine)) as session:
            yield session
    finally:
        engine.dispose()


def _read_password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        # Strip the line ending only (CRLF too, from Windows pipes); spaces are part of it.
        return sys.stdin.readline().rstrip("\r\n")
    if args.password:
        return args.password
    first = getpass.getpass("New password: ")
    if first != getpass.getpass("Repeat: "):
        raise SystemExit("passwords differ; nothing changed")
    return first


def cmd_db(args: argparse.Namespace, settings: ServiceSettings) -> int:
    from audit_service.core import migrate

    if args.action == "upgrade":
        migrate.upgrade(settings.database_url, args.revision or "head")
    else:
        migrate.downgrade(settings.database_url, args.revision or "base")
    target = args.revision or ("head" if args.action == "upgrade" else "base")
    print(f"database {args.action}d to {target}")
    return 0


def cmd_user(args: argparse.Namespace, settings: ServiceSettings) -> int:
    from sqlalchemy import select

    from audit_service.accounts import service
    from audit_service.accounts.schemas import UserCreate
    from audit_service.core.clock import system_clock
    from audit_service.models import Outlet, Region, Staff

    with _unit_of_work(settings) as session:
        if args.action == "create":
            region_ids = [_id_for(session, Region, c, "region") for c in args.regions]
            outlet_ids = [_id_for(session, Outlet, c, "outlet") for c in args.outlets]
            staff_id = None
            if args.staff:
                staff = session.scalar(select(Staff).where(Staff.employee_no == args.staff))
                if staff is None:
                    raise SystemExit(f"--staff: no staff member with employee number {args.staff}")
                staff_id = staff.id
            kind = "regions" if region_ids else "outlets" if outlet_ids else "all"
            try:
                data = UserCreate(
                    username=args.username,
                    display_name=args.display_name or args.username,
                    password=_read_password(args),
                    role=args.role,
                    scope_kind=kind,
                    region_ids=region_ids,
                    outlet_ids=outlet_ids,
                    staff_id=staff_id,
                )
            except ValueError as exc:
                raise SystemExit(f"invalid account: {exc}") from exc
            user = service.create_user(session, data, now=system_clock())
            print(f"created user '{user.username}' (role {user.role.value}, scope {kind})")
        else:
            user = service.reset_password_by_username(
                session, args.username, _read_password(args), now=system_clock()
            )
            print(f"password of '{user.username}' reset; all its logins are revoked")
    return 0


def _id_for(session, model, code: str, what: str) -> int:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    row = session.scalar(select(model).where(model.code == code))
    if row is None:
        raise SystemExit(f"unknown {what} code '{code}'")
    return int(row.id)


def cmd_roster(args: argparse.Namespace, settings: ServiceSettings) -> int:
    from audit_service.core.clock import system_clock
    from audit_service.roster import service

    path = Path(args.file)
    if not path.is_file():
        print(f"error: roster file '{path}' does not exist", file=sys.stderr)
        return 2
    with _unit_of_work(settings) as session:
        # The same checks as an HTTP upload: size, encoding, spreadsheet files, then rows.
        report = service.import_roster_upload(
            session, None, path.read_bytes(), dry_run=args.dry_run, now=system_clock()
        )
        print(report.model_dump_json(indent=2))
        if not report.ok:
            session.rollback()
            return 1
    return 0


def cmd_serve(args: argparse.Namespace, settings: ServiceSettings) -> int:
    import uvicorn

    from audit_service.app import create_app

    host = args.host or settings.api_host
    port = args.port or settings.api_port
    print(
        f"AuditLens API on http://{host}:{port}  (OpenAPI: http://{host}:{port}/docs)", flush=True
    )
    uvicorn.run(
        create_app(settings),
        host=host,
        port=port,
        log_config=None,
        proxy_headers=True,
        forwarded_allow_ips=settings.forwarded_allow_ips,
    )
    return 0


def cmd_demo(args: argparse.Namespace, settings: ServiceSettings) -> int:
    from audit_service.demo.runner import run_demo

    return run_demo(settings, host=args.host, port=args.port, serve=not args.no_serve)


def cmd_roles(args: argparse.Namespace, settings: ServiceSettings) -> int:
    from audit_service.authz import permission_table

    print(permission_table())
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="auditlens", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)

    db = sub.add_parser("db", help="database migrations")
    db.add_argument("action", choices=["upgrade", "downgrade"])
    db.add_argument("revision", nargs="?", default=None)
    db.set_defaults(func=cmd_db)

    user = sub.add_parser("user", help="create accounts or reset passwords")
    usub = user.add_subparsers(dest="action", required=True)
    create = usub.add_parser("create")
    create.add_argument("--username", required=True)
    create.add_argument(
        "--role", required=True, choices=["admin", "supervisor", "auditor", "hr", "staff"]
    )
    create.add_argument("--display-name", default="")
    create.add_argument(
        "--region",
        dest="regions",
        action="append",
        default=[],
        help="scope to this region code (repeatable)",
    )
    create.add_argument(
        "--outlet",
        dest="outlets",
        action="append",
        default=[],
        help="scope to this outlet code (repeatable)",
    )
    create.add_argument("--staff", help="employee number of the linked staff record")
    reset = usub.add_parser("reset-password")
    reset.add_argument("--username", required=True)
    for sp in (create, reset):
        sp.add_argument("--password", help="the password (prefer the prompt or --password-stdin)")
        sp.add_argument("--password-stdin", action="store_true")
    user.set_defaults(func=cmd_user)

    roster = sub.add_parser("roster", help="roster import")
    rsub = roster.add_subparsers(dest="action", required=True)
    imp = rsub.add_parser("import", help="import shifts from CSV (all rows or none)")
    imp.add_argument("file")
    imp.add_argument("--dry-run", action="store_true", help="check and report, store nothing")
    roster.set_defaults(func=cmd_roster)

    serve = sub.add_parser("serve", help="run the API")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.set_defaults(func=cmd_serve)

    demo = sub.add_parser("demo", help="migrate, seed a demo organisation and serve it")
    demo.add_argument("--host")
    demo.add_argument("--port", type=int)
    demo.add_argument("--no-serve", action="store_true", help="seed only")
    demo.set_defaults(func=cmd_demo)

    roles = sub.add_parser("roles", help="print the role table (Markdown)")
    roles.set_defaults(func=cmd_roles)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = get_settings()
    except ValueError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    try:
        return int(args.func(args, settings) or 0)
    except AuditLensError as exc:
        print(f"error: {exc.detail}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
