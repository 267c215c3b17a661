"""The demo organisation, built through the ORM.

Two regional branches of a property-insurance company with six outlets (city and rural), their
counters, about forty staff with team leads and outlet history, two weeks of rosters, cameras with
counter and queue zones, and one account per role. ``seed_demo`` is idempotent: when the first
region already exists it adds nothing and returns the same credentials.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from audit_service.accounts.service import issue_api_token
from audit_service.core.security import encrypt_secret, hash_password
from audit_service.models import (
    Anchor,
    Camera,
    Counter,
    CounterKind,
    Outlet,
    OutletHoursException,
    Region,
    Role,
    ScopeKind,
    Shift,
    ShiftRole,
    Staff,
    StaffAssignment,
    StaffRole,
    User,
    UserOutletScope,
    UserRegionScope,
    WorkerCamera,
    Zone,
    ZoneKind,
)
from audit_service.organisation.hours import WEEKDAYS, intervals_on
from audit_service.workers.service import NO_PASSWORD

TIMEZONE = "Asia/Shanghai"
ROSTER_DAYS = 14
# Counters staffed at the weekend (延时服务): the first issuance and claims counters.
WEEKEND_COUNTERS = 2


def _hours(opens: str, closes: str, *, extended: bool = False) -> dict[str, Any]:
    return {"opens": opens, "closes": closes, "extended": extended}


REGULAR = [_hours("09:00", "17:00")]
# Late service on workdays: the extra hour is marked extended (延时服务).
LATE = [_hours("09:00", "17:00"), _hours("17:00", "18:00", extended=True)]
WEEKEND = [_hours("09:30", "15:30", extended=True)]


def _week(
    weekdays: Sequence[list[dict[str, Any]]],
    sat: list[dict[str, Any]] | None = None,
    sun: list[dict[str, Any]] | None = None,
) -> dict[str, list[dict[str, Any]]]:
    """Weekly hours from five workday lists (Mon-Fri) and optional weekend lists."""
    days = [*weekdays, sat or [], sun or []]
    return dict(zip(WEEKDAYS, days, strict=True))


@dataclass(frozen=True)
class RegionSpec:
    code: str
    name: str
    lead: str  # the responsible leader (分管领导); a staff member at the region's first outlet


@dataclass(frozen=True)
class OutletSpec:
    region: str
    code: str
    name: str
    address: str
    hours: dict[str, list[dict[str, Any]]]
    counters: tuple[CounterKind, ...]
    manager: str
    lobby_manager: str
    clerks: tuple[str, ...]
    # Clerks who moved here from another outlet a month ago: name -> former outlet code.
    moved_from: tuple[tuple[str, str], ...] = ()


ISS, CLM, CON, LOB = (
    CounterKind.issuance,
    CounterKind.claims,
    CounterKind.consultation,
    CounterKind.lobby_desk,
)

REGIONS = (
    RegionSpec("sh", "Shanghai Branch", lead="Zhou Min"),
    RegionSpec("js", "Jiangsu Branch", lead="Xu Jianguo"),
)

OUTLETS = (
    OutletSpec(
        "sh",
        "sh-pudong",
        "Pudong Lujiazui Outlet (陆家嘴网点)",
        "168 Yincheng Middle Rd, Pudong New Area, Shanghai",
        _week([LATE] * 5, sat=WEEKEND),
        (ISS, ISS, CLM, CON, LOB),
        manager="Chen Hao",
        lobby_manager="Lin Xiaoyu",
        clerks=("Wang Fang", "Li Na", "Zhang Wei", "Liu Yang", "Huang Jing"),
    ),
    OutletSpec(
        "sh",
        "sh-xuhui",
        "Xujiahui Outlet (徐家汇网点)",
        "1 Hongqiao Rd, Xuhui District, Shanghai",
        _week([REGULAR] * 5),
        (ISS, CLM, CON, LOB),
        manager="Zhao Lei",
        lobby_manager="Sun Li",
        clerks=("Wu Tingting", "Zheng Kai", "Ma Lin", "Hu Xin", "Guo Jie"),
    ),
    OutletSpec(
        "sh",
        "sh-chongming",
        "Chongming Chengqiao Rural Outlet (城桥网点)",
        "88 Renmin Rd, Chengqiao Town, Chongming District, Shanghai",
        _week([REGULAR] * 5),
        (ISS, CLM, LOB),
        manager="Qin Fei",
        lobby_manager="Lu Yan",
        clerks=("He Yun", "Gao Peng", "Luo Qiang"),
        moved_from=(("Luo Qiang", "sh-xuhui"),),
    ),
    OutletSpec(
        "js",
        "js-suzhou-sip",
        "Suzhou Industrial Park Outlet (园区网点)",
        "9 Suzhou Ave East, Suzhou Industrial Park, Suzhou",
        _week([LATE] * 5, sat=WEEKEND, sun=WEEKEND),
        (ISS, ISS, CLM, CON, LOB),
        manager="Shen Yan",
        lobby_manager="Qian Lu",
        clerks=("Jiang Hui", "Cao Yi", "Tang Jun", "Feng Xue", "Han Bo"),
    ),
    OutletSpec(
        "js",
        "js-nanjing-xjk",
        "Nanjing Xinjiekou Outlet (新街口网点)",
        "18 Zhongshan South Rd, Qinhuai District, Nanjing",
        _week([REGULAR] * 4 + [LATE]),
        (ISS, CLM, CON, LOB),
        manager="Deng Wen",
        lobby_manager="Xie Mei",
        clerks=("Song Tao", "Tian Rui", "Peng Lei", "Yuan Jia"),
    ),
    OutletSpec(
        "js",
        "js-kunshan-zz",
        "Kunshan Zhouzhuang Rural Outlet (周庄网点)",
        "26 Quanfu Rd, Zhouzhuang Town, Kunshan",
        _week([REGULAR] * 5),
        (ISS, CLM, CON),
        manager="Pan Hong",
        lobby_manager="Du Juan",
        clerks=("Ye Chen", "Wei Dong", "Jin Yu", "Cheng Lu"),
    ),
)

COUNTER_LABELS = {
    CounterKind.issuance: "Policy issuance (出单)",
    CounterKind.claims: "Claims help (协赔)",
    CounterKind.consultation: "Consultation (咨询)",
    CounterKind.lobby_desk: "Lobby desk (大堂)",
}
# Customer wait allowed in each kind of counter's queue (s).
WAIT_SLA_S = {
    CounterKind.issuance: 600.0,
    CounterKind.claims: 900.0,
    CounterKind.consultation: 300.0,
    CounterKind.lobby_desk: 120.0,
}


@dataclass(frozen=True)
class DemoLogin:
    username: str
    password: str
    role: Role
    scope: str  # what the account sees, in words


@dataclass(frozen=True)
class DemoCredentials:
    logins: tuple[DemoLogin, ...]
    created: bool  # False when the organisation was already there

    def password(self, username: str) -> str:
        return next(x.password for x in self.logins if x.username == username)


STAFF_ACCOUNT_CLERK = "Wang Fang"  # the clerk the staff-role demo account belongs to

DEMO_LOGINS = (
    DemoLogin("admin", "admin-demo-pass", Role.admin, "all outlets"),
    DemoLogin("supervisor", "supervisor-demo-pass", Role.supervisor, "region sh (Shanghai Branch)"),
    DemoLogin("auditor", "auditor-demo-pass", Role.auditor, "all outlets"),
    DemoLogin("hr", "hr-demo-pass", Role.hr, "region sh (Shanghai Branch)"),
    DemoLogin(
        "staff",
        "staff-demo-pass",
        Role.staff,
        f"own records ({STAFF_ACCOUNT_CLERK}, clerk at sh-pudong)",
    ),
)


def roster_start(now: datetime, tz: str = TIMEZONE) -> date:
    """The first rostered local date: the Monday of the week before ``now``'s week."""
    today = now.astimezone(ZoneInfo(tz)).date()
    return today - timedelta(days=today.weekday() + 7)


def seed_demo(session: Session, *, now: datetime, secret_key: str) -> DemoCredentials:
    """Build the demo organisation unless it exists; flushes, the caller commits.

    ``secret_key`` is the service secret: camera stream URLs are stored encrypted with it.
    """
    if now.tzinfo is None:
        raise ValueError("seed_demo needs a tz-aware 'now'")
    if session.scalar(select(Region).where(Region.code == REGIONS[0].code)) is not None:
        return DemoCredentials(DEMO_LOGINS, created=False)

    today = now.astimezone(ZoneInfo(TIMEZONE)).date()
    regions = {spec.code: Region(code=spec.code, name=spec.name) for spec in REGIONS}
    session.add_all(regions.values())
    session.flush()

    outlets: dict[str, Outlet] = {}
    for spec in OUTLETS:
        outlet = Outlet(
            region_id=regions[spec.region].id,
            code=spec.code,
            name=spec.name,
            address=spec.address,
            timezone=TIMEZONE,
            opening_hours=spec.hours,
        )
        outlet.counters = [
            Counter(code=f"C{i}", name=f"C{i} - {COUNTER_LABELS[kind]}", kind=kind)
            for i, kind in enumerate(spec.counters, start=1)
        ]
        session.add(outlet)
        outlets[spec.code] = outlet
    session.flush()

    start = roster_start(now)
    exceptions = _add_hours_exceptions(session, outlets, today, start)
    people = _add_staff(session, outlets, today)
    _add_shifts(session, outlets, exceptions, people, start)
    _add_cameras(session, outlets, secret_key)
    _add_sample_camera(session, outlets[OUTLETS[0].code], secret_key)
    _add_accounts(session, regions, people, now)
    return DemoCredentials(DEMO_LOGINS, created=True)


def _add_hours_exceptions(
    session: Session, outlets: dict[str, Outlet], today: date, start: date
) -> dict[str, dict[date, list[dict[str, Any]] | None]]:
    """A public holiday for all, plus a refit day and a training morning inside the roster
    that starts on ``start``. Returns each outlet's exceptions as ``intervals_on`` takes them."""
    per_outlet: dict[str, dict[date, tuple[list[dict[str, Any]] | None, str]]] = {
        code: {date(today.year + 1, 1, 1): (None, "New Year's Day (元旦)")} for code in outlets
    }
    per_outlet["sh-xuhui"][start + timedelta(days=9)] = (
        None,
        "Closed for SI brand refit (形象升级)",
    )
    per_outlet["js-nanjing-xjk"][start + timedelta(days=3)] = (
        [_hours("09:00", "12:00")],
        "Afternoon service training (服务培训)",
    )
    result: dict[str, dict[date, list[dict[str, Any]] | None]] = {}
    for code, days in per_outlet.items():
        for day, (intervals, note) in sorted(days.items()):
            session.add(
                OutletHoursException(
                    outlet_id=outlets[code].id,
                    day=day,
                    closed=intervals is None,
                    intervals=intervals or [],
                    note=note,
                )
            )
        result[code] = {day: intervals for day, (intervals, _) in days.items()}
    session.flush()
    return result


@dataclass
class _People:
    by_name: dict[str, Staff]
    managers: dict[str, Staff]  # outlet code -> outlet manager
    lobby_managers: dict[str, Staff]
    clerks: dict[str, list[Staff]]  # outlet code -> current clerks, in rota order


def _add_staff(session: Session, outlets: dict[str, Outlet], today: date) -> _People:
    people = _People({}, {}, {}, {})
    serial = dict.fromkeys((r.code for r in REGIONS), 1000)
    moved_from = {name: former for spec in OUTLETS for name, former in spec.moved_from}
    moved_on = today - timedelta(days=30)

    def hire(name: str, role: StaffRole, outlet: Outlet, region: str, lead: Staff | None) -> Staff:
        serial[region] += 1
        # Hire dates between six months and about seven years ago, spread deterministically.
        active_from = today - timedelta(days=180 + (len(people.by_name) * 137) % 2400)
        staff = Staff(
            employee_no=f"{region.upper()}{serial[region]}",
            name=name,
            role=role,
            outlet_id=outlet.id,
            team_lead_id=lead.id if lead else None,
            active_from=active_from,
        )
        if name in moved_from:
            # As a transfer records it: valid_to is the last day at the former outlet.
            staff.assignments = [
                StaffAssignment(
                    outlet_id=outlets[moved_from[name]].id,
                    role=role,
                    valid_from=active_from,
                    valid_to=moved_on - timedelta(days=1),
                ),
                StaffAssignment(outlet_id=outlet.id, role=role, valid_from=moved_on),
            ]
        else:
            staff.assignments = [
                StaffAssignment(outlet_id=outlet.id, role=role, valid_from=active_from)
            ]
        session.add(staff)
        session.flush()
        people.by_name[name] = staff
        return staff

    leads = {}
    for region in REGIONS:
        first = next(o for o in OUTLETS if o.region == region.code)
        leads[region.code] = hire(
            region.lead, StaffRole.other, outlets[first.code], region.code, None
        )
    for spec in OUTLETS:
        outlet = outlets[spec.code]
        manager = hire(
            spec.manager, StaffRole.outlet_manager, outlet, spec.region, leads[spec.region]
        )
        lobby = hire(spec.lobby_manager, StaffRole.lobby_manager, outlet, spec.region, manager)
        # Large outlets: clerks report to the lobby manager; small ones to the outlet manager.
        clerk_lead = lobby if len(spec.clerks) >= 5 else manager
        people.managers[spec.code] = manager
        people.lobby_managers[spec.code] = lobby
        people.clerks[spec.code] = [
            hire(name, StaffRole.counter_clerk, outlet, spec.region, clerk_lead)
            for name in spec.clerks
        ]
    return people


def _blocks(intervals: list[tuple[Any, Any, bool]]) -> list[tuple[Any, Any]]:
    """Contiguous opening intervals merged: 09:00-17:00 + 17:00-18:00 is one shift."""
    merged: list[list[Any]] = []
    for opens, closes, _ in sorted(intervals):
        if merged and opens <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], closes)
        else:
            merged.append([opens, closes])
    return [(a, b) for a, b in merged]


def _add_shifts(
    session: Session,
    outlets: dict[str, Outlet],
    exceptions: dict[str, dict[date, list[dict[str, Any]] | None]],
    people: _People,
    start: date,
) -> None:
    """Two weeks from ``start``: clerks rotate through the counters (the spare ones are off),
    the lobby manager covers workdays and the outlet manager the weekend lobby duty."""
    for spec in OUTLETS:
        outlet = outlets[spec.code]
        tz = ZoneInfo(outlet.timezone)
        service_counters = [c for c in outlet.counters if c.kind is not CounterKind.lobby_desk]
        clerks = people.clerks[spec.code]
        open_day = 0
        for offset in range(ROSTER_DAYS):
            day = start + timedelta(days=offset)
            blocks = _blocks(intervals_on(day, outlet.opening_hours, exceptions[spec.code]))
            if not blocks:
                continue
            weekend = day.weekday() >= 5
            counters = service_counters[:WEEKEND_COUNTERS] if weekend else service_counters
            lobby = people.managers[spec.code] if weekend else people.lobby_managers[spec.code]
            for opens, closes in blocks:
                starts = datetime.combine(day, opens, tz).astimezone(UTC)
                ends = datetime.combine(day, closes, tz).astimezone(UTC)
                session.add(
                    Shift(
                        staff_id=lobby.id,
                        outlet_id=outlet.id,
                        counter_id=None,
                        role=ShiftRole.lobby_manager,
                        starts_at=starts,
                        ends_at=ends,
                    )
                )
                for j, counter in enumerate(counters):
                    clerk = clerks[(j + open_day) % len(clerks)]
                    session.add(
                        Shift(
                            staff_id=clerk.id,
                            outlet_id=outlet.id,
                            counter_id=counter.id,
                            role=ShiftRole.counter,
                            starts_at=starts,
                            ends_at=ends,
                        )
                    )
            open_day += 1
    session.flush()


def _add_cameras(session: Session, outlets: dict[str, Outlet], secret_key: str) -> None:
    """One camera for up to four counters, two for more. On each, zones side by side: the
    counter's staff side above, its customer queue below, in relative (0-1) frame coordinates."""
    for o_index, spec in enumerate(OUTLETS, start=1):
        outlet = outlets[spec.code]
        counters = list(outlet.counters)
        per_camera = 3 if len(counters) > 4 else 4
        groups = [counters[i : i + per_camera] for i in range(0, len(counters), per_camera)]
        for cam_no, group in enumerate(groups, start=1):
            url = (
                f"rtsp://auditlens:cam{o_index}{cam_no}-demo@10.{o_index}.0.{20 + cam_no}"
                ":554/Streaming/Channels/101"
            )
            camera = Camera(
                outlet_id=outlet.id,
                code=f"{spec.code}-cam-{cam_no}",
                name=f"Counter hall, view {cam_no} of {len(groups)}",
                stream_url_encrypted=encrypt_secret(secret_key, url),
                analysis_fps=2.0,
                blur_faces=True,
            )
            width = 1.0 / len(group)
            for k, counter in enumerate(group):
                x0, x1 = round(k * width + 0.02, 3), round((k + 1) * width - 0.02, 3)
                code = counter.code.lower()
                camera.zones.append(
                    Zone(
                        code=f"{code}-staff",
                        kind=ZoneKind.counter,
                        counter_id=counter.id,
                        polygon=_rect(x0, 0.10, x1, 0.45),
                        anchor=Anchor.center,
                        min_presence_s=2.0,
                        unattended_after_s=120.0,
                    )
                )
                camera.zones.append(
                    Zone(
                        code=f"{code}-queue",
                        kind=ZoneKind.queue,
                        counter_id=counter.id,
                        polygon=_rect(x0, 0.55, x1, 0.95),
                        anchor=Anchor.bottom_center,
                        max_queue=5,
                        wait_sla_s=WAIT_SLA_S[counter.kind],
                    )
                )
            session.add(camera)
    session.flush()


SAMPLE_CAMERA_SOURCE = "sample:worker-zone-detection.gif"  # bundled with vision/samples
DEMO_WORKER = "demo-vision-worker"


def sample_camera_code(outlet_code: str = "") -> str:
    return f"{outlet_code or OUTLETS[0].code}-cam-sample"


def _add_sample_camera(session: Session, outlet: Outlet, secret_key: str) -> None:
    """A camera that replays the bundled sample clip, so the demo's live state moves: each 4.3 s
    loop a person starts at the staff side of counter C1 (right) and walks into its queue area
    (left), so the counter flips attended -> unattended (with a snapshot) and the queue shows a
    growing wait."""
    counter = outlet.counters[0]
    camera = Camera(
        outlet_id=outlet.id,
        code=sample_camera_code(outlet.code),
        name="Sample clip replay (Intel, CC BY 4.0)",
        stream_url_encrypted=encrypt_secret(secret_key, SAMPLE_CAMERA_SOURCE),
        analysis_fps=4.0,  # the clip lasts 4.3 s: sample it often enough to see each visit
        blur_faces=True,
    )
    camera.zones.append(
        Zone(
            code="c1-staff-sample",
            kind=ZoneKind.counter,
            counter_id=counter.id,
            polygon=_rect(0.5, 0.1, 0.95, 1.0),
            anchor=Anchor.center,
            min_presence_s=0.2,
            unattended_after_s=1.0,
        )
    )
    camera.zones.append(
        Zone(
            code="c1-queue-sample",
            kind=ZoneKind.queue,
            counter_id=counter.id,
            polygon=_rect(0.1, 0.3, 0.5, 1.0),
            anchor=Anchor.bottom_center,
            max_queue=1,
            wait_sla_s=2.0,
        )
    )
    session.add(camera)
    session.flush()


def demo_worker_token(session: Session, *, now: datetime) -> str | None:
    """A fresh API token for the demo's vision worker, which may read only the sample camera
    (earlier tokens are revoked). None when the database has no sample camera."""
    camera = session.scalar(select(Camera).where(Camera.code == sample_camera_code()))
    if camera is None:
        return None
    user = session.scalar(select(User).where(User.username == DEMO_WORKER))
    if user is None:
        user = User(
            username=DEMO_WORKER,
            display_name="Demo vision worker (sample clip)",
            password_hash=NO_PASSWORD,
            role=Role.worker,
            scope_kind=ScopeKind.outlets,
            password_changed_at=now,
            created_at=now,
            updated_at=now,
        )
        user.outlet_scopes = [UserOutletScope(outlet_id=camera.outlet_id)]
        session.add(user)
        session.flush()
        session.add(WorkerCamera(user_id=user.id, camera_id=camera.id))
        session.flush()
    return issue_api_token(session, user, name="make demo", now=now)


def _rect(x0: float, y0: float, x1: float, y1: float) -> list[list[float]]:
    return [[x0, y0], [x1, y0], [x1, y1], [x0, y1]]


def _add_accounts(
    session: Session,
    regions: dict[str, Region],
    people: _People,
    now: datetime,
) -> None:
    clerk = people.by_name[STAFF_ACCOUNT_CLERK]
    for login in DEMO_LOGINS:
        if session.scalar(select(User).where(User.username == login.username)) is not None:
            continue  # an account made before the demo keeps its password
        user = User(
            username=login.username,
            display_name=f"Demo {login.role.value}",
            password_hash=hash_password(login.password),
            role=login.role,
            scope_kind=ScopeKind.all,
            password_changed_at=now,
        )
        if login.role in (Role.supervisor, Role.hr):
            user.scope_kind = ScopeKind.regions
            user.region_scopes = [UserRegionScope(region_id=regions["sh"].id)]
        elif login.role is Role.staff:
            user.display_name = clerk.name
            user.staff_id = clerk.id
            user.scope_kind = ScopeKind.outlets
            user.outlet_scopes = [UserOutletScope(outlet_id=clerk.outlet_id)]
        session.add(user)
    session.flush()
