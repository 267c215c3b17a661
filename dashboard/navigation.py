"""Which pages an account gets: from its role and the permissions the API reports for it.

The API decides what each role may read (``GET /auth/me`` lists the permissions); the
dashboard only hides pages whose reads would be refused anyway, and keeps each page to the
audience the product defines (the live overview is a supervisor's tool; a staff member sees
only their own performance).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

EVERY_ROLE = frozenset({"admin", "supervisor", "auditor", "hr", "staff"})


@dataclass(frozen=True)
class PageSpec:
    key: str  # also the i18n key of the title: "page.<key>"
    script: str  # relative to dashboard/app.py
    icon: str
    needs: frozenset[str]  # every one of these permissions
    roles: frozenset[str] = EVERY_ROLE


PAGES: tuple[PageSpec, ...] = (
    PageSpec(
        "overview",
        "screens/overview.py",
        ":material/monitoring:",
        frozenset({"vision:read"}),
        frozenset({"admin", "supervisor"}),
    ),
    PageSpec(
        "outlet",
        "screens/outlet.py",
        ":material/storefront:",
        frozenset({"vision:read", "org:read"}),
        frozenset({"admin", "supervisor"}),
    ),
    PageSpec("audits", "screens/audits.py", ":material/fact_check:", frozenset({"audit:read"})),
    PageSpec(
        "actions",
        "screens/actions.py",
        ":material/build:",
        frozenset({"action:read"}),
        frozenset({"admin", "supervisor", "hr"}),
    ),
    PageSpec(
        "performance", "screens/performance.py", ":material/leaderboard:", frozenset({"score:read"})
    ),
    PageSpec(
        "my_performance",
        "screens/my_performance.py",
        ":material/person:",
        frozenset({"score:own"}),
        frozenset({"staff"}),
    ),
    PageSpec(
        "cross_check", "screens/cross_check.py", ":material/compare:", frozenset({"score:read"})
    ),
    PageSpec(
        "cameras",
        "screens/cameras.py",
        ":material/videocam:",
        frozenset({"camera:read", "vision:read"}),
        frozenset({"admin", "supervisor"}),
    ),
)


def pages_for(role: str, permissions: Iterable[str]) -> list[PageSpec]:
    """The pages of an account, in menu order."""
    held = set(permissions)
    return [p for p in PAGES if role in p.roles and p.needs <= held]


def pages_of(me: dict[str, Any]) -> list[PageSpec]:
    """The pages of the account ``GET /auth/me`` describes."""
    return pages_for(str(me["role"]), me.get("permissions") or ())
